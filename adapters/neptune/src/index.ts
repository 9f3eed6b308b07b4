export { engramAdapter } from './neptune-adapter.js';
export type { NeptuneStatement } from './neptune-cypher.js';
export { entityLabel, relationType } from './neptune-cypher.js';
export { isRetryableNeptuneError, toNeptuneError } from './neptune-errors.js';
export type { NeptuneGraphStoreOptions, NeptuneQueryClient } from './neptune-graph-store.js';
export { createNeptuneGraphStore } from './neptune-graph-store.js';
