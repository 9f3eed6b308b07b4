export { engramAdapter } from './weaviate-adapter.js';
export type { WeaviateFilter, WeaviateFilterSchema } from './weaviate-filter.js';
export { translateWeaviateFilter } from './weaviate-filter.js';
export type { WeaviateVectorStoreOptions } from './weaviate-vector-store.js';
export { createWeaviateVectorStore } from './weaviate-vector-store.js';
