export { engramAdapter } from './milvus-adapter.js';
export {
  metadataField,
  metadataNullPaths,
  milvusFilterOperators,
  milvusJsonPath,
  milvusStringLiteral,
  nullPathsField,
  translateMilvusFilter,
} from './milvus-filter.js';
export type {
  MilvusIndexOptions,
  MilvusVectorStore,
  MilvusVectorStoreOptions,
} from './milvus-vector-store.js';
export { createMilvusVectorStore } from './milvus-vector-store.js';
