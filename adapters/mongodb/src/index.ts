export { engramAdapter } from './mongodb-adapter.js';
export { isRetryableMongoDBError, toMongoDBError } from './mongodb-errors.js';
export type { MongoDBFilterFields, MongoDBFilterTranslation } from './mongodb-filter.js';
export {
  mongoDBFilterFields,
  mongoDBFilterOperators,
  translateMongoDBFilter,
} from './mongodb-filter.js';
export type { MongoDBVectorStoreOptions } from './mongodb-vector-store.js';
export {
  createMongoDBVectorStore,
  textIndexName,
  vectorIndexName,
} from './mongodb-vector-store.js';
