export { engramAdapter } from './chroma-adapter.js';
export type { FlattenedMetadata } from './chroma-filter.js';
export {
  chromaFilterOperators,
  flattenChromaMetadata,
  translateChromaFilter,
} from './chroma-filter.js';
export type { ChromaVectorStoreOptions } from './chroma-vector-store.js';
export { createChromaVectorStore } from './chroma-vector-store.js';
