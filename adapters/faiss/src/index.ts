export { engramAdapter } from './faiss-adapter.js';
export type { FaissVectorStore, FaissVectorStoreOptions } from './faiss-vector-store.js';
export { createFaissVectorStore, defaultFaissPath } from './faiss-vector-store.js';
