export { engramAdapter } from './redis-adapter.js';
export type { RedisFilter, RedisFilterContext } from './redis-filter.js';
export { translateRedisFilter } from './redis-filter.js';
export type { RedisCommandClient, RedisVectorStoreOptions } from './redis-vector-store.js';
export { createRedisVectorStore } from './redis-vector-store.js';
