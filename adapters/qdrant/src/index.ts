export { engramAdapter } from './qdrant-adapter.js';
export { isRetryableQdrantError, toQdrantError } from './qdrant-errors.js';
export type {
  QdrantCondition,
  QdrantFilter,
  QdrantFilterFields,
  QdrantFilterTranslation,
} from './qdrant-filter.js';
export {
  qdrantFilterFields,
  qdrantFilterOperators,
  translateQdrantFilter,
} from './qdrant-filter.js';
export { qdrantPointId } from './qdrant-payload.js';
export type { QdrantVectorStoreOptions } from './qdrant-vector-store.js';
export { createQdrantVectorStore } from './qdrant-vector-store.js';
