export { engramAdapters } from './pgvector-adapter.js';
export { isRetryablePgError } from './pgvector-errors.js';
export type {
  PgvectorFilterClause,
  PgvectorFilterOptions,
  PgvectorParameter,
} from './pgvector-filter.js';
export { translatePgvectorFilter } from './pgvector-filter.js';
export type {
  PgvectorStore,
  PgvectorStoreOptions,
  PgvectorVectorStoreOptions,
} from './pgvector-store.js';
export {
  createPgvectorHistoryStore,
  createPgvectorStore,
  createPgvectorVectorStore,
} from './pgvector-store.js';
