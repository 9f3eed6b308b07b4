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
