import {
  ClosedError,
  type CommitOptions,
  type CountOptions,
  type DeleteOptions,
  DimensionMismatchError,
  decodeCursor,
  type EnsureCollectionOptions,
  encodeCursor,
  type FilterExpression,
  filterOperators,
  type GetOptions,
  type HistoryEvent,
  type HistoryStore,
  InvalidArgumentError,
  type ListOptions,
  type ListPage,
  NotFoundError,
  normalizeScope,
  type QueryOptions,
  type Scope,
  type StoredRecord,
  throwIfAborted,
  tokenize,
  type UpsertOptions,
  type VectorMatch,
  type VectorRecord,
  type VectorStore,
  type VectorStoreCapabilities,
} from '@engram/core';
import pg from 'pg';
import { isUndefinedTable, wrapPgError } from './pgvector-errors.js';
import { type PgvectorParameter, translatePgvectorFilter } from './pgvector-filter.js';
import {
  checkCollectionName,
  checkSchemaName,
  checkTablePrefix,
  checkTextSearchConfig,
  collectionsTableSql,
  collectionTableName,
  collectionTableSql,
  historyTableSql,
  maxIndexedDimensions,
  qualifiedName,
  quoteIdentifier,
  sharedTableNames,
  type VectorExtension,
  vectorFeatures,
} from './pgvector-schema.js';

const source = 'pgvector';

/** Options of {@link createPgvectorStore} and {@link createPgvectorVectorStore}. */
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
  /** HNSW `m` (links per node) of collections created from now on. Default 16. */
  hnswM?: number;
  /** HNSW `ef_construction` of collections created from now on. Default 64. */
  hnswEfConstruction?: number;
  /** Most connections of the pool the store creates (not of a `pool` passed in). Default 10. */
  maxConnections?: number;
  /**
   * How long to wait for a connection of the pool the store creates, in milliseconds, before
   * failing with a retryable error. Default 30,000.
   */
  connectionTimeoutMs?: number;
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
    /** Closes the store, like `close()`. */
    [Symbol.asyncDispose](): Promise<void>;
  };

interface CollectionInfo {
  /** Schema-qualified, quoted table name. */
  table: string;
  dimensions: number;
  textSearchConfig: string;
}

interface MemoryRow {
  id: string;
  text: string;
  hash: string | null;
  user_id: string | null;
  agent_id: string | null;
  run_id: string | null;
  metadata: StoredRecord['metadata'];
  embedding?: string;
  created_at: string;
  updated_at: string;
}

interface HistoryRow {
  sequence: string;
  id: string;
  memory_id: string | null;
  event: HistoryEvent['event'];
  previous_text: string | null;
  new_text: string | null;
  user_id: string | null;
  agent_id: string | null;
  run_id: string | null;
  actor: string | null;
  detail: string | null;
  created_at: string;
}

type Queryable = Pick<pg.Pool | pg.PoolClient, 'query'>;

const maxBatchSize = 1000;
/** pgvector's longest `vector`. */
const maxDimensions = 16_000;
const maxKeywordTerms = 64;
const scopeColumns = { userId: 'user_id', agentId: 'agent_id', runId: 'run_id' } as const;
const memoryColumns = 'id, text, hash, user_id, agent_id, run_id, metadata, created_at, updated_at';
const historyColumns =
  'sequence, id, memory_id, event, previous_text, new_text, user_id, agent_id, run_id, actor, detail, created_at';

function positiveInteger(name: string, value: number | undefined, fallback: number, min = 1) {
  const result = value ?? fallback;
  if (!Number.isInteger(result) || result < min) {
    throw new InvalidArgumentError({
      source,
      message: `${name} must be an integer of at least ${min}, got ${String(value)}.`,
    });
  }
  return result;
}

/** Memoizes a successful async initialization; a failed one is tried again on the next call. */
function once<T>(initialize: () => Promise<T>): () => Promise<T> {
  let promise: Promise<T> | undefined;
  return () => {
    promise ??= initialize().catch((error: unknown) => {
      promise = undefined;
      throw error;
    });
    return promise;
  };
}

function vectorLiteral(vector: readonly number[]): string {
  return `[${vector.join(',')}]`;
}

function checkVector(
  vector: unknown,
  dimensions: number,
  what: string,
): asserts vector is number[] {
  if (!Array.isArray(vector) || vector.length !== dimensions) {
    const actual = Array.isArray(vector) ? vector.length : 0;
    throw new DimensionMismatchError({
      source,
      expected: dimensions,
      actual,
      message: `${what} has ${actual} dimensions; the collection holds ${dimensions}.`,
    });
  }
  if (!vector.every((value) => typeof value === 'number' && Number.isFinite(value))) {
    throw new InvalidArgumentError({
      source,
      message: `${what} holds a value that is not a finite number.`,
    });
  }
}

function checkRecords(dimensions: number, records: readonly VectorRecord[]) {
  for (const record of records) {
    if (typeof record.id !== 'string' || record.id.length === 0) {
      throw new InvalidArgumentError({
        source,
        message: 'Every record needs a non-empty string id.',
      });
    }
    checkVector(record.vector, dimensions, `The vector of record "${record.id}"`);
    if (typeof record.text !== 'string') {
      throw new InvalidArgumentError({
        source,
        message: `Record "${record.id}" needs a string text.`,
      });
    }
    normalizeScope(record, { source });
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

function toRecord(row: MemoryRow, includeVectors: boolean | undefined): StoredRecord {
  const record: StoredRecord = {
    id: row.id,
    text: row.text,
    metadata: row.metadata,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
  if (row.hash !== null) record.hash = row.hash;
  if (row.user_id !== null) record.userId = row.user_id;
  if (row.agent_id !== null) record.agentId = row.agent_id;
  if (row.run_id !== null) record.runId = row.run_id;
  if (includeVectors && row.embedding !== undefined) {
    record.vector = JSON.parse(row.embedding) as number[];
  }
  return record;
}

function toEvent(row: HistoryRow): HistoryEvent {
  const event: HistoryEvent = {
    id: row.id,
    memoryId: row.memory_id,
    event: row.event,
    previousText: row.previous_text,
    newText: row.new_text,
    createdAt: row.created_at,
  };
  if (row.user_id !== null) event.userId = row.user_id;
  if (row.agent_id !== null) event.agentId = row.agent_id;
  if (row.run_id !== null) event.runId = row.run_id;
  if (row.actor !== null) event.actor = row.actor;
  if (row.detail !== null) event.detail = row.detail;
  return event;
}

function selectColumns(includeVectors: boolean | undefined): string {
  return includeVectors ? `${memoryColumns}, embedding::text AS embedding` : memoryColumns;
}

/** Scope columns equal to the scope's ids, and the filter, ANDed; `true` when neither is given. */
function whereClause(
  scopeInput: Scope | undefined,
  filter: FilterExpression | undefined,
  initial: readonly PgvectorParameter[] = [],
): { sql: string; parameters: PgvectorParameter[]; selective: boolean } {
  const scope = normalizeScope(scopeInput, { source });
  let parameters: PgvectorParameter[] = [...initial];
  const conditions: string[] = [];
  for (const [field, column] of Object.entries(scopeColumns)) {
    const value = scope[field as keyof Scope];
    if (value === undefined) continue;
    conditions.push(`${column} = $${parameters.push(value)}`);
  }
  if (filter) {
    const translated = translatePgvectorFilter(filter, { parameters });
    conditions.push(translated.sql);
    parameters = translated.parameters;
  }
  return {
    sql: conditions.length > 0 ? conditions.join(' AND ') : 'true',
    parameters,
    selective: conditions.length > 0,
  };
}

/**
 * Creates the PostgreSQL store. Nothing is connected until the first call: then the schema,
 * the collections registry (and, on first history use, the history table) are created if
 * missing, and `ensureCollection` creates the `vector` extension if it is not there yet.
 */
export function createPgvectorStore(options: PgvectorVectorStoreOptions = {}): PgvectorStore {
  const schema = checkSchemaName(options.schema ?? 'public');
  const prefix = checkTablePrefix(options.tablePrefix ?? 'engram_');
  const textSearchConfig = checkTextSearchConfig(options.textSearchConfig ?? 'english');
  const exactSearchThreshold = positiveInteger(
    'exactSearchThreshold',
    options.exactSearchThreshold,
    2_000,
    0,
  );
  const efSearch = Math.min(1000, positiveInteger('efSearch', options.efSearch, 40));
  const hnsw = {
    m: Math.min(100, positiveInteger('hnswM', options.hnswM, 16, 2)),
    efConstruction: Math.min(
      1000,
      positiveInteger('hnswEfConstruction', options.hnswEfConstruction, 64, 4),
    ),
  };
  const maxConnections = positiveInteger('maxConnections', options.maxConnections, 10);
  const connectionTimeoutMs = positiveInteger(
    'connectionTimeoutMs',
    options.connectionTimeoutMs,
    30_000,
  );
  const tables = sharedTableNames(prefix);
  const collectionsTable = qualifiedName(schema, tables.collections);
  const historyTable = qualifiedName(schema, tables.history);

  let pool: pg.Pool | undefined;
  let closed = false;
  const collections = new Map<string, CollectionInfo>();

  const capabilities: VectorStoreCapabilities = {
    keywordSearch: true,
    filterOperators,
    maxBatchSize,
    metric: 'cosine',
    atomicHistory: true,
  };

  function getPool(): pg.Pool {
    if (pool) return pool;
    if (options.pool) {
      pool = options.pool;
      return pool;
    }
    const connectionString =
      options.connectionString ??
      options.url ??
      process.env.PGVECTOR_URL ??
      process.env.DATABASE_URL;
    if (!connectionString && !process.env.PGHOST) {
      throw new InvalidArgumentError({
        source,
        message:
          'No PostgreSQL server given: pass connectionString or pool, or set PGVECTOR_URL (or DATABASE_URL).',
      });
    }
    const created = new pg.Pool({
      ...(connectionString ? { connectionString } : {}),
      max: maxConnections,
      connectionTimeoutMillis: connectionTimeoutMs,
      application_name: 'engram',
    });
    // An idle connection that the server drops emits 'error' on the pool; without a listener
    // that would crash the process. The next checkout simply opens a new connection.
    created.on('error', () => {});
    pool = created;
    return created;
  }

  async function run<T>(
    signal: AbortSignal | undefined,
    action: string,
    work: () => Promise<T>,
  ): Promise<T> {
    if (closed) {
      throw new ClosedError({ source, message: 'The store was closed; create a new one.' });
    }
    throwIfAborted(signal, source);
    try {
      return await work();
    } catch (error) {
      throw wrapPgError(error, action);
    }
  }

  async function transaction<T>(
    begin: string,
    work: (client: pg.PoolClient) => Promise<T>,
  ): Promise<T> {
    const client = await getPool().connect();
    let broken = false;
    try {
      await client.query(begin);
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      try {
        await client.query('ROLLBACK');
      } catch {
        broken = true;
      }
      throw error;
    } finally {
      client.release(broken);
    }
  }

  /** Serializes DDL on one name across every process sharing the database. */
  function lock(client: pg.PoolClient, name: string) {
    return client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [
      `engram:${schema}:${prefix}:${name}`,
    ]);
  }

  const schemaReady = once(async () => {
    const existing = await getPool().query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [
      schema,
    ]);
    if (existing.rowCount) return;
    await transaction('BEGIN', async (client) => {
      await lock(client, '');
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(schema)}`);
    });
  });

  const collectionsReady = once(async () => {
    await schemaReady();
    await transaction('BEGIN', async (client) => {
      await lock(client, tables.collections);
      await client.query(collectionsTableSql(schema, prefix));
    });
  });

  const historyReady = once(async () => {
    await schemaReady();
    await transaction('BEGIN', async (client) => {
      await lock(client, tables.history);
      for (const sql of historyTableSql(schema, prefix)) await client.query(sql);
    });
  });

  async function findExtension(db: Queryable): Promise<VectorExtension | undefined> {
    const result = await db.query<{ version: string; schema: string }>(
      `SELECT extension.extversion AS version, namespace.nspname AS schema
       FROM pg_extension AS extension JOIN pg_namespace AS namespace ON namespace.oid = extension.extnamespace
       WHERE extension.extname = 'vector'`,
    );
    return result.rows[0];
  }

  /** The `vector` extension, created when missing (which needs the CREATE privilege once). */
  const vectorExtension = once(async (): Promise<VectorExtension> => {
    const found = await findExtension(getPool());
    if (found) return found;
    return transaction('BEGIN', async (client) => {
      await lock(client, 'extension');
      await client.query('CREATE EXTENSION IF NOT EXISTS vector');
      const created = await findExtension(client);
      if (!created) throw new Error('CREATE EXTENSION vector left no extension behind.');
      return created;
    });
  });

  function notFound(collection: string, cause?: unknown) {
    return new NotFoundError({
      source,
      message: `Collection "${collection}" does not exist; call ensureCollection first.`,
      ...(cause === undefined ? {} : { cause }),
    });
  }

  function infoOf(row: { table_name: string; dimensions: number; text_search_config: string }) {
    return {
      table: qualifiedName(schema, row.table_name),
      dimensions: row.dimensions,
      textSearchConfig: row.text_search_config,
    };
  }

  async function collectionInfo(collection: string): Promise<CollectionInfo> {
    checkCollectionName(collection);
    const cached = collections.get(collection);
    if (cached) return cached;
    let rows: { table_name: string; dimensions: number; text_search_config: string }[];
    try {
      rows = (
        await getPool().query(
          `SELECT table_name, dimensions, text_search_config FROM ${collectionsTable} WHERE name = $1`,
          [collection],
        )
      ).rows;
    } catch (error) {
      if (isUndefinedTable(error)) throw notFound(collection, error);
      throw error;
    }
    if (!rows[0]) throw notFound(collection);
    const info = infoOf(rows[0]);
    collections.set(collection, info);
    return info;
  }

  /** Runs work on a collection; a table dropped by another process surfaces as NotFoundError. */
  function onCollection<T>(
    signal: AbortSignal | undefined,
    action: string,
    collection: string,
    work: (info: CollectionInfo) => Promise<T>,
  ): Promise<T> {
    return run(signal, action, async () => {
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
    });
  }

  async function writeRecords(
    db: Queryable,
    info: CollectionInfo,
    records: readonly VectorRecord[],
  ) {
    const extension = await vectorExtension();
    const vectorType = `${quoteIdentifier(extension.schema)}.vector`;
    const sql = `INSERT INTO ${info.table} AS target
        (id, text, hash, user_id, agent_id, run_id, metadata, embedding, created_at, updated_at)
      SELECT input.id, input.text, input.hash, input.user_id, input.agent_id, input.run_id,
        input.metadata::jsonb, input.embedding::${vectorType}, input.created_at, input.updated_at
      FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
        $7::text[], $8::text[], $9::text[], $10::text[])
        AS input(id, text, hash, user_id, agent_id, run_id, metadata, embedding, created_at, updated_at)
      ON CONFLICT (id) DO UPDATE SET
        text = excluded.text, hash = excluded.hash, user_id = excluded.user_id,
        agent_id = excluded.agent_id, run_id = excluded.run_id, metadata = excluded.metadata,
        embedding = excluded.embedding, created_at = excluded.created_at,
        updated_at = excluded.updated_at`;
    for (let start = 0; start < records.length; start += maxBatchSize) {
      const chunk = records.slice(start, start + maxBatchSize);
      await db.query(sql, [
        chunk.map((record) => record.id),
        chunk.map((record) => record.text),
        chunk.map((record) => record.hash ?? null),
        chunk.map((record) => record.userId ?? null),
        chunk.map((record) => record.agentId ?? null),
        chunk.map((record) => record.runId ?? null),
        chunk.map((record) => JSON.stringify(record.metadata ?? {})),
        chunk.map((record) => vectorLiteral(record.vector)),
        chunk.map((record) => record.createdAt),
        chunk.map((record) => record.updatedAt),
      ]);
    }
  }

  async function appendEvents(db: Queryable, events: readonly HistoryEvent[]) {
    if (events.length === 0) return;
    const column = (read: (event: HistoryEvent) => string | null | undefined) =>
      events.map((event) => read(event) ?? null);
    await db.query(
      `INSERT INTO ${historyTable}
         (id, memory_id, event, previous_text, new_text, user_id, agent_id, run_id, actor, detail, created_at)
       SELECT input.id, input.memory_id, input.event, input.previous_text, input.new_text,
         input.user_id, input.agent_id, input.run_id, input.actor, input.detail, input.created_at
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
         $7::text[], $8::text[], $9::text[], $10::text[], $11::text[]) WITH ORDINALITY
         AS input(id, memory_id, event, previous_text, new_text, user_id, agent_id, run_id, actor, detail, created_at, position)
       ORDER BY input.position`,
      [
        column((event) => event.id),
        column((event) => event.memoryId),
        column((event) => event.event),
        column((event) => event.previousText),
        column((event) => event.newText),
        column((event) => event.userId),
        column((event) => event.agentId),
        column((event) => event.runId),
        column((event) => event.actor),
        column((event) => event.detail),
        column((event) => event.createdAt),
      ],
    );
  }

  function checkEvents(events: readonly HistoryEvent[]) {
    for (const event of events) {
      if (typeof event.id !== 'string' || event.id.length === 0) {
        throw new InvalidArgumentError({ source, message: 'Every history event needs an id.' });
      }
      if (typeof event.createdAt !== 'string') {
        throw new InvalidArgumentError({
          source,
          message: `History event "${event.id}" needs a createdAt time.`,
        });
      }
    }
  }

  async function vectorQuery(info: CollectionInfo, options: QueryOptions, topK: number) {
    const vector = options.vector!;
    checkVector(vector, info.dimensions, 'The query vector');
    const where = whereClause(options.scope, options.filter);
    if (topK === 0) return [];
    const extension = await vectorExtension();
    const features = vectorFeatures(extension.version);
    const vectorSchema = quoteIdentifier(extension.schema);
    const parameters = [...where.parameters, vectorLiteral(vector), topK];
    const vectorPlaceholder = `$${parameters.length - 1}::${vectorSchema}.vector`;
    const limitPlaceholder = `$${parameters.length}`;
    const distance = `(embedding OPERATOR(${vectorSchema}.<=>) ${vectorPlaceholder})`;
    const columns = selectColumns(options.includeVectors);
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

    const db = getPool();
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
      const settings = [
        'BEGIN READ ONLY',
        `SET LOCAL hnsw.ef_search = ${Math.min(1000, Math.max(efSearch, topK))}`,
        // Without an iterative scan, HNSW finds ef_search candidates and the filter then drops
        // most of them: a selective filter would return fewer than topK rows.
        ...(features.iterativeScan ? ['SET LOCAL hnsw.iterative_scan = relaxed_order'] : []),
      ];
      rows = await transaction(settings.join('; '), async (client) => {
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
    const where = whereClause(options.scope, options.filter);
    // Words only (letters and digits), OR-ed: BM25-style ranking of records holding any of them,
    // and nothing in the text can be read as tsquery syntax.
    const terms = [...new Set(tokenize(options.text ?? ''))].slice(0, maxKeywordTerms);
    if (terms.length === 0 || topK === 0) return [];
    const parameters = [...where.parameters, info.textSearchConfig, terms.join(' | '), topK];
    const count = parameters.length;
    const rows = (
      await getPool().query<MemoryRow & { score: number }>(
        `SELECT ${selectColumns(options.includeVectors)}, ts_rank_cd(search, query, 1) AS score
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

  function scopeConditions(scope: Scope, parameters: PgvectorParameter[]): string[] {
    const conditions: string[] = [];
    for (const [field, column] of Object.entries(scopeColumns)) {
      const value = scope[field as keyof Scope];
      if (value === undefined) continue;
      conditions.push(`${column} = $${parameters.push(value)}`);
    }
    return conditions;
  }

  async function close() {
    if (closed) return;
    closed = true;
    collections.clear();
    const owned = pool && !options.pool ? pool : undefined;
    pool = undefined;
    if (owned) {
      try {
        await owned.end();
      } catch (error) {
        throw wrapPgError(error, 'Closing the connection pool');
      }
    }
  }

  return {
    specificationVersion: 'v1',
    provider: source,
    capabilities,

    async ensureCollection({ collection, dimensions, abortSignal }: EnsureCollectionOptions) {
      await run(abortSignal, 'ensureCollection', async () => {
        checkCollectionName(collection);
        if (!Number.isInteger(dimensions) || dimensions <= 0 || dimensions > maxDimensions) {
          throw new InvalidArgumentError({
            source,
            message: `dimensions must be an integer from 1 to ${maxDimensions}, got ${dimensions}.`,
          });
        }
        await collectionsReady();
        const extension = await vectorExtension();
        const features = vectorFeatures(extension.version);
        const info = await transaction('BEGIN', async (client) => {
          await lock(client, `collection:${collection}`);
          const existing = await client.query(
            `SELECT table_name, dimensions, text_search_config FROM ${collectionsTable} WHERE name = $1`,
            [collection],
          );
          const row = existing.rows[0];
          if (row) {
            const present = await client.query<{ found: string | null }>(
              'SELECT to_regclass($1)::text AS found',
              [qualifiedName(schema, row.table_name)],
            );
            if (present.rows[0]?.found) return infoOf(row);
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
            hnsw: features.hnsw ? hnsw : undefined,
          });
          for (const sql of statements) await client.query(sql);
          await client.query(
            `INSERT INTO ${collectionsTable} (name, table_name, dimensions, text_search_config) VALUES ($1, $2, $3, $4)`,
            [collection, table, dimensions, textSearchConfig],
          );
          return infoOf({ table_name: table, dimensions, text_search_config: textSearchConfig });
        });
        collections.set(collection, info);
        if (info.dimensions !== dimensions) {
          throw new DimensionMismatchError({
            source,
            expected: info.dimensions,
            actual: dimensions,
            message: `Collection "${collection}" holds ${info.dimensions}-dimensional vectors, not ${dimensions}. Use the embedder it was created with, or another collection.`,
          });
        }
      });
    },

    async upsert({ collection, records, abortSignal }: UpsertOptions) {
      await onCollection(abortSignal, 'upsert', collection, async (info) => {
        checkRecords(info.dimensions, records);
        const unique = latestById(records);
        if (unique.length === 0) return;
        if (unique.length <= maxBatchSize) {
          await writeRecords(getPool(), info, unique);
        } else {
          await transaction('BEGIN', (client) => writeRecords(client, info, unique));
        }
      });
    },

    async query(options: QueryOptions): Promise<VectorMatch[]> {
      return onCollection(options.abortSignal, 'query', options.collection, async (info) => {
        const topK = Math.max(0, Math.floor(options.topK));
        if (options.vector) return vectorQuery(info, options, topK);
        if (options.text !== undefined) return keywordQuery(info, options, topK);
        throw new InvalidArgumentError({ source, message: 'query needs a vector or a text.' });
      });
    },

    async get({ collection, ids, includeVectors, abortSignal }: GetOptions) {
      return onCollection(abortSignal, 'get', collection, async (info) => {
        if (ids.length === 0) return [];
        const rows = (
          await getPool().query<MemoryRow>(
            `SELECT ${selectColumns(includeVectors)} FROM ${info.table} WHERE id = ANY($1::text[])`,
            [[...new Set(ids)]],
          )
        ).rows;
        const byId = new Map(rows.map((row) => [row.id, row]));
        const result: StoredRecord[] = [];
        for (const id of ids) {
          const row = byId.get(id);
          if (row) result.push(toRecord(row, includeVectors));
        }
        return result;
      });
    },

    async delete(options: DeleteOptions) {
      return onCollection(options.abortSignal, 'delete', options.collection, async (info) => {
        if (options.ids) {
          if (options.ids.length === 0) return { deleted: 0 };
          const result = await getPool().query(
            `DELETE FROM ${info.table} WHERE id = ANY($1::text[])`,
            [[...new Set(options.ids)]],
          );
          return { deleted: result.rowCount ?? 0 };
        }
        const where = whereClause(options.scope, options.filter);
        if (!where.selective) {
          throw new InvalidArgumentError({
            source,
            message:
              'delete needs ids, a non-empty scope or a filter; use dropCollection to empty a collection.',
          });
        }
        const result = await getPool().query(
          `DELETE FROM ${info.table} WHERE ${where.sql}`,
          where.parameters,
        );
        return { deleted: result.rowCount ?? 0 };
      });
    },

    async list(options: ListOptions): Promise<ListPage> {
      return onCollection(options.abortSignal, 'list', options.collection, async (info) => {
        const after = decodeCursor(options.cursor, source);
        const where = whereClause(options.scope, options.filter);
        const limit = Math.max(0, Math.floor(options.limit));
        const parameters = [...where.parameters];
        const afterSql = after === undefined ? '' : ` AND id > $${parameters.push(after)}`;
        const rows = (
          await getPool().query<MemoryRow>(
            `SELECT ${selectColumns(options.includeVectors)} FROM ${info.table}
             WHERE ${where.sql}${afterSql} ORDER BY id LIMIT $${parameters.push(limit + 1)}`,
            parameters,
          )
        ).rows;
        const page = rows.slice(0, limit);
        const last = page.at(-1);
        return {
          records: page.map((row) => toRecord(row, options.includeVectors)),
          ...(rows.length > limit && last ? { nextCursor: encodeCursor(last.id) } : {}),
        };
      });
    },

    async count(options: CountOptions) {
      return onCollection(options.abortSignal, 'count', options.collection, async (info) => {
        const where = whereClause(options.scope, options.filter);
        const result = await getPool().query<{ total: string }>(
          `SELECT count(*) AS total FROM ${info.table} WHERE ${where.sql}`,
          where.parameters,
        );
        return Number(result.rows[0]?.total ?? 0);
      });
    },

    async dropCollection({ collection, abortSignal }) {
      await run(abortSignal, 'dropCollection', async () => {
        checkCollectionName(collection);
        collections.delete(collection);
        await transaction('BEGIN', async (client) => {
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
      });
    },

    async commit(options: CommitOptions) {
      await onCollection(options.abortSignal, 'commit', options.collection, async (info) => {
        checkRecords(info.dimensions, options.upsert);
        checkEvents(options.history);
        await historyReady();
        const unique = latestById(options.upsert);
        const doomed = [...new Set(options.delete)];
        await transaction('BEGIN', async (client) => {
          if (doomed.length > 0) {
            await client.query(`DELETE FROM ${info.table} WHERE id = ANY($1::text[])`, [doomed]);
          }
          if (unique.length > 0) await writeRecords(client, info, unique);
          await appendEvents(client, options.history);
        });
      });
    },

    async append({ events, abortSignal }) {
      await run(abortSignal, 'append', async () => {
        checkEvents(events);
        await historyReady();
        await appendEvents(getPool(), events);
      });
    },

    async byMemory({ memoryId, abortSignal }) {
      return run(abortSignal, 'byMemory', async () => {
        await historyReady();
        const rows = (
          await getPool().query<HistoryRow>(
            `SELECT ${historyColumns} FROM ${historyTable} WHERE memory_id = $1 ORDER BY sequence`,
            [memoryId],
          )
        ).rows;
        return rows.map(toEvent);
      });
    },

    async byScope({ scope: scopeInput, limit, cursor, abortSignal }) {
      return run(abortSignal, 'byScope', async () => {
        const scope = normalizeScope(scopeInput, { required: true, source });
        const after = Number(decodeCursor(cursor, source) ?? 0);
        if (!Number.isSafeInteger(after) || after < 0) {
          throw new InvalidArgumentError({
            source,
            message: 'cursor is not valid; pass the nextCursor of a previous page unchanged.',
          });
        }
        await historyReady();
        const pageSize = Math.max(0, Math.floor(limit));
        const parameters: PgvectorParameter[] = [String(after)];
        const conditions = ['sequence > $1', ...scopeConditions(scope, parameters)];
        const rows = (
          await getPool().query<HistoryRow>(
            `SELECT ${historyColumns} FROM ${historyTable} WHERE ${conditions.join(' AND ')}
             ORDER BY sequence LIMIT $${parameters.push(pageSize + 1)}`,
            parameters,
          )
        ).rows;
        const page = rows.slice(0, pageSize);
        const last = page.at(-1);
        return {
          events: page.map(toEvent),
          ...(rows.length > pageSize && last ? { nextCursor: encodeCursor(last.sequence) } : {}),
        };
      });
    },

    async deleteScope({ scope: scopeInput, abortSignal }) {
      return run(abortSignal, 'deleteScope', async () => {
        const scope = normalizeScope(scopeInput, { source });
        const parameters: PgvectorParameter[] = [];
        const conditions = scopeConditions(scope, parameters);
        if (conditions.length === 0) {
          throw new InvalidArgumentError({
            source,
            message: 'deleteScope needs a non-empty scope.',
          });
        }
        await historyReady();
        const result = await getPool().query(
          `DELETE FROM ${historyTable} WHERE ${conditions.join(' AND ')}`,
          parameters,
        );
        return { deleted: result.rowCount ?? 0 };
      });
    },

    close,
    [Symbol.asyncDispose]: close,
  };
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
