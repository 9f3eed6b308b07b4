export type { EngramDocumentMetadata, EngramRetrieverInput } from './langchain-retriever.js';
export { EngramRetriever, memoryToDocument } from './langchain-retriever.js';
