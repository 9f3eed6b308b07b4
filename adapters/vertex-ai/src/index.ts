export { engramAdapter } from './vertex-ai-adapter.js';
export { isRetryableVertexAiError, toVertexAiError } from './vertex-ai-errors.js';
export type {
  VertexAiFilter,
  VertexAiNumericRestrict,
  VertexAiRestrict,
} from './vertex-ai-filter.js';
export {
  translateVertexAiFilter,
  vertexAiFilterOperators,
  vertexAiFilterRestricts,
} from './vertex-ai-filter.js';
export type { VertexAiVectorStoreOptions } from './vertex-ai-vector-store.js';
export { createVertexAiVectorStore } from './vertex-ai-vector-store.js';
