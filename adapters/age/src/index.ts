export { isRetryablePostgresError as isRetryableAgeError } from '@engram/postgres-compatible';
export { engramAdapter } from './age-adapter.js';
export type { AgeParameter, AgeQuery } from './age-cypher.js';
export type { AgeGraphStoreOptions } from './age-graph-store.js';
export { createAgeGraphStore } from './age-graph-store.js';
