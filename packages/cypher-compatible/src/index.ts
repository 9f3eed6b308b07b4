export {
  checkGraphEmbedding,
  createSerialQueue,
  graphCount,
  invalidateRelationsArguments,
  latestById,
  listArguments,
  missingEndpointError,
  neighboursArguments,
  requiredGraphScope,
  type SerialQueue,
  similarEntitiesArguments,
  triplePage,
} from './embedded-cypher-graph-store.js';
export {
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
