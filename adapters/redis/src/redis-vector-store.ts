import type { VectorStore } from '@engram/core';
import {
  createRedisCompatibleVectorStore,
  type FtCommandClient,
  type RedisCompatibleDialect,
} from '@engram/redis-compatible';
import { RESP_TYPES } from 'redis';
import {
  createRedisConnection,
  isRetryableRedisError,
  type RedisCommandClient,
  type RedisConnectionOptions,
} from './redis-connection.js';

export type { RedisCommandClient } from './redis-connection.js';

/** Options of {@link createRedisVectorStore}: a client, or how to reach the server. */
export interface RedisVectorStoreOptions extends RedisConnectionOptions {
  /**
   * A connected node-redis client (`await createClient({ url }).connect()`), on a server with the
   * query engine (Redis 8, or Redis Stack). The store does not close a client it was given.
   */
  client?: RedisCommandClient;
  /**
   * Prefix of every key and index name, so several applications can share one database.
   * Default `engram`: collection `memories` is index `engram:idx:memories` over keys
   * `engram:memories:<id>`.
   */
  keyPrefix?: string;
  /** Timeout of each query engine command in milliseconds (RediSearch `TIMEOUT`). Default 30,000. */
  queryTimeoutMs?: number;
  /**
   * Candidate list size of an HNSW vector query (`EF_RUNTIME`), raised to `topK` when that is
   * larger: higher finds the true nearest neighbours more often and costs more per query.
   * Default 50: the engines' own default, 10, found 84% of the true top 10 among 100k
   * vectors of 384 dimensions in our benchmark, 50 found all of them for 0.5 ms more per query.
   */
  efRuntime?: number;
}

/** RediSearch has full-text fields and `FT.TAGVALS`: every capability. */
export const redisDialect: RedisCompatibleDialect = {
  source: 'redis',
  fullText: true,
  tagValues: true,
};

/** Command option that returns bulk strings as Buffers, so vectors arrive as their bytes. */
const binaryReplies = { typeMapping: { [RESP_TYPES.BLOB_STRING]: Buffer } };

function commandClient(client: RedisCommandClient): FtCommandClient {
  return {
    send: (args, options) => client.sendCommand(args, options?.binary ? binaryReplies : undefined),
    async transaction(commands) {
      const transaction = client.multi();
      for (const command of commands) transaction.addCommand(command);
      const result = await transaction.exec();
      return Array.isArray(result) ? result : null;
    },
  };
}

/**
 * Creates a {@link VectorStore} on Redis with the query engine (Redis 8, or Redis Stack 7.2+):
 * each collection is a RediSearch index over HASH keys with an HNSW cosine vector field, a TEXT
 * field for BM25 and TAG fields for scope and metadata. The client is connected on first use.
 */
export function createRedisVectorStore(options: RedisVectorStoreOptions = {}): VectorStore {
  const connection = createRedisConnection(options);
  return createRedisCompatibleVectorStore({
    dialect: redisDialect,
    connect: async () => commandClient(options.client ?? (await connection.client())),
    close: () => connection.close(),
    isRetryable: isRetryableRedisError,
    ...(options.keyPrefix === undefined ? {} : { keyPrefix: options.keyPrefix }),
    ...(options.queryTimeoutMs === undefined ? {} : { queryTimeoutMs: options.queryTimeoutMs }),
    ...(options.efRuntime === undefined ? {} : { efRuntime: options.efRuntime }),
  });
}
