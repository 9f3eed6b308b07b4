export { engramAdapter } from './memgraph-adapter.js';
export type { MemgraphStatement } from './memgraph-cypher.js';
export { entityLabel, relationType } from './memgraph-cypher.js';
export { isRetryableMemgraphError, toMemgraphError } from './memgraph-errors.js';
export type { MemgraphGraphStoreOptions } from './memgraph-graph-store.js';
export { createMemgraphGraphStore } from './memgraph-graph-store.js';
