import {
  assertCollectionDimensions,
  assertDeleteSelection,
  assertQueryInput,
  assertRecords,
  assertVectorLength,
  chunk,
  createLifecycle,
  defineComponent,
} from '@engram/adapter-kit';
import {
  type CommitOptions,
  decodeCursor,
  encodeCursor,
  type FilterExpression,
  filterOperators,
  type HistoryStore,
  InvalidArgumentError,
  keywordText,
  NotFoundError,
  normalizeScope,
  type QueryOptions,
  type Scope,
  tokenize,
  type VectorMatch,
  type VectorRecord,
  type VectorStore,
  type VectorStoreCapabilities,
} from '@engram/core';
import pg from 'pg';
import { holdPool, onceSucceeded, transaction, withPoolClient } from './postgres-connection.js';
import { isUndefinedTable, postgresErrorMapper } from './postgres-errors.js';
import {
  appendEvents,
  checkEvents,
  pgvectorHistoryMethods,
  prepareHistoryTable,
} from './postgres-history.js';
import { qualifiedName, quoteIdentifier } from './postgres-identifiers.js';
import { type PgvectorParameter, translatePgvectorFilter } from './postgres-jsonb-filter.js';
import { createPostgresLeaseScopeLock, leaseTableSql } from './postgres-lease-lock.js';
import { createPgvectorScopeLock } from './postgres-scope-lock.js';
import { vectorArrayBinary, vectorBinary } from './postgres-vector-binary.js';
import {
  type MemoryRow,
  scopeConditions,
  selectColumns,
  toRecord,
} from './postgres-vector-rows.js';
import {
  checkCollectionName,
  checkSchemaName,
  checkTablePrefix,
  checkTextSearchConfig,
  collectionsTableSql,
  collectionTableName,
  collectionTableSql,
  defaultIvfflatLists,
  defaultIvfflatProbes,
  isMemorySetting,
  ivfflatIndexSql,
  keywordTextFilledComment,
  keywordTextFilledSql,
  keywordTextFillSql,
  keywordTextMigrationSql,
  maxIndexedDimensions,
  maxIvfflatLists,
  sharedTableNames,
  type VectorExtension,
  vectorFeatures,
  vectorIndexSql,
} from './postgres-vector-schema.js';

/** Options of {@link createPostgresVectorStore} (and of `@engram/pgvector`'s `createPgvectorStore`). */
export interface PgvectorVectorStoreOptions {
  /**
   * PostgreSQL connection string, e.g. `postgres://user:password@host:5432/database`.
   * Default: the `PGVECTOR_URL` environment variable, then `DATABASE_URL`; without either,
   * node-postgres' own `PGHOST`/`PGUSER`/... variables when `PGHOST` is set.
   */
  connectionString?: string;
  /** Same as `connectionString`; the name every server-backed Engram adapter accepts. */
  url?: string;
  /**
   * A node-postgres pool to use instead of creating one. The store never ends it: its owner
   * does. Every query the store sends is a single statement or a transaction on one client,
   * so a pool behind PgBouncer in transaction mode works.
   */
  pool?: pg.Pool;
  /** Schema of Engram's tables; created when missing. Default `public`. */
  schema?: string;
  /**
   * Prefix of every table the store creates (`<prefix>collections`, `<prefix>history`,
   * `<prefix>memories_<collection>`): lowercase letters, digits and `_`. Default `engram_`.
   */
  tablePrefix?: string;
  /**
   * Text search configuration of the keyword index of collections created from now on
   * (`english` stems and drops English stop words; `simple` only lowercases, for any language).
   * Each collection keeps the configuration it was created with. Default `english`.
   */
  textSearchConfig?: string;
  /**
   * A vector query whose scope and filter select at most this many records is answered by an
   * exact scan of them (found through the scope and metadata indexes) instead of the HNSW
   * index: exact, and as fast as the graph for a small selection. Measured here, an exact scan
   * of 2,500 vectors of 1,536 dimensions takes about 50 ms, of 10,000 about 200 ms.
   * Default 2,000.
   */
  exactSearchThreshold?: number;
  /**
   * Lowest `hnsw.ef_search` of an approximate query (the candidate list size; raised to `topK`
   * when that is larger, at most 1,000). Higher is more accurate and slower. Default 40.
   */
  efSearch?: number;
  /**
   * The approximate index of vector queries: `hnsw` (a graph, kept up to date row by row; the
   * default) or `ivfflat` (lists of rows around centres trained on the rows present, so it is
   * built by `store.buildIndex({ collection })` once the rows are in, never at creation: until
   * then vector queries are exact scans). IVFFlat builds in a fraction of HNSW's time and memory;
   * on clustered vectors (embeddings of a few thousand topics) its lists follow the topics and
   * give high recall, while rows written after the build join the nearest existing list, so
   * rebuild it (drop the `<table>_vector` index, call `buildIndex`) after the data has grown
   * several times over. Default `hnsw`.
   */
  vectorIndex?: 'hnsw' | 'ivfflat';
  /**
   * Lists of an IVFFlat index `buildIndex` creates. Default: pgvector's starting point from the
   * rows present, rows / 1,000 up to 1M rows and the square root of rows above.
   */
  ivfflatLists?: number;
  /**
   * Lists an IVFFlat query searches (`ivfflat.probes`). Higher is more accurate and slower.
   * Default: the square root of the index's lists (pgvector's starting point).
   */
  ivfflatProbes?: number;
  /** HNSW `m` (links per node) of collections created from now on. Default 16. */
  hnswM?: number;
  /** HNSW `ef_construction` of collections created from now on. Default 64. */
  hnswEfConstruction?: number;
  /**
   * Create collections from now on without their HNSW index, for a bulk import: rows load
   * several times faster when no graph is kept up to date row by row. Vector queries are exact
   * scans until `store.buildIndex({ collection })` builds the index (once, after the import).
   * Default false.
   */
  deferVectorIndex?: boolean;
  /**
   * `maintenance_work_mem` of the transaction that builds an index in `buildIndex`, e.g.
   * `'8GB'`. pgvector builds HNSW several times faster while the graph fits in it (about the
   * size of the vectors plus a tenth); default: the server's setting (64MB unless changed).
   */
  indexBuildMemory?: string;
  /** Most connections of the pool the store creates (not of a `pool` passed in). Default 10. */
  maxConnections?: number;
  /**
   * How long to wait for a connection of the pool the store creates, in milliseconds, before
   * failing with a retryable error. Default 30,000.
   */
  connectionTimeoutMs?: number;
  /**
   * Give the store a lock (`store.scopeLock`, PostgreSQL session advisory locks) that makes adds
   * of one scope take turns across every process and replica using the database, so a fact
   * added by two of them at once is stored once. Its sessions come from a second pool with the
   * same settings and `maxConnections`; a process that dies releases its locks with its
   * connections. Advisory locks need real sessions: behind PgBouncer in transaction mode, set
   * this to `false` and give the engine another lock. Default true.
   */
  scopeLock?: boolean;
}

/** Same options as {@link PgvectorVectorStoreOptions}. */
export type PgvectorStoreOptions = PgvectorVectorStoreOptions;

/**
 * The PostgreSQL store: a vector store with keyword search that is also the history store, and
 * commits records together with their history events in one transaction.
 */
export type PgvectorStore = VectorStore &
  HistoryStore & {
    /** Applies upserts, deletes and history events in one transaction. */
    commit(options: CommitOptions): Promise<void>;
    /**
     * Builds the collection's vector index if it has none (a collection created with
     * `deferVectorIndex` or with `vectorIndex: 'ivfflat'`, or an index dropped by hand), in one
     * transaction: writes to the collection wait until it is built, reads go on. The index is
     * HNSW, or IVFFlat trained on the rows present with `vectorIndex: 'ivfflat'`. Resolves to
     * whether an index was created; `false` when one was already there, when the collection's
     * vectors are too long for one (exact search only), when the installed pgvector has no HNSW,
     * or (IVFFlat) when the collection has no rows to train it on.
     */
    buildIndex(options: { collection: string }): Promise<{ created: boolean }>;
    /** Closes the store, like `close()`. */
    [Symbol.asyncDispose](): Promise<void>;
  };

/**
 * How a backend built on this store differs from plain PostgreSQL + pgvector (`@engram/pgvector`):
 * its name, where its connection string comes from and how its database is set up.
 */
export interface PostgresVectorStoreSettings {
  /** The adapter: the prefix of its errors and the store's `provider`. */
  source: string;
  /** Environment variables that may hold the connection string, tried in order. */
  urlVariables: readonly string[];
  /**
   * Schema to create the `vector` extension in when the database lacks it (Supabase keeps
   * extensions in `extensions`). Default: the database's first schema on the search path.
   * Wherever the extension is, its type and operators are written schema-qualified.
   */
  extensionSchema?: string;
  /**
   * Enable row level security on every table the store creates. With no policy, only the
   * tables' owner and roles with BYPASSRLS (Supabase's `service_role`) read or write them.
   */
  rowLevelSecurity?: boolean;
  /** Whether the store has a `scopeLock` when the options do not say. Default true. */
  scopeLock?: boolean;
  /**
   * How the scope lock holds its keys: `session`, PostgreSQL session advisory locks (released the
   * moment a holder's connection ends; needs real sessions), or `lease`, leased rows in
   * `<prefix>locks` (works through a transaction pooler; a crashed holder's keys free up when
   * the lease ends). Default `session`.
   */
  scopeLockKind?: 'session' | 'lease';
}

/** The settings of `@engram/pgvector`. */
export const pgvectorSettings: PostgresVectorStoreSettings = {
  source: 'pgvector',
  urlVariables: ['PGVECTOR_URL', 'DATABASE_URL'],
};

/** What the kit adds around the backend calls, or what they need not give. */
type StoreDescription =
  | 'specificationVersion'
  | 'provider'
  | 'capabilities'
  | 'close'
  | typeof Symbol.asyncDispose;

interface CollectionInfo {
  /** Schema-qualified, quoted table name. */
  table: string;
  /** The table's name, unquoted. */
  tableName: string;
  dimensions: number;
  textSearchConfig: string;
}

interface CollectionRow {
  table_name: string;
  dimensions: number;
  text_search_config: string;
}

type Queryable = Pick<pg.ClientBase, 'query'>;

const maxBatchSize = 1000;
/** pgvector's longest `vector`. */
const maxDimensions = 16_000;
const maxKeywordTerms = 64;

function integerOption(
  source: string,
  name: string,
  value: number | undefined,
  fallback: number,
  min = 1,
) {
  const result = value ?? fallback;
  if (!Number.isInteger(result) || result < min) {
    throw new InvalidArgumentError({
      source,
      message: `${name} must be an integer of at least ${min}, got ${String(value)}.`,
    });
  }
  return result;
}

function checkRecords(source: string, dimensions: number, records: readonly VectorRecord[]) {
  assertRecords(records, { source, dimensions });
  for (const record of records) {
    if (typeof record.text !== 'string') {
      throw new InvalidArgumentError({
        source,
        message: `Record "${record.id}" needs a string text.`,
      });
    }
    normalizeScope(record, { source });
  }
}

function checkQueryVector(source: string, vector: readonly number[], dimensions: number) {
  assertVectorLength(vector, dimensions, { source, what: 'The query vector' });
  if (!vector.every((value) => typeof value === 'number' && Number.isFinite(value))) {
    throw new InvalidArgumentError({
      source,
      message: 'The query vector holds a value that is not a finite number.',
    });
  }
}

/** The last record given for each id (a later record replaces an earlier one), sorted by id. */
function latestById(records: readonly VectorRecord[]): VectorRecord[] {
  const byId = new Map<string, VectorRecord>();
  for (const record of records) byId.set(record.id, record);
  // A fixed lock order keeps concurrent batches touching the same ids from deadlocking.
  return [...byId.values()].sort((left, right) =>
    left.id < right.id ? -1 : left.id > right.id ? 1 : 0,
  );
}

/** Scope columns equal to the scope's ids, and the filter, ANDed; `true` when neither is given. */
function whereClause(
  source: string,
  options: {
    scope?: Scope | undefined;
    filter?: FilterExpression | undefined;
  },
) {
  const scopeParameters: PgvectorParameter[] = [];
  const conditions = scopeConditions(normalizeScope(options.scope, { source }), scopeParameters);
  const filter = options.filter
    ? translatePgvectorFilter(options.filter, { parameters: scopeParameters })
    : undefined;
  if (filter) conditions.push(filter.sql);
  return {
    sql: conditions.length > 0 ? conditions.join(' AND ') : 'true',
    parameters: filter?.parameters ?? scopeParameters,
    selective: conditions.length > 0,
  };
}

/**
 * Creates the PostgreSQL store. Nothing is connected until the first call: then the schema,
 * the collections registry (and, on first history use, the history table) are created if
 * missing, and `ensureCollection` creates the `vector` extension if it is not there yet.
 * Every statement is a single statement or part of a transaction on one client, and locks
 * taken for DDL are transaction-scoped, so the store works behind a transaction pooler
 * (PgBouncer, Supavisor) once `scopeLock` is off.
 */
export function createPostgresVectorStore(
  options: PgvectorVectorStoreOptions = {},
  settings: PostgresVectorStoreSettings = pgvectorSettings,
): PgvectorStore {
  const { source } = settings;
  const schema = checkSchemaName(options.schema ?? 'public', source);
  const prefix = checkTablePrefix(options.tablePrefix ?? 'engram_', source);
  const textSearchConfig = checkTextSearchConfig(options.textSearchConfig ?? 'english', source);
  const exactSearchThreshold = integerOption(
    source,
    'exactSearchThreshold',
    options.exactSearchThreshold,
    2_000,
    0,
  );
  const efSearch = Math.min(1000, integerOption(source, 'efSearch', options.efSearch, 40));
  const hnsw = {
    m: Math.min(100, integerOption(source, 'hnswM', options.hnswM, 16, 2)),
    efConstruction: Math.min(
      1000,
      integerOption(source, 'hnswEfConstruction', options.hnswEfConstruction, 64, 4),
    ),
  };
  const vectorIndex = options.vectorIndex ?? 'hnsw';
  if (vectorIndex !== 'hnsw' && vectorIndex !== 'ivfflat') {
    throw new InvalidArgumentError({
      source,
      message: `vectorIndex must be "hnsw" or "ivfflat", got ${JSON.stringify(vectorIndex)}.`,
    });
  }
  const ivfflatLists =
    options.ivfflatLists === undefined
      ? undefined
      : Math.min(maxIvfflatLists, integerOption(source, 'ivfflatLists', options.ivfflatLists, 1));
  const ivfflatProbes =
    options.ivfflatProbes === undefined
      ? undefined
      : integerOption(source, 'ivfflatProbes', options.ivfflatProbes, 1);
  const deferVectorIndex = options.deferVectorIndex ?? false;
  if (typeof deferVectorIndex !== 'boolean') {
    throw new InvalidArgumentError({
      source,
      message: `deferVectorIndex must be true or false, got ${JSON.stringify(deferVectorIndex)}.`,
    });
  }
  const indexBuildMemory = options.indexBuildMemory;
  if (
    indexBuildMemory !== undefined &&
    (typeof indexBuildMemory !== 'string' || !isMemorySetting(indexBuildMemory))
  ) {
    throw new InvalidArgumentError({
      source,
      message: `indexBuildMemory must be a PostgreSQL memory size such as '8GB', '512MB' or '65536kB', got ${JSON.stringify(indexBuildMemory)}.`,
    });
  }
  const maxConnections = integerOption(source, 'maxConnections', options.maxConnections, 10);
  const connectionTimeoutMs = integerOption(
    source,
    'connectionTimeoutMs',
    options.connectionTimeoutMs,
    30_000,
  );
  const tables = sharedTableNames(prefix);
  const collectionsTable = qualifiedName(schema, tables.collections);
  const historyTable = qualifiedName(schema, tables.history);
  const collections = new Map<string, CollectionInfo>();
  const keywordTextFills = new Map<string, Promise<void>>();

  const pools = holdPool({
    source,
    pool: options.pool,
    create() {
      const connectionString =
        options.connectionString ??
        options.url ??
        settings.urlVariables.map((name) => process.env[name]).find(Boolean);
      if (!connectionString && !process.env.PGHOST) {
        throw new InvalidArgumentError({
          source,
          message: `No PostgreSQL server given: pass connectionString or pool, or set ${settings.urlVariables.join(' (or ')}${')'.repeat(settings.urlVariables.length - 1)}.`,
        });
      }
      return new pg.Pool({
        ...(connectionString ? { connectionString } : {}),
        max: maxConnections,
        connectionTimeoutMillis: connectionTimeoutMs,
        application_name: 'engram',
      });
    },
  });
  const pool = () => pools.get();
  // Lock sessions wait and hold their connections: they get their own pool (see scopeLock).
  const lockPools = holdPool({
    source,
    create: () =>
      new pg.Pool({
        ...pool().options,
        max: maxConnections,
        connectionTimeoutMillis: connectionTimeoutMs,
        keepAlive: true,
        application_name: 'engram-locks',
      }),
  });
  const locksTable = qualifiedName(schema, `${prefix}locks`);
  const leaseTableReady = onceSucceeded(async () => {
    await schemaReady();
    await lockedDdl(`${prefix}locks`, [
      leaseTableSql(locksTable),
      ...rowLevelSecuritySql(locksTable),
    ]);
  });
  const scopeLock =
    (options.scopeLock ?? settings.scopeLock) === false
      ? undefined
      : settings.scopeLockKind === 'lease'
        ? createPostgresLeaseScopeLock({ pool, table: locksTable, ready: leaseTableReady, source })
        : createPgvectorScopeLock({
            pool: () => lockPools.get(),
            cancelPool: pool,
            prefix: `engram:${schema}:${prefix}:scope:`,
            source,
          });

  const lifecycle = createLifecycle({
    source,
    toError: postgresErrorMapper(source),
    async onClose() {
      collections.clear();
      await scopeLock?.close();
      await lockPools.end();
      return pools.end();
    },
  });

  /** `ENABLE ROW LEVEL SECURITY` for a table the store created, when the settings ask for it. */
  function rowLevelSecuritySql(table: string): string[] {
    return settings.rowLevelSecurity ? [`ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY`] : [];
  }

  function inTransaction<T>(begin: string, work: (client: pg.PoolClient) => Promise<T>) {
    return withPoolClient<pg.PoolClient, T>(pool(), (client) =>
      transaction(client, () => work(client), begin),
    );
  }

  /** Serializes DDL on one name across every process sharing the database. */
  function lock(client: Queryable, name: string) {
    return client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [
      `engram:${schema}:${prefix}:${name}`,
    ]);
  }

  /** Runs statements in a transaction holding the lock of `name`. */
  function lockedDdl(name: string, statements: readonly string[]) {
    return inTransaction('BEGIN', async (client) => {
      await lock(client, name);
      for (const sql of statements) await client.query(sql);
    });
  }

  const schemaReady = onceSucceeded(async () => {
    const existing = await pool().query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
    if (!existing.rowCount) {
      await lockedDdl('', [`CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(schema)}`]);
    }
  });

  const collectionsReady = onceSucceeded(async () => {
    await schemaReady();
    await lockedDdl(tables.collections, [
      collectionsTableSql(schema, prefix),
      ...rowLevelSecuritySql(collectionsTable),
    ]);
  });

  const historyReady = onceSucceeded(async () => {
    await schemaReady();
    await inTransaction('BEGIN', async (client) => {
      await lock(client, tables.history);
      await prepareHistoryTable(client, { schema, prefix });
      for (const sql of rowLevelSecuritySql(historyTable)) await client.query(sql);
    });
  });

  async function findExtension(db: Queryable): Promise<VectorExtension | undefined> {
    const result = await db.query<VectorExtension>(
      `SELECT extension.extversion AS version, namespace.nspname AS schema
       FROM pg_extension AS extension JOIN pg_namespace AS namespace ON namespace.oid = extension.extnamespace
       WHERE extension.extname = 'vector'`,
    );
    return result.rows[0];
  }

  /** The `vector` extension, created when missing (which needs the CREATE privilege once). */
  const vectorExtension = onceSucceeded(async (): Promise<VectorExtension> => {
    const found = await findExtension(pool());
    if (found) return found;
    return inTransaction('BEGIN', async (client) => {
      await lock(client, 'extension');
      if (settings.extensionSchema) {
        const extensionSchema = quoteIdentifier(settings.extensionSchema);
        await client.query(`CREATE SCHEMA IF NOT EXISTS ${extensionSchema}`);
        await client.query(`CREATE EXTENSION IF NOT EXISTS vector WITH SCHEMA ${extensionSchema}`);
      } else {
        await client.query('CREATE EXTENSION IF NOT EXISTS vector');
      }
      const created = await findExtension(client);
      if (!created) throw new Error('CREATE EXTENSION vector left no extension behind.');
      return created;
    });
  });

  /** The memory columns to select; with the vector, named by the extension's schema. */
  async function columnsWith(includeVectors: boolean | undefined): Promise<string> {
    if (!includeVectors) return selectColumns(false, '');
    return selectColumns(true, quoteIdentifier((await vectorExtension()).schema));
  }

  /** The OID of the `vector` type, which a `vector[]` sent in binary format names. */
  const vectorTypeOid = onceSucceeded(async (): Promise<number> => {
    const extension = await vectorExtension();
    const result = await pool().query<{ oid: number | null }>(
      'SELECT to_regtype($1)::oid::bigint::float8 AS oid',
      [`${quoteIdentifier(extension.schema)}.vector`],
    );
    const oid = result.rows[0]?.oid;
    if (!oid) throw new Error(`No vector type in schema ${extension.schema}.`);
    return Number(oid);
  });

  function notFound(collection: string, cause?: unknown) {
    return new NotFoundError({
      source,
      message: `Collection "${collection}" does not exist; call ensureCollection first.`,
      ...(cause === undefined ? {} : { cause }),
    });
  }

  function infoOf(row: CollectionRow): CollectionInfo {
    return {
      table: qualifiedName(schema, row.table_name),
      tableName: row.table_name,
      dimensions: row.dimensions,
      textSearchConfig: row.text_search_config,
    };
  }

  async function registered(db: Queryable, collection: string): Promise<CollectionRow | undefined> {
    const result = await db.query<CollectionRow>(
      `SELECT table_name, dimensions, text_search_config FROM ${collectionsTable} WHERE name = $1`,
      [collection],
    );
    return result.rows[0];
  }

  async function collectionInfo(collection: string): Promise<CollectionInfo> {
    checkCollectionName(collection, source);
    const cached = collections.get(collection);
    if (cached) return cached;
    let row: CollectionRow | undefined;
    try {
      row = await registered(pool(), collection);
    } catch (error) {
      if (isUndefinedTable(error)) throw notFound(collection, error);
      throw error;
    }
    if (!row) throw notFound(collection);
    const info = infoOf(row);
    await withKeywordText(collection, row);
    await filledKeywordText(info.table);
    collections.set(collection, info);
    return info;
  }

  /**
   * Gives the rows written before `keyword_text` existed their keyword text, once per table and
   * process; a table marked filled costs one catalog read.
   */
  function filledKeywordText(table: string): Promise<void> {
    let filling = keywordTextFills.get(table);
    if (!filling) {
      filling = fillKeywordText(table);
      keywordTextFills.set(table, filling);
      filling.catch(() => keywordTextFills.delete(table));
    }
    return filling;
  }

  async function fillKeywordText(qualified: string): Promise<void> {
    const marked = await pool().query<{ comment: string | null }>(
      `SELECT col_description(attrelid, attnum) AS comment FROM pg_attribute
       WHERE attrelid = to_regclass($1) AND attname = 'keyword_text' AND NOT attisdropped`,
      [qualified],
    );
    if (marked.rows[0]?.comment === keywordTextFilledComment) return;
    const sql = keywordTextFillSql(qualified);
    let after = '';
    for (;;) {
      const { rows } = await pool().query<{ id: string; text: string | null }>(sql.page, [
        after,
        maxBatchSize,
      ]);
      const filled = rows.flatMap((row) => {
        if (row.text === null) return [];
        const indexed = keywordText(row.text);
        return indexed === row.text ? [] : [{ id: row.id, text: row.text, indexed }];
      });
      if (filled.length > 0) {
        await pool().query(sql.update, [
          filled.map((row) => row.id),
          filled.map((row) => row.text),
          filled.map((row) => row.indexed),
        ]);
      }
      if (rows.length < maxBatchSize) break;
      after = rows.at(-1)!.id;
    }
    await pool().query(keywordTextFilledSql(qualified));
  }

  /**
   * Migrates a table made before `keyword_text` existed, once, whichever process comes first; in
   * the transaction of `locked` when it holds the collection's lock already.
   */
  async function withKeywordText(collection: string, row: CollectionRow, locked?: Queryable) {
    const hasColumn = async (db: Queryable) => {
      const result = await db.query(
        `SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass($1) AND attname = 'keyword_text' AND NOT attisdropped`,
        [qualifiedName(schema, row.table_name)],
      );
      return (result.rowCount ?? 0) > 0;
    };
    const migrate = async (client: Queryable) => {
      if (await hasColumn(client)) return;
      const statements = keywordTextMigrationSql({
        schema,
        table: row.table_name,
        textSearchConfig: row.text_search_config,
      });
      for (const sql of statements) await client.query(sql);
    };
    if (locked) return migrate(locked);
    if (await hasColumn(pool())) return;
    await inTransaction('BEGIN', async (client) => {
      await lock(client, `collection:${collection}`);
      await migrate(client);
    });
  }

  /** Runs work on a collection; a table dropped by another process surfaces as NotFoundError. */
  async function onCollection<T>(
    collection: string,
    work: (info: CollectionInfo) => Promise<T>,
  ): Promise<T> {
    const info = await collectionInfo(collection);
    try {
      return await work(info);
    } catch (error) {
      if (isUndefinedTable(error)) {
        collections.delete(collection);
        throw notFound(collection, error);
      }
      throw error;
    }
  }

  async function createCollection(collection: string, dimensions: number) {
    await collectionsReady();
    const extension = await vectorExtension();
    const features = vectorFeatures(extension.version);
    return inTransaction('BEGIN', async (client) => {
      await lock(client, `collection:${collection}`);
      const row = await registered(client, collection);
      if (row) {
        const present = await client.query<{ found: string | null }>(
          'SELECT to_regclass($1)::text AS found',
          [qualifiedName(schema, row.table_name)],
        );
        if (present.rows[0]?.found) {
          await withKeywordText(collection, row, client);
          return infoOf(row);
        }
        // The table was dropped by hand: forget it and create the collection again.
        await client.query(`DELETE FROM ${collectionsTable} WHERE name = $1`, [collection]);
      }
      const table = collectionTableName(prefix, collection);
      const statements = collectionTableSql({
        schema,
        table,
        dimensions,
        textSearchConfig,
        extension,
        // An IVFFlat index is trained on rows, so it waits for them (`buildIndex`).
        hnsw: features.hnsw && !deferVectorIndex && vectorIndex === 'hnsw' ? hnsw : undefined,
      });
      for (const sql of statements) await client.query(sql);
      for (const sql of rowLevelSecuritySql(qualifiedName(schema, table))) await client.query(sql);
      await client.query(
        `INSERT INTO ${collectionsTable} (name, table_name, dimensions, text_search_config) VALUES ($1, $2, $3, $4)`,
        [collection, table, dimensions, textSearchConfig],
      );
      return infoOf({ table_name: table, dimensions, text_search_config: textSearchConfig });
    });
  }

  async function writeRecords(
    db: Queryable,
    info: CollectionInfo,
    records: readonly VectorRecord[],
  ) {
    const extension = await vectorExtension();
    const vectorType = `${quoteIdentifier(extension.schema)}.vector`;
    const oid = await vectorTypeOid();
    // The vectors travel in binary (`vector[]`); the other columns as text arrays.
    const sql = `INSERT INTO ${info.table} AS target
        (id, text, hash, user_id, agent_id, run_id, metadata, embedding, created_at, updated_at,
          keyword_text)
      SELECT input.id, input.text, input.hash, input.user_id, input.agent_id, input.run_id,
        input.metadata::jsonb, input.embedding, input.created_at, input.updated_at,
        input.keyword_text
      FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
        $7::text[], $8::${vectorType}[], $9::text[], $10::text[], $11::text[])
        AS input(id, text, hash, user_id, agent_id, run_id, metadata, embedding, created_at, updated_at,
          keyword_text)
      ON CONFLICT (id) DO UPDATE SET
        text = excluded.text, hash = excluded.hash, user_id = excluded.user_id,
        agent_id = excluded.agent_id, run_id = excluded.run_id, metadata = excluded.metadata,
        embedding = excluded.embedding, created_at = excluded.created_at,
        updated_at = excluded.updated_at, keyword_text = excluded.keyword_text`;
    for (const batch of chunk(records, maxBatchSize)) {
      await db.query(sql, [
        batch.map((record) => record.id),
        batch.map((record) => record.text),
        batch.map((record) => record.hash ?? null),
        batch.map((record) => record.userId ?? null),
        batch.map((record) => record.agentId ?? null),
        batch.map((record) => record.runId ?? null),
        batch.map((record) => JSON.stringify(record.metadata ?? {})),
        vectorArrayBinary(
          batch.map((record) => record.vector),
          oid,
        ),
        batch.map((record) => record.createdAt),
        batch.map((record) => record.updatedAt),
        batch.map((record) =>
          record.keywordText !== undefined && record.keywordText !== record.text
            ? record.keywordText
            : null,
        ),
      ]);
    }
  }

  /**
   * The probes of IVFFlat queries on a table: the option, else the square root of the lists of
   * the table's IVFFlat index (read from the catalog, remembered; looked up again after a minute
   * while the table has none), else undefined (no IVFFlat index: nothing to set).
   */
  const ivfflatIndexes = new Map<string, { lists: number | undefined; checkedAt: number }>();
  async function probesFor(db: Queryable, info: CollectionInfo): Promise<number | undefined> {
    const known = ivfflatIndexes.get(info.tableName);
    let lists = known?.lists;
    if (!known || (lists === undefined && performance.now() - known.checkedAt > 60_000)) {
      const found = await db.query<{ lists: string | null }>(
        `SELECT (SELECT option_value FROM pg_options_to_table(c.reloptions) WHERE option_name = 'lists') AS lists
         FROM pg_class c JOIN pg_am am ON am.oid = c.relam
         WHERE c.oid = to_regclass($1) AND am.amname = 'ivfflat'`,
        [qualifiedName(schema, `${info.tableName}_vector`)],
      );
      const value = found.rows[0]?.lists;
      // An IVFFlat index made without a lists option has pgvector's default of 100.
      lists = found.rows.length === 0 ? undefined : value ? Number(value) : 100;
      ivfflatIndexes.set(info.tableName, { lists, checkedAt: performance.now() });
    }
    if (lists === undefined) return undefined;
    return ivfflatProbes ?? defaultIvfflatProbes(lists);
  }

  async function vectorQuery(info: CollectionInfo, options: QueryOptions, topK: number) {
    const vector = options.vector!;
    checkQueryVector(source, vector, info.dimensions);
    const where = whereClause(source, options);
    if (topK === 0) return [];
    const extension = await vectorExtension();
    const features = vectorFeatures(extension.version);
    const vectorSchema = quoteIdentifier(extension.schema);
    const parameters = [...where.parameters, vectorBinary(vector), topK];
    const vectorPlaceholder = `$${parameters.length - 1}::${vectorSchema}.vector`;
    const limitPlaceholder = `$${parameters.length}`;
    const distance = `(embedding OPERATOR(${vectorSchema}.<=>) ${vectorPlaceholder})`;
    const columns = selectColumns(options.includeVectors, vectorSchema);
    // OFFSET 0 keeps the planner from answering the outer ORDER BY with the HNSW index, so
    // this is an exact search over the selected rows (found through the scope indexes).
    const exactSql = `SELECT * FROM (
        SELECT ${columns}, ${distance} AS distance FROM ${info.table} WHERE ${where.sql} OFFSET 0
      ) AS candidate ORDER BY distance, id LIMIT ${limitPlaceholder}`;
    // The inner ORDER BY ... LIMIT is what the HNSW index answers; relaxed_order may return
    // neighbours slightly out of order, so the outer query sorts them again.
    const approximateSql = `SELECT * FROM (
        SELECT ${columns}, ${distance} AS distance FROM ${info.table} WHERE ${where.sql}
        ORDER BY ${distance} LIMIT ${limitPlaceholder}
      ) AS nearest ORDER BY distance, id`;

    const db = pool();
    const indexed = features.hnsw && info.dimensions <= maxIndexedDimensions;
    let exact = !indexed;
    if (!exact) {
      const selected = await db.query<{ total: string }>(
        `SELECT count(*) AS total FROM (SELECT 1 FROM ${info.table} WHERE ${where.sql} LIMIT ${exactSearchThreshold + 1}) AS selected`,
        where.parameters,
      );
      const total = Number(selected.rows[0]?.total ?? 0);
      if (total === 0) return [];
      exact = total <= exactSearchThreshold;
    }
    let rows: (MemoryRow & { distance: number })[];
    if (exact) {
      rows = (await db.query(exactSql, parameters)).rows;
    } else {
      const probes = await probesFor(db, info);
      const settings = [
        'BEGIN READ ONLY',
        `SET LOCAL hnsw.ef_search = ${Math.min(1000, Math.max(efSearch, topK))}`,
        // Without an iterative scan, HNSW finds ef_search candidates and the filter then drops
        // most of them: a selective filter would return fewer than topK rows.
        ...(features.iterativeScan ? ['SET LOCAL hnsw.iterative_scan = relaxed_order'] : []),
        // The same for an IVFFlat index: its probed lists, then more while rows are missing.
        // The planner prices an IVFFlat scan by its probes and, at pgvector's suggested probes
        // for 1M rows, picked an exact scan of the whole table (5 s at 1M x 1,536) instead.
        ...(probes === undefined
          ? []
          : [
              'SET LOCAL enable_seqscan = off',
              `SET LOCAL ivfflat.probes = ${probes}`,
              ...(features.iterativeScan
                ? ['SET LOCAL ivfflat.iterative_scan = relaxed_order']
                : []),
            ]),
      ];
      rows = await inTransaction(settings.join('; '), async (client) => {
        return (await client.query(approximateSql, parameters)).rows;
      });
      // The index scan stops after hnsw.max_scan_tuples; when that left the page short, the
      // exact search over the (then selective) scope and filter gives every match.
      if (rows.length < topK && where.selective) {
        rows = (await db.query(exactSql, parameters)).rows;
      }
    }
    return rows.map(
      (row): VectorMatch => ({
        record: toRecord(row, options.includeVectors),
        score: Number.isNaN(row.distance) ? 0 : 1 - row.distance,
      }),
    );
  }

  async function keywordQuery(info: CollectionInfo, options: QueryOptions, topK: number) {
    const where = whereClause(source, options);
    // Words only (letters and digits), OR-ed: BM25-style ranking of records holding any of them,
    // and nothing in the text can be read as tsquery syntax.
    const terms = [...new Set(tokenize(options.text ?? ''))].slice(0, maxKeywordTerms);
    if (terms.length === 0 || topK === 0) return [];
    const parameters = [...where.parameters, info.textSearchConfig, terms.join(' | '), topK];
    const count = parameters.length;
    const columns = await columnsWith(options.includeVectors);
    const rows = (
      await pool().query<MemoryRow & { score: number }>(
        `SELECT ${columns}, ts_rank_cd(search, query, 1) AS score
         FROM ${info.table}, to_tsquery($${count - 2}::regconfig, $${count - 1}) AS query
         WHERE search @@ query AND ${where.sql}
         ORDER BY score DESC, id
         LIMIT $${count}`,
        parameters,
      )
    ).rows;
    return rows.map(
      (row): VectorMatch => ({ record: toRecord(row, options.includeVectors), score: row.score }),
    );
  }

  const capabilities: VectorStoreCapabilities = {
    keywordSearch: true,
    filterOperators,
    maxBatchSize,
    metric: 'cosine',
    atomicHistory: true,
  };

  const methods: Omit<PgvectorStore, StoreDescription> = {
    async ensureCollection({ collection, dimensions }) {
      checkCollectionName(collection, source);
      if (!Number.isInteger(dimensions) || dimensions <= 0 || dimensions > maxDimensions) {
        throw new InvalidArgumentError({
          source,
          message: `dimensions must be an integer from 1 to ${maxDimensions}, got ${dimensions}.`,
        });
      }
      const info = await createCollection(collection, dimensions);
      await filledKeywordText(info.table);
      collections.set(collection, info);
      assertCollectionDimensions({
        source,
        collection,
        existing: info.dimensions,
        requested: dimensions,
      });
    },

    async upsert({ collection, records }) {
      await onCollection(collection, async (info) => {
        checkRecords(source, info.dimensions, records);
        const unique = latestById(records);
        if (unique.length === 0) return;
        if (unique.length <= maxBatchSize) {
          await writeRecords(pool(), info, unique);
        } else {
          await inTransaction('BEGIN', (client) => writeRecords(client, info, unique));
        }
      });
    },

    async query(options) {
      return onCollection(options.collection, async (info) => {
        const topK = Math.max(0, Math.floor(options.topK));
        assertQueryInput(options, source);
        if (options.vector) return vectorQuery(info, options, topK);
        return keywordQuery(info, options, topK);
      });
    },

    async get({ collection, ids, includeVectors }) {
      return onCollection(collection, async (info) => {
        if (ids.length === 0) return [];
        const columns = await columnsWith(includeVectors);
        const { rows } = await pool().query<MemoryRow>(
          `SELECT ${columns} FROM ${info.table} WHERE id = ANY($1::text[])`,
          [[...new Set(ids)]],
        );
        const byId = new Map(rows.map((row) => [row.id, row]));
        return ids.flatMap((id) => {
          const row = byId.get(id);
          return row ? [toRecord(row, includeVectors)] : [];
        });
      });
    },

    async delete(options) {
      return onCollection(options.collection, async (info) => {
        if (options.ids) {
          if (options.ids.length === 0) return { deleted: 0 };
          const result = await pool().query(
            `DELETE FROM ${info.table} WHERE id = ANY($1::text[])`,
            [[...new Set(options.ids)]],
          );
          return { deleted: result.rowCount ?? 0 };
        }
        const where = whereClause(source, options);
        assertDeleteSelection(where.selective, source);
        const result = await pool().query(
          `DELETE FROM ${info.table} WHERE ${where.sql}`,
          where.parameters,
        );
        return { deleted: result.rowCount ?? 0 };
      });
    },

    async list(options) {
      return onCollection(options.collection, async (info) => {
        const after = decodeCursor(options.cursor, source);
        const where = whereClause(source, options);
        const limit = Math.max(0, Math.floor(options.limit));
        const parameters = [...where.parameters];
        const afterSql = after === undefined ? '' : ` AND id > $${parameters.push(after)}`;
        const columns = await columnsWith(options.includeVectors);
        const { rows } = await pool().query<MemoryRow>(
          `SELECT ${columns} FROM ${info.table}
           WHERE ${where.sql}${afterSql} ORDER BY id LIMIT $${parameters.push(limit + 1)}`,
          parameters,
        );
        const page = rows.slice(0, limit);
        const last = page.at(-1);
        return {
          records: page.map((row) => toRecord(row, options.includeVectors)),
          ...(rows.length > limit && last ? { nextCursor: encodeCursor(last.id) } : {}),
        };
      });
    },

    async count(options) {
      return onCollection(options.collection, async (info) => {
        const where = whereClause(source, options);
        const result = await pool().query<{ total: string }>(
          `SELECT count(*) AS total FROM ${info.table} WHERE ${where.sql}`,
          where.parameters,
        );
        return Number(result.rows[0]?.total ?? 0);
      });
    },

    async stats(options) {
      return onCollection(options.collection, async (info) => {
        // The table with its TOAST data and every index (HNSW, full text, scope columns).
        const result = await pool().query<{ total: string; bytes: string }>(
          `SELECT (SELECT count(*) FROM ${info.table}) AS total, pg_total_relation_size($1::regclass) AS bytes`,
          [info.table],
        );
        const row = result.rows[0];
        return { vectors: Number(row?.total ?? 0), bytes: Number(row?.bytes ?? 0) };
      });
    },

    async buildIndex({ collection }) {
      return onCollection(collection, async (info) => {
        const extension = await vectorExtension();
        ivfflatIndexes.delete(info.tableName);
        let sql: string | undefined;
        if (vectorIndex === 'ivfflat') {
          // Trained on the rows present: none, no index.
          const counted = await pool().query<{ total: string }>(
            `SELECT count(*) AS total FROM ${info.table}`,
          );
          const rows = Number(counted.rows[0]?.total ?? 0);
          if (rows === 0) return { created: false };
          sql = ivfflatIndexSql({
            schema,
            table: info.tableName,
            dimensions: info.dimensions,
            extension,
            lists: ivfflatLists ?? defaultIvfflatLists(rows),
          });
        } else {
          sql = vectorIndexSql({
            schema,
            table: info.tableName,
            dimensions: info.dimensions,
            extension,
            hnsw: vectorFeatures(extension.version).hnsw ? hnsw : undefined,
          });
        }
        if (!sql) return { created: false };
        const begin = indexBuildMemory
          ? `BEGIN; SET LOCAL maintenance_work_mem = '${indexBuildMemory}'`
          : 'BEGIN';
        return inTransaction(begin, async (client) => {
          await lock(client, `collection:${collection}`);
          const index = qualifiedName(schema, `${info.tableName}_vector`);
          const present = await client.query<{ found: string | null }>(
            'SELECT to_regclass($1)::text AS found',
            [index],
          );
          if (present.rows[0]?.found) return { created: false };
          await client.query(sql);
          return { created: true };
        });
      });
    },

    async dropCollection({ collection }) {
      checkCollectionName(collection, source);
      collections.delete(collection);
      await inTransaction('BEGIN', async (client) => {
        const registry = await client.query<{ found: string | null }>(
          'SELECT to_regclass($1)::text AS found',
          [collectionsTable],
        );
        if (!registry.rows[0]?.found) return;
        await lock(client, `collection:${collection}`);
        const found = await client.query<{ table_name: string }>(
          `DELETE FROM ${collectionsTable} WHERE name = $1 RETURNING table_name`,
          [collection],
        );
        const table = found.rows[0]?.table_name;
        if (table) await client.query(`DROP TABLE IF EXISTS ${qualifiedName(schema, table)}`);
      });
      collections.delete(collection);
      ivfflatIndexes.clear();
    },

    async commit(options) {
      await onCollection(options.collection, async (info) => {
        checkRecords(source, info.dimensions, options.upsert);
        checkEvents(options.history, source);
        await historyReady();
        const unique = latestById(options.upsert);
        const doomed = [...new Set(options.delete)];
        await inTransaction('BEGIN', async (client) => {
          if (doomed.length > 0) {
            await client.query(`DELETE FROM ${info.table} WHERE id = ANY($1::text[])`, [doomed]);
          }
          if (unique.length > 0) await writeRecords(client, info, unique);
          await appendEvents(client, historyTable, options.history);
        });
      });
    },

    ...pgvectorHistoryMethods({ pool, table: historyTable, ready: historyReady, source }),
  };

  return defineComponent<PgvectorStore>(
    lifecycle,
    {
      specificationVersion: 'v1',
      provider: source,
      capabilities,
      ...(scopeLock ? { scopeLock } : {}),
    },
    methods,
  );
}
