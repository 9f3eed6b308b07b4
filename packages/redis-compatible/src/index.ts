export type { FtCommandClient } from './redis-compatible-commands.js';
export {
  createIndexCommand,
  encodeName,
  hashFields,
  isUnknownIndex,
  keywordTextField,
  keywordTextFillKey,
  prefixPattern,
  searchResults,
  toRecord,
} from './redis-compatible-commands.js';
export type { MetadataTags, RedisFilter, RedisFilterContext } from './redis-compatible-filter.js';
export {
  andQueries,
  hex,
  metadataTags,
  needsValueTags,
  scalarTag,
  translateRedisFilter,
} from './redis-compatible-filter.js';
export type {
  RedisCompatibleDialect,
  RedisCompatibleVectorStoreOptions,
} from './redis-compatible-vector-store.js';
export {
  createRedisCompatibleVectorStore,
  redisCompatibleFilterOperators,
} from './redis-compatible-vector-store.js';
