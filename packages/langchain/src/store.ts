export type { EngramStoreOptions, StoreMemory } from './langgraph-store.js';
export { EngramStore, translateStoreFilter } from './langgraph-store.js';
