import type {
  ElasticsearchCompatibleClient,
  Refresh,
  SearchBody,
} from './elasticsearch-compatible-client.js';
import type {
  BasicAuth,
  ElasticsearchCompatibleClientConnection,
} from './elasticsearch-compatible-connection.js';
import type { ResponseReader } from './elasticsearch-compatible-errors.js';
import type { ElasticsearchCompatibleQuery } from './elasticsearch-compatible-filter.js';
import type { ElasticsearchCompatibleMapping } from './elasticsearch-compatible-mapping.js';

/** What a k-NN search is built from. */
export interface VectorQueryOptions {
  /** The query vector. */
  vector: number[];
  /** How many neighbours to return. */
  topK: number;
  /** Scope and filter, `match_all` when there is neither. */
  filter: ElasticsearchCompatibleQuery;
}

/** What a vendor client must have for the store to release it. */
export interface ClosableClient {
  /** Closes the client's connections. */
  close(): Promise<unknown>;
}

/**
 * What one engine gives {@link createElasticsearchCompatibleVectorStore}: its names, vector
 * mapping and k-NN query, and how to reach its client.
 */
export type ElasticsearchCompatibleDialect<VendorClient extends ClosableClient> =
  ElasticsearchCompatibleEngine<VendorClient> & ElasticsearchCompatibleAuthentication<VendorClient>;

/** The engine's names, vector mapping and k-NN query, and its client calls. */
export interface ElasticsearchCompatibleEngine<VendorClient> {
  /** The adapter name, also the error prefix, e.g. `elasticsearch`. */
  provider: string;
  /** The engine's name in messages, e.g. `Elasticsearch`. */
  productName: string;
  /** Prefix of the environment variables of the connection settings, e.g. `ELASTICSEARCH`. */
  environmentPrefix: string;
  /** How the engine maps the vector field. */
  mapping: ElasticsearchCompatibleMapping;
  /** The k-NN part of a search body (`size` and `_source` are added). */
  vectorQuery(options: VectorQueryOptions): SearchBody;
  /** A client the caller gave: used as it is, never closed by the store. */
  client?: VendorClient | undefined;
  /** The store's calls over the vendor client. */
  calls(client: VendorClient): ElasticsearchCompatibleClient;
  /** How the client's errors expose the engine's answer; default `readResponseError`. */
  readResponse?: ResponseReader;
}

/**
 * How the engine creates a client when none was given: from the connection settings worked out
 * from the options and the environment, on first use (the factory does no I/O). The store closes
 * the client it created.
 */
export type ElasticsearchCompatibleAuthentication<VendorClient> =
  | {
      /** The engine takes an API key (`apiKey`, `<prefix>_API_KEY`) as well as basic auth. */
      apiKeys: true;
      /** Creates a client. */
      createClient(connection: ElasticsearchCompatibleClientConnection): VendorClient;
    }
  | {
      /** The engine takes basic auth only. */
      apiKeys?: false;
      /** Creates a client. */
      createClient(connection: ElasticsearchCompatibleClientConnection<BasicAuth>): VendorClient;
    };

/** The store options every engine of the family shares, besides the connection settings. */
export interface ElasticsearchCompatibleStoreOptions {
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
   * (reads may miss the write for up to the refresh interval). Deletes by scope or filter
   * refresh at once unless this is `false`.
   */
  refresh?: Refresh;
}
