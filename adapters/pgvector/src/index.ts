export { isRetryablePostgresError as isRetryablePgError } from '@engram/postgres-compatible';
export { engramAdapters } from './pgvector-adapter.js';
export type {
  PgvectorFilterClause,
  PgvectorFilterOptions,
  PgvectorParameter,
} from './pgvector-filter.js';
export { translatePgvectorFilter } from './pgvector-filter.js';
export type { PgvectorScopeLockOptions } from './pgvector-scope-lock.js';
export { createPgvectorScopeLock } from './pgvector-scope-lock.js';
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
