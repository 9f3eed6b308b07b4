import type { Client, ClientOptions } from '@elastic/elasticsearch';

/** Options of `createElasticsearchVectorStore`. Give a prebuilt `client`, or connection settings. */
export interface ElasticsearchVectorStoreOptions {
  /**
   * A client to use instead of creating one. The store never closes it; connection settings
   * below are then ignored.
   */
  client?: Client;
  /**
   * Elasticsearch URL, or several nodes of one cluster. Default: `ELASTICSEARCH_URL`, else
   * `http://localhost:9200`.
   */
  url?: string | string[];
  /** API key (the encoded form). Default: `ELASTICSEARCH_API_KEY`. Takes precedence over basic auth. */
  apiKey?: string;
  /** Basic-auth user. Default: `ELASTICSEARCH_USERNAME`. */
  username?: string;
  /** Basic-auth password. Default: `ELASTICSEARCH_PASSWORD`. */
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
   * number_of_replicas: 0 }`. Default: the cluster's defaults.
   */
  indexSettings?: Record<string, unknown>;
  /**
   * How writes wait for visibility: `'wait_for'` (default) returns once the change is searchable,
   * `true` refreshes at once (faster for tests, costly under load), `false` returns immediately
   * (reads may miss the write for up to the refresh interval).
   */
  refresh?: 'wait_for' | boolean;
  /**
   * Candidates each shard considers in a k-NN query; more is slower and closer to exact. Default
   * `max(100, 10 × topK)`, never below `topK`, at most 10,000 (Elasticsearch's limit).
   */
  numCandidates?: number;
}
