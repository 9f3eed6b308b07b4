export { engramAdapter } from './neo4j-adapter.js';
export type { Neo4jStatement } from './neo4j-cypher.js';
export { entityLabel, relationType, vectorIndexName } from './neo4j-cypher.js';
export { isRetryableNeo4jError, toNeo4jError } from './neo4j-errors.js';
export type { Neo4jGraphStoreOptions } from './neo4j-graph-store.js';
export { createNeo4jGraphStore } from './neo4j-graph-store.js';
