import type {
  ElasticsearchCompatibleConnectionOptions,
  ElasticsearchCompatibleStoreOptions,
} from '@engram/elasticsearch-compatible';
import type { Client, ClientOptions } from '@opensearch-project/opensearch';

/**
 * Options of `createOpenSearchVectorStore`. Give a prebuilt `client`, or connection settings
 * (`url`, `username`, `password`, read from `OPENSEARCH_URL`, `OPENSEARCH_USERNAME` and
 * `OPENSEARCH_PASSWORD` when not given). Index settings always get `index.knn`.
 */
export interface OpenSearchVectorStoreOptions
  extends Omit<ElasticsearchCompatibleConnectionOptions, 'apiKey'>,
    ElasticsearchCompatibleStoreOptions {
  /**
   * A client to use instead of creating one (for example one signing requests with
   * `AwsSigv4Signer` for Amazon OpenSearch Service). The store never closes it; connection
   * settings are then ignored.
   */
  client?: Client;
  /**
   * More client settings (TLS, timeouts, retries, compression), passed to `new Client()` as they
   * are; `node` and `auth` come from the connection settings.
   */
  clientOptions?: Omit<ClientOptions, 'node' | 'nodes' | 'auth'>;
  /**
   * Size of the HNSW candidate queue of a k-NN query (`method_parameters.ef_search`, OpenSearch
   * 2.16 and later); more is slower and closer to exact. Default: not sent, so the Lucene engine
   * uses `topK`.
   */
  efSearch?: number;
  /**
   * Candidates the k-NN query gathers (its `k`) before the best `topK` are returned (its `size`).
   * Default: the larger of 100 and ten times `topK`, at most 10,000.
   */
  numCandidates?: number;
}
