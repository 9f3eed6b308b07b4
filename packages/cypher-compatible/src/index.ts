export type {
  BoltConnection,
  BoltConnectionOptions,
  BoltDriver,
  BoltDriverModule,
  BoltGraphStoreSettings,
  BoltRunner,
  BoltSession,
} from './cypher-bolt.js';
export {
  boltErrorCode,
  createBoltConnection,
  isRetryableBoltError,
  toBoltError,
} from './cypher-bolt.js';
export type { CypherDialect } from './cypher-dialect.js';
export type {
  CypherConnection,
  CypherGraphStoreOptions,
  CypherRun,
} from './cypher-graph-store.js';
export { createCypherGraphStore, rankBySimilarity } from './cypher-graph-store.js';
export type { CypherRow } from './cypher-records.js';
export {
  entityFromProperties,
  entityProperties,
  numberFromCypher,
  propertiesOf,
  relationFromProperties,
  relationProperties,
  tripleFromRow,
} from './cypher-records.js';
export type {
  CypherStatement,
  GraphPlace,
  RelationEndpoints,
  SimilarEntitiesQuery,
} from './cypher-statements.js';
export {
  countEntitiesStatement,
  deleteScopeStatements,
  entityLabel,
  entityPropertyNames,
  indexedSimilarEntitiesStatement,
  invalidateStatement,
  legacyNamespaceStatements,
  listStatement,
  missingEndpointsStatement,
  neighboursStatement,
  placeCondition,
  relationPropertyNames,
  relationType,
  scopeCondition,
  scopeEntitiesStatement,
  similarEntitiesStatement,
  upsertEntitiesStatement,
  vectorIndexName,
  writeRelationsStatements,
} from './cypher-statements.js';
export {
  createSerialQueue,
  type GraphArguments,
  graphArguments,
  latestById,
  missingEndpointError,
  type SerialQueue,
  triplePage,
} from './embedded-cypher-graph-store.js';
export {
  placeClauses,
  type RelationPageOptions,
  relationPageConditions,
  scopeClauses,
} from './embedded-cypher-queries.js';
export {
  entityFromStoredProperties,
  relationFromStoredProperties,
  type StoredEntityProperties,
  type StoredRelationProperties,
  storedEntityProperties,
  storedRelationProperties,
  tripleFromStoredProperties,
} from './embedded-cypher-records.js';
