export type { RedisFilter, RedisFilterContext } from '@engram/redis-compatible';
export { translateRedisFilter } from '@engram/redis-compatible';
export { engramAdapter } from './redis-adapter.js';
export type { RedisCommandClient, RedisVectorStoreOptions } from './redis-vector-store.js';
export { createRedisVectorStore } from './redis-vector-store.js';
