export { engramAdapter } from './pinecone-adapter.js';
export { isRetryablePineconeError, toPineconeError } from './pinecone-errors.js';
export type { PineconeFilter, PineconeFilterTranslation } from './pinecone-filter.js';
export {
  pineconeFilterFields,
  pineconeFilterOperators,
  translatePineconeFilter,
} from './pinecone-filter.js';
export type { PineconeVectorStoreOptions } from './pinecone-vector-store.js';
export { createPineconeVectorStore, defaultPineconeIndexName } from './pinecone-vector-store.js';
