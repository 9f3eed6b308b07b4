export type {
  PgvectorFilterClause,
  PgvectorFilterOptions,
  PgvectorParameter,
  PgvectorScopeLockOptions,
  PgvectorStore,
  PgvectorStoreOptions,
  PgvectorVectorStoreOptions,
} from '@engram/postgres-compatible';
export {
  createPgvectorScopeLock,
  isRetryablePostgresError as isRetryablePgError,
  translatePgvectorFilter,
} from '@engram/postgres-compatible';
export { engramAdapters } from './pgvector-adapter.js';
export {
  createPgvectorHistoryStore,
  createPgvectorStore,
  createPgvectorVectorStore,
} from './pgvector-stores.js';
