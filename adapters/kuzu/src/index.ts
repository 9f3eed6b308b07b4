export { engramAdapter } from './kuzu-adapter.js';
export type { KuzuParameter, KuzuStatement } from './kuzu-cypher.js';
export { isRetryableKuzuError } from './kuzu-errors.js';
export type { KuzuDatabase, KuzuGraphStoreOptions } from './kuzu-graph-store.js';
export { createKuzuGraphStore } from './kuzu-graph-store.js';
