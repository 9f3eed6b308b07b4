export type {
  PoolHolder,
  PostgresPool,
  PostgresPoolClient,
  PostgresQueryable,
} from './postgres-connection.js';
export { holdPool, onceSucceeded, transaction, withPoolClient } from './postgres-connection.js';
export * from './postgres-errors.js';
export { qualifiedName, quoteIdentifier } from './postgres-identifiers.js';
export type {
  PgvectorFilterClause,
  PgvectorFilterOptions,
  PgvectorParameter,
} from './postgres-jsonb-filter.js';
export { translatePgvectorFilter } from './postgres-jsonb-filter.js';
export type { PostgresLeaseScopeLockOptions } from './postgres-lease-lock.js';
export { createPostgresLeaseScopeLock } from './postgres-lease-lock.js';
export type { PgvectorScopeLockOptions } from './postgres-scope-lock.js';
export { createPgvectorScopeLock } from './postgres-scope-lock.js';
export type {
  PgvectorStore,
  PgvectorStoreOptions,
  PgvectorVectorStoreOptions,
  PostgresVectorStoreSettings,
} from './postgres-vector-store.js';
export { createPostgresVectorStore, pgvectorSettings } from './postgres-vector-store.js';
