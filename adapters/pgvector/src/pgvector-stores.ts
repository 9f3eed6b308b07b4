import {
  createPostgresVectorStore,
  type PgvectorStore,
  type PgvectorVectorStoreOptions,
  pgvectorSettings,
} from '@engram/postgres-compatible';

/**
 * Creates the PostgreSQL store: a vector store with keyword search that is also the history
 * store. Nothing is connected until the first call: then the schema, the collections registry
 * (and, on first history use, the history table) are created if missing, and `ensureCollection`
 * creates the `vector` extension if it is not there yet. The SQL lives in
 * `@engram/postgres-compatible`, shared with the other Postgres + pgvector backends.
 */
export function createPgvectorStore(options: PgvectorVectorStoreOptions = {}): PgvectorStore {
  return createPostgresVectorStore(options, pgvectorSettings);
}

/**
 * Creates the PostgreSQL store seen as a vector store. It is the same object as
 * {@link createPgvectorStore} returns (also a history store, with `commit`), so one
 * configuration serves both roles.
 */
export function createPgvectorVectorStore(options: PgvectorVectorStoreOptions = {}): PgvectorStore {
  return createPgvectorStore(options);
}

/**
 * Creates the PostgreSQL store seen as a history store, for configurations that name a separate
 * history store (`ENGRAM_HISTORY_STORE=pgvector`). Also the same object as
 * {@link createPgvectorStore} returns.
 */
export function createPgvectorHistoryStore(
  options: PgvectorVectorStoreOptions = {},
): PgvectorStore {
  return createPgvectorStore(options);
}
