import type { Client, ClientOptions } from '@elastic/elasticsearch';
import type {
  ElasticsearchCompatibleConnectionOptions,
  ElasticsearchCompatibleStoreOptions,
} from '@engram/elasticsearch-compatible';

/**
 * Options of `createElasticsearchVectorStore`. Give a prebuilt `client`, or connection settings
 * (`url`, `apiKey`, `username`, `password`, read from `ELASTICSEARCH_URL`,
 * `ELASTICSEARCH_API_KEY`, `ELASTICSEARCH_USERNAME` and `ELASTICSEARCH_PASSWORD` when not given).
 */
export interface ElasticsearchVectorStoreOptions
  extends ElasticsearchCompatibleConnectionOptions,
    ElasticsearchCompatibleStoreOptions {
  /**
   * A client to use instead of creating one. The store never closes it; connection settings
   * are then ignored.
   */
  client?: Client;
  /**
   * More client settings (TLS, timeouts, retries, compression), passed to `new Client()` as they
   * are; `node` and `auth` come from the connection settings.
   */
  clientOptions?: Omit<ClientOptions, 'node' | 'nodes' | 'auth'>;
  /**
   * Candidates each shard considers in a k-NN query; more is slower and closer to exact. Default
   * `max(100, 10 × topK)`, never below `topK`, at most 10,000 (Elasticsearch's limit).
   */
  numCandidates?: number;
}
