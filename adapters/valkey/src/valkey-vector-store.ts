import type { VectorStore } from '@engram/core';
import {
  createRedisCompatibleVectorStore,
  type RedisCompatibleDialect,
} from '@engram/redis-compatible';
import {
  createValkeyConnection,
  glideCommandClient,
  isRetryableValkeyError,
  type ValkeyConnectionOptions,
  type ValkeyGlideClient,
} from './valkey-connection.js';

/** Options of {@link createValkeyVectorStore}: a client, or how to reach the server. */
export interface ValkeyVectorStoreOptions extends ValkeyConnectionOptions {
  /**
   * A standalone Valkey GLIDE client (`await GlideClient.createClient({ addresses, protocol:
   * ProtocolVersion.RESP2 })`: the store reads RESP2 reply shapes) on a server with the
   * valkey-search module. The store does not close a client it was given.
   */
  client?: ValkeyGlideClient;
  /**
   * Prefix of every key and index name, so several applications can share one database.
   * Default `engram`: collection `memories` is index `engram:idx:memories` over keys
   * `engram:memories:<id>`.
   */
  keyPrefix?: string;
  /** Timeout of each search command in milliseconds (`TIMEOUT`). Default 30,000. */
  queryTimeoutMs?: number;
  /**
   * Candidate list size of an HNSW vector query (`EF_RUNTIME`), raised to `topK` when that is
   * larger: higher finds the true nearest neighbours more often and costs more per query.
   * Default 50: the engines' own default, 10, found 84% of the true top 10 among 100k
   * vectors of 384 dimensions in our benchmark, 50 found all of them for 0.5 ms more per query.
   */
  efRuntime?: number;
}

/**
 * valkey-search as the store uses it: vector and TAG fields (no TEXT fields, which only recent
 * valkey-search releases have) and no `FT.TAGVALS`, so keyword search runs in the engine and
 * ranges and substring `contains` are declared unsupported.
 */
export const valkeyDialect: RedisCompatibleDialect = {
  source: 'valkey',
  fullText: false,
  tagValues: false,
  noKeywordSearch:
    'The Valkey store indexes no full-text field; query with a vector (the engine ranks keywords itself).',
};

/**
 * Creates a {@link VectorStore} on Valkey with the valkey-search module (as in the
 * valkey/valkey-bundle image): each collection is an index over HASH keys with an HNSW cosine
 * vector field and TAG fields for scope and metadata, queried with `FT.SEARCH` KNN with the scope
 * and filter inside the search. The client is connected on first use.
 */
export function createValkeyVectorStore(options: ValkeyVectorStoreOptions = {}): VectorStore {
  const connection = createValkeyConnection(options);
  return createRedisCompatibleVectorStore({
    dialect: valkeyDialect,
    connect: async () => glideCommandClient(options.client ?? (await connection.client())),
    close: () => connection.close(),
    isRetryable: isRetryableValkeyError,
    ...(options.keyPrefix === undefined ? {} : { keyPrefix: options.keyPrefix }),
    ...(options.queryTimeoutMs === undefined ? {} : { queryTimeoutMs: options.queryTimeoutMs }),
    ...(options.efRuntime === undefined ? {} : { efRuntime: options.efRuntime }),
  });
}
