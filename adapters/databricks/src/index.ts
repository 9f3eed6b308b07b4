export { engramAdapter } from './databricks-adapter.js';
export {
  DatabricksResponseError,
  isRetryableDatabricksError,
  toDatabricksError,
} from './databricks-errors.js';
export type { DatabricksColumnType, DatabricksFilter } from './databricks-filter.js';
export { databricksFilterOperators, translateDatabricksFilter } from './databricks-filter.js';
export type { DatabricksVectorStoreOptions } from './databricks-vector-store.js';
export { createDatabricksVectorStore } from './databricks-vector-store.js';
