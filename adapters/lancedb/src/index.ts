export { engramAdapter } from './lancedb-adapter.js';
export type { LanceDBFlattenedMetadata, LanceDBMetadataColumnKind } from './lancedb-filter.js';
export {
  flattenLanceDBMetadata,
  lanceDBMetadataColumn,
  translateLanceDBFilter,
} from './lancedb-filter.js';
export type {
  LanceDBOptimizeOptions,
  LanceDBVectorStore,
  LanceDBVectorStoreOptions,
} from './lancedb-vector-store.js';
export { createLanceDBVectorStore, defaultLanceDBUri } from './lancedb-vector-store.js';
