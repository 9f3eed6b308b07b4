import type { Client, ClientOptions } from '@opensearch-project/opensearch';

/** Options of `createOpenSearchVectorStore`. Give a prebuilt `client`, or connection settings. */
export interface OpenSearchVectorStoreOptions {
  /**
   * A client to use instead of creating one (for example one signing requests with
   * `AwsSigv4Signer` for Amazon OpenSearch Service). The store never closes it; connection
   * settings below are then ignored.
   */
  client?: Client;
  /**
   * OpenSearch URL, or several nodes of one cluster. Default: `OPENSEARCH_URL`, else
   * `http://localhost:9200`.
   */
  url?: string | string[];
  /** Basic-auth user. Default: `OPENSEARCH_USERNAME`. */
  username?: string;
  /** Basic-auth password. Default: `OPENSEARCH_PASSWORD`. */
  password?: string;
  /**
   * More client settings (TLS, timeouts, retries, compression), passed to `new Client()` as they
   * are; `node` and `auth` come from the options above.
   */
  clientOptions?: Omit<ClientOptions, 'node' | 'nodes' | 'auth'>;
  /**
   * Prefix of the index name of each collection (`<prefix><collection>`), to share a cluster
   * between applications. Default: none.
   */
  indexPrefix?: string;
  /**
   * Index settings used when a collection is created, e.g. `{ number_of_shards: 1,
   * number_of_replicas: 0 }`; `index.knn` is always set. Default: the cluster's defaults.
   */
  indexSettings?: Record<string, unknown>;
  /**
   * How writes wait for visibility: `'wait_for'` (default) returns once the change is searchable,
   * `true` refreshes at once (faster for tests, costly under load), `false` returns immediately
   * (reads may miss the write for up to the refresh interval). Deletes by scope or filter
   * (`_delete_by_query`) refresh at once unless this is `false`.
   */
  refresh?: 'wait_for' | boolean;
  /**
   * Size of the HNSW candidate queue of a k-NN query (`method_parameters.ef_search`, OpenSearch
   * 2.16 and later); more is slower and closer to exact. Default: not sent, so the Lucene engine
   * uses `topK`.
   */
  efSearch?: number;
}
