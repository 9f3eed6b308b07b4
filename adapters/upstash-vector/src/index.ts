export { engramAdapter } from './upstash-vector-adapter.js';
export { isRetryableUpstashVectorError, toUpstashVectorError } from './upstash-vector-errors.js';
export type {
  UpstashVectorFilterFields,
  UpstashVectorFilterTranslation,
} from './upstash-vector-filter.js';
export {
  translateUpstashVectorFilter,
  upstashVectorFilterFields,
  upstashVectorFilterOperators,
} from './upstash-vector-filter.js';
export type {
  UpstashVectorMetadata,
  UpstashVectorStoreOptions,
} from './upstash-vector-vector-store.js';
export { createUpstashVectorStore } from './upstash-vector-vector-store.js';
