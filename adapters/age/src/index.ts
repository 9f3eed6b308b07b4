export { engramAdapter } from './age-adapter.js';
export type { AgeParameter, AgeQuery } from './age-cypher.js';
export { isRetryableAgeError } from './age-errors.js';
export type { AgeGraphStoreOptions } from './age-graph-store.js';
export { createAgeGraphStore } from './age-graph-store.js';
