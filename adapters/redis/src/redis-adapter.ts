import { defineAdapter } from '@engram/core';
import { createRedisVectorStore, type RedisVectorStoreOptions } from './redis-vector-store.js';

/** Lets configuration name this adapter (`redis`); settings come from `options` and the environment. */
export const engramAdapter = defineAdapter({
  kind: 'vector',
  name: 'redis',
  description: 'Redis Stack (RediSearch) vector and full-text index',
  create: ({ options }) => createRedisVectorStore((options ?? {}) as RedisVectorStoreOptions),
});
