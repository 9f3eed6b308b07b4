import {
  createPostgresVectorStore,
  type PgvectorStore,
  type PgvectorVectorStoreOptions,
  type PostgresVectorStoreSettings,
} from '@engram/postgres-compatible';

/** Options of {@link createSupabaseStore}: those of `@engram/pgvector`, with Supabase's defaults. */
export interface SupabaseStoreOptions extends PgvectorVectorStoreOptions {
  /**
   * The database's connection string, from the project's Connect dialog: the transaction pooler
   * (Supavisor, port 6543), the session pooler (5432) or the direct connection. Default: the
   * `SUPABASE_DB_URL` environment variable, then `DATABASE_URL`.
   */
  connectionString?: string;
  /**
   * Schema the `vector` extension is created in when the database lacks it. Default
   * `extensions`, where Supabase installs extensions (its dashboard does the same).
   */
  extensionSchema?: string;
  /**
   * Give the store a lock (`store.scopeLock`) that makes adds of one scope take turns across
   * every process and replica using the database, so a fact added by two of them at once is
   * stored once. It keeps leased rows in `<prefix>locks` (one statement per step, so it works
   * through the transaction pooler, where session advisory locks cannot); a process that dies
   * holds its keys until the lease ends (10 s). Default true.
   */
  scopeLock?: boolean;
}

/** The store: a vector store with keyword search that is also the history store. */
export type SupabaseStore = PgvectorStore;

/** How Supabase differs from plain PostgreSQL + pgvector. */
export function supabaseSettings(options: SupabaseStoreOptions = {}): PostgresVectorStoreSettings {
  return {
    source: 'supabase',
    urlVariables: ['SUPABASE_DB_URL', 'DATABASE_URL'],
    extensionSchema: options.extensionSchema ?? 'extensions',
    rowLevelSecurity: true,
    scopeLockKind: 'lease',
  };
}

/**
 * Creates the store on a Supabase database: Postgres with pgvector in the `extensions` schema
 * (types and operators written `extensions.vector`), every table created with row level security
 * enabled (no policy: the owner, `postgres`, and `service_role` read and write; `anon` and
 * `authenticated` see nothing until a policy allows it), and statements safe behind the
 * transaction pooler (no session state, no named prepared statements, no advisory lock held
 * across calls; the scope lock leases rows instead). Nothing is connected until the first call.
 */
export function createSupabaseStore(options: SupabaseStoreOptions = {}): SupabaseStore {
  return createPostgresVectorStore(options, supabaseSettings(options));
}

/** The store seen as a vector store: the same object as {@link createSupabaseStore} returns. */
export function createSupabaseVectorStore(options: SupabaseStoreOptions = {}): SupabaseStore {
  return createSupabaseStore(options);
}

/** The store seen as a history store: the same object as {@link createSupabaseStore} returns. */
export function createSupabaseHistoryStore(options: SupabaseStoreOptions = {}): SupabaseStore {
  return createSupabaseStore(options);
}
