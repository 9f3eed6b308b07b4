export type { CypherStatement as NeptuneStatement } from '@engram/cypher-compatible';
export { entityLabel, relationType } from '@engram/cypher-compatible';
export { engramAdapter } from './neptune-adapter.js';
export { isRetryableNeptuneError, toNeptuneError } from './neptune-errors.js';
export type { NeptuneGraphStoreOptions, NeptuneQueryClient } from './neptune-graph-store.js';
export { createNeptuneGraphStore } from './neptune-graph-store.js';
