import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  AdapterCallError,
  ClosedError,
  type CommitOptions,
  type CountOptions,
  type DeleteOptions,
  DimensionMismatchError,
  decodeCursor,
  EngramError,
  type EnsureCollectionOptions,
  encodeCursor,
  type FilterExpression,
  filterOperators,
  type GetOptions,
  type HistoryEvent,
  type HistoryStore,
  InvalidArgumentError,
  keywordWords,
  type ListOptions,
  type ListPage,
  NotFoundError,
  normalizeScope,
  type QueryOptions,
  type Scope,
  type StoredRecord,
  scopeKey,
  throwIfAborted,
  type UpsertOptions,
  type VectorMatch,
  type VectorRecord,
  type VectorStore,
  type VectorStoreCapabilities,
} from '@engram/core';
import Database from 'better-sqlite3';
import { translateSqliteFilter } from './sqlite-filter.js';
import { schemaSql, schemaVersion } from './sqlite-schema.js';

const source = 'sqlite';

type SqliteDatabase = Database.Database;
type Statement = Database.Statement<unknown[], unknown>;
type Parameter = string | number | Buffer | null;

/** Options of {@link createSqliteStore}. */
export interface SqliteStoreOptions {
  /**
   * Database file, or `':memory:'` for a private in-process database. Default:
   * `engram.db` in `ENGRAM_HOME`, or in `~/.engram` when that variable is unset. The directory is
   * created on first use.
   */
  path?: string;
  /**
   * An open better-sqlite3 database to use instead of opening `path`. The store sets its pragmas
   * and creates its tables in it, and leaves it open on `close()`: its owner closes it.
   */
  database?: SqliteDatabase;
  /** How long a write waits for another connection's lock before failing, in ms. Default 5000. */
  busyTimeoutMs?: number;
  /**
   * Most vectors kept in process memory to answer repeated scoped searches without reading them
   * again; 0 turns the cache off. Writes (this process's, or another's that share the file)
   * empty it. Default 8,000,000 (32 MB; 20 scopes of 1,000 vectors of 384 dimensions).
   */
  vectorCacheSize?: number;
}

/** The SQLite store: a vector store with keyword search that is also the history store. */
export type SqliteStore = VectorStore &
  HistoryStore & {
    /** Applies upserts, deletes and history events in one transaction. */
    commit(options: CommitOptions): Promise<void>;
    /** The database file (or `':memory:'`) the store uses. */
    readonly path: string;
    /** Closes the store, like `close()`. */
    [Symbol.asyncDispose](): Promise<void>;
  };

/** `engram.db` in `ENGRAM_HOME`, or in `~/.engram`. */
export function defaultSqlitePath(): string {
  return join(process.env.ENGRAM_HOME ?? join(homedir(), '.engram'), 'engram.db');
}

interface MemoryRow {
  row_id: number;
  id: string;
  text: string;
  hash: string | null;
  user_id: string | null;
  agent_id: string | null;
  run_id: string | null;
  metadata: string;
  vector: Buffer;
  created_at: string;
  updated_at: string;
}

interface HistoryRow {
  sequence: number;
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

interface CachedScope {
  rowIds: Float64Array;
  ids: string[];
  vectors: Float32Array;
  norms: Float64Array;
}

const memoryColumns =
  'row_id, id, text, hash, user_id, agent_id, run_id, metadata, created_at, updated_at';
const scopeColumns = { userId: 'user_id', agentId: 'agent_id', runId: 'run_id' } as const;
const maxBatchSize = 1000;
const maxStatements = 256;

function toBlob(vector: readonly number[]): Buffer {
  const floats = Float32Array.from(vector);
  return Buffer.from(floats.buffer, floats.byteOffset, floats.byteLength);
}

function toFloats(blob: Buffer): Float32Array {
  // A Buffer may start at an odd offset of a shared pool; Float32Array needs 4-byte alignment.
  if (blob.byteOffset % 4 === 0) {
    return new Float32Array(blob.buffer, blob.byteOffset, blob.byteLength / 4);
  }
  return new Float32Array(Uint8Array.from(blob).buffer);
}

/**
 * The shortest decimal that reads back as the same float32, so a stored 0.1 is returned as 0.1
 * rather than 0.10000000149011612.
 */
function shortestFloat32(value: number): number {
  for (let digits = 1; digits < 9; digits++) {
    const candidate = Number(value.toPrecision(digits));
    if (Math.fround(candidate) === value) return candidate;
  }
  return value;
}

function norm(vector: ArrayLike<number>, offset = 0, length = vector.length): number {
  let sum = 0;
  for (let index = offset; index < offset + length; index++) {
    const value = vector[index]!;
    sum += value * value;
  }
  return Math.sqrt(sum);
}

function installedSchemaVersion(database: SqliteDatabase): number {
  const hasMeta = database
    .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'engram_meta'")
    .get();
  if (!hasMeta) return 0;
  const version = database
    .prepare("SELECT value FROM engram_meta WHERE key = 'schema_version'")
    .pluck()
    .get() as string | undefined;
  return Number(version ?? 0);
}

function isRetryableCode(code: unknown): boolean {
  return typeof code === 'string' && /^SQLITE_(BUSY|LOCKED)/.test(code);
}

function wrapError(error: unknown, action: string): unknown {
  if (EngramError.isInstance(error)) return error;
  const code = (error as { code?: unknown } | null)?.code;
  const detail = error instanceof Error ? error.message : String(error);
  return new AdapterCallError({
    source,
    message: `${action} failed${typeof code === 'string' ? ` (${code})` : ''}: ${detail}`,
    isRetryable: isRetryableCode(code),
    cause: error,
  });
}

function compareIds(left: string, right: string): number {
  return left < right ? -1 : left > right ? 1 : 0;
}

/**
 * Indices of the `topK` highest scores, best first, ties by id. Keeps a small sorted window
 * instead of sorting every score, since topK is usually tiny next to the scope.
 */
function bestIndices(scores: Float64Array, ids: readonly string[], topK: number): number[] {
  const better = (left: number, right: number) =>
    scores[left]! > scores[right]! ||
    (scores[left]! === scores[right]! && compareIds(ids[left]!, ids[right]!) < 0);
  if (topK === 0) return [];
  if (topK * 8 >= scores.length) {
    return Array.from(scores.keys())
      .sort((left, right) => (better(left, right) ? -1 : better(right, left) ? 1 : 0))
      .slice(0, topK);
  }
  const best: number[] = [];
  for (let index = 0; index < scores.length; index++) {
    if (best.length === topK && !better(index, best[topK - 1]!)) continue;
    let position = best.length === topK ? topK - 1 : best.length;
    while (position > 0 && better(index, best[position - 1]!)) {
      best[position] = best[position - 1]!;
      position--;
    }
    best[position] = index;
  }
  return best;
}

/**
 * Creates the embedded SQLite store: memories of every collection, their vectors, a keyword
 * (FTS5) index and the change history in one database file. Nothing is opened until the first
 * call.
 */
export function createSqliteStore(options: SqliteStoreOptions = {}): SqliteStore {
  const path = options.database ? options.database.name : (options.path ?? defaultSqlitePath());
  const busyTimeoutMs = options.busyTimeoutMs ?? 5000;
  const vectorCacheSize = options.vectorCacheSize ?? 8_000_000;
  let database: SqliteDatabase | undefined;
  let closed = false;
  const statements = new Map<string, Statement>();
  const cache = new Map<string, CachedScope>();
  let cachedFloats = 0;
  let dataVersion: number | undefined;

  const capabilities: VectorStoreCapabilities = {
    keywordSearch: true,
    filterOperators,
    maxBatchSize,
    metric: 'cosine',
    atomicHistory: true,
  };

  function openDatabase(): SqliteDatabase {
    if (database) return database;
    let opened: SqliteDatabase;
    try {
      if (options.database) {
        opened = options.database;
      } else {
        if (path !== ':memory:' && path !== '') mkdirSync(dirname(path), { recursive: true });
        opened = new Database(path, { timeout: busyTimeoutMs });
      }
      opened.pragma(`busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
      if (!opened.memory) opened.pragma('journal_mode = WAL');
      opened.pragma('synchronous = NORMAL');
      if (installedSchemaVersion(opened) < schemaVersion) {
        opened
          .transaction(() => {
            opened.exec(schemaSql);
            opened
              .prepare(
                "INSERT OR REPLACE INTO engram_meta (key, value) VALUES ('schema_version', ?)",
              )
              .run(String(schemaVersion));
          })
          .immediate();
      }
    } catch (error) {
      throw wrapError(error, `Opening the database "${path}"`);
    }
    database = opened;
    return opened;
  }

  /** Runs one unit of work against the open database, turning driver errors into Engram ones. */
  function use<T>(
    signal: AbortSignal | undefined,
    action: string,
    work: (db: SqliteDatabase) => T,
  ) {
    if (closed) {
      throw new ClosedError({ source, message: 'The store was closed; create a new one.' });
    }
    throwIfAborted(signal, source);
    const db = openDatabase();
    try {
      return work(db);
    } catch (error) {
      throw wrapError(error, action);
    }
  }

  function statement(db: SqliteDatabase, sql: string): Statement {
    let prepared = statements.get(sql);
    if (!prepared) {
      if (statements.size >= maxStatements) statements.clear();
      prepared = db.prepare(sql);
      statements.set(sql, prepared);
    }
    return prepared;
  }

  function writeTransaction<T>(db: SqliteDatabase, work: () => T): T {
    const result = db.transaction(work).immediate();
    clearCache();
    return result;
  }

  function clearCache() {
    cache.clear();
    cachedFloats = 0;
  }

  /** Drops cached vectors when another connection has committed since they were read. */
  function checkDataVersion(db: SqliteDatabase) {
    const current = db.pragma('data_version', { simple: true }) as number;
    if (current !== dataVersion) {
      clearCache();
      dataVersion = current;
    }
  }

  function dimensionsOf(db: SqliteDatabase, collection: string): number {
    const row = statement(db, 'SELECT dimensions FROM engram_collections WHERE name = ?').get(
      collection,
    ) as { dimensions: number } | undefined;
    if (!row) {
      throw new NotFoundError({
        source,
        message: `Collection "${collection}" does not exist; call ensureCollection first.`,
      });
    }
    return row.dimensions;
  }

  /** WHERE clause (without the keyword) selecting a collection's records by scope and filter. */
  function whereClause(
    collection: string,
    scopeInput: Scope | undefined,
    filter: FilterExpression | undefined,
    alias = '',
  ): { sql: string; parameters: Parameter[]; scope: Scope } {
    const scope = normalizeScope(scopeInput, { source });
    const conditions = [`${alias}collection = ?`];
    const parameters: Parameter[] = [collection];
    for (const [field, column] of Object.entries(scopeColumns)) {
      const value = scope[field as keyof Scope];
      if (value === undefined) continue;
      conditions.push(`${alias}${column} = ?`);
      parameters.push(value);
    }
    if (filter) {
      const translated = translateSqliteFilter(filter, `${alias}metadata`);
      conditions.push(translated.sql);
      parameters.push(...translated.parameters);
    }
    return { sql: conditions.join(' AND '), parameters, scope };
  }

  function toRecord(row: MemoryRow, includeVectors: boolean | undefined): StoredRecord {
    const record: StoredRecord = {
      id: row.id,
      text: row.text,
      metadata: JSON.parse(row.metadata) as StoredRecord['metadata'],
      createdAt: row.created_at,
      updatedAt: row.updated_at,
    };
    if (row.hash !== null) record.hash = row.hash;
    if (row.user_id !== null) record.userId = row.user_id;
    if (row.agent_id !== null) record.agentId = row.agent_id;
    if (row.run_id !== null) record.runId = row.run_id;
    if (includeVectors) record.vector = Array.from(toFloats(row.vector), shortestFloat32);
    return record;
  }

  function selectColumns(includeVectors: boolean | undefined, alias = '') {
    const columns = memoryColumns
      .split(', ')
      .map((column) => `${alias}${column}`)
      .join(', ');
    return includeVectors ? `${columns}, ${alias}vector` : columns;
  }

  function checkRecords(dimensions: number, records: readonly VectorRecord[]) {
    for (const record of records) {
      if (typeof record.id !== 'string' || record.id.length === 0) {
        throw new InvalidArgumentError({
          source,
          message: 'Every record needs a non-empty string id.',
        });
      }
      if (!Array.isArray(record.vector) || record.vector.length !== dimensions) {
        const actual = Array.isArray(record.vector) ? record.vector.length : 0;
        throw new DimensionMismatchError({
          source,
          expected: dimensions,
          actual,
          message: `Record "${record.id}" has a ${actual}-dimensional vector; the collection holds ${dimensions}.`,
        });
      }
      if (typeof record.text !== 'string') {
        throw new InvalidArgumentError({
          source,
          message: `Record "${record.id}" needs a string text.`,
        });
      }
    }
    for (const record of records) normalizeScope(record, { source });
  }

  function writeRecords(db: SqliteDatabase, collection: string, records: readonly VectorRecord[]) {
    const insert = statement(
      db,
      `INSERT INTO engram_memories (collection, id, text, hash, user_id, agent_id, run_id, metadata, vector, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (collection, id) DO UPDATE SET
         text = excluded.text, hash = excluded.hash, user_id = excluded.user_id,
         agent_id = excluded.agent_id, run_id = excluded.run_id, metadata = excluded.metadata,
         vector = excluded.vector, created_at = excluded.created_at, updated_at = excluded.updated_at`,
    );
    for (const record of records) {
      insert.run(
        collection,
        record.id,
        record.text,
        record.hash ?? null,
        record.userId ?? null,
        record.agentId ?? null,
        record.runId ?? null,
        JSON.stringify(record.metadata ?? {}),
        toBlob(record.vector),
        record.createdAt,
        record.updatedAt,
      );
    }
  }

  function deleteIds(db: SqliteDatabase, collection: string, ids: readonly string[]): number {
    const remove = statement(db, 'DELETE FROM engram_memories WHERE collection = ? AND id = ?');
    let deleted = 0;
    for (const id of new Set(ids)) deleted += remove.run(collection, id).changes;
    return deleted;
  }

  function appendEvents(db: SqliteDatabase, events: readonly HistoryEvent[]) {
    const insert = statement(
      db,
      `INSERT INTO engram_history (id, memory_id, event, previous_text, new_text, user_id, agent_id, run_id, actor, detail, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    for (const event of events) {
      insert.run(
        event.id,
        event.memoryId ?? null,
        event.event,
        event.previousText ?? null,
        event.newText ?? null,
        event.userId ?? null,
        event.agentId ?? null,
        event.runId ?? null,
        event.actor ?? null,
        event.detail ?? null,
        event.createdAt,
      );
    }
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

  /** The scope's vectors from the cache, or read and cached when they fit in its budget. */
  function cachedScope(
    db: SqliteDatabase,
    collection: string,
    dimensions: number,
    where: { sql: string; parameters: Parameter[]; scope: Scope },
  ): CachedScope | undefined {
    const key = `${collection}\u0000${scopeKey(where.scope)}`;
    const hit = cache.get(key);
    if (hit) {
      cache.delete(key);
      cache.set(key, hit);
      return hit;
    }
    const size = statement(db, `SELECT count(*) FROM engram_memories WHERE ${where.sql}`)
      .pluck()
      .get(...where.parameters) as number;
    if (size * dimensions > vectorCacheSize) return undefined;
    const rows = statement(db, `SELECT row_id, id, vector FROM engram_memories WHERE ${where.sql}`)
      .raw()
      .all(...where.parameters) as [number, string, Buffer][];
    const vectors = new Float32Array(rows.length * dimensions);
    const norms = new Float64Array(rows.length);
    const rowIds = new Float64Array(rows.length);
    const ids: string[] = new Array(rows.length);
    for (const [index, [rowId, id, blob]] of rows.entries()) {
      vectors.set(toFloats(blob), index * dimensions);
      norms[index] = norm(vectors, index * dimensions, dimensions);
      rowIds[index] = rowId;
      ids[index] = id;
    }
    while (cachedFloats + vectors.length > vectorCacheSize && cache.size > 0) {
      const oldest = cache.keys().next().value as string;
      cachedFloats -= cache.get(oldest)!.vectors.length;
      cache.delete(oldest);
    }
    const entry: CachedScope = { rowIds, ids, vectors, norms };
    cache.set(key, entry);
    cachedFloats += vectors.length;
    return entry;
  }

  /** Cosine similarity of the query with every selected record: row ids, ids and scores. */
  function scoreScope(
    db: SqliteDatabase,
    options: QueryOptions,
    dimensions: number,
  ): { rowIds: ArrayLike<number>; ids: string[]; scores: Float64Array } {
    const query = Float32Array.from(options.vector!);
    const queryNorm = norm(query);
    const where = whereClause(options.collection, options.scope, options.filter);
    checkDataVersion(db);
    const cached =
      options.filter === undefined && vectorCacheSize > 0
        ? cachedScope(db, options.collection, dimensions, where)
        : undefined;
    if (cached) {
      const scores = new Float64Array(cached.ids.length);
      for (let index = 0; index < scores.length; index++) {
        const rowNorm = cached.norms[index]!;
        if (queryNorm === 0 || rowNorm === 0) continue;
        let dot = 0;
        const offset = index * dimensions;
        for (let dimension = 0; dimension < dimensions; dimension++) {
          dot += query[dimension]! * cached.vectors[offset + dimension]!;
        }
        scores[index] = dot / (queryNorm * rowNorm);
      }
      return { rowIds: cached.rowIds, ids: cached.ids, scores };
    }
    // Too big for the cache (or filtered): stream the rows and keep only their scores.
    const rowIds: number[] = [];
    const ids: string[] = [];
    const scores: number[] = [];
    const rows = statement(db, `SELECT row_id, id, vector FROM engram_memories WHERE ${where.sql}`)
      .raw()
      .iterate(...where.parameters) as IterableIterator<[number, string, Buffer]>;
    for (const [rowId, id, blob] of rows) {
      const vector = toFloats(blob);
      let dot = 0;
      let rowNormSquared = 0;
      for (let dimension = 0; dimension < dimensions; dimension++) {
        const value = vector[dimension]!;
        dot += query[dimension]! * value;
        rowNormSquared += value * value;
      }
      rowIds.push(rowId);
      ids.push(id);
      scores.push(
        queryNorm === 0 || rowNormSquared === 0 ? 0 : dot / (queryNorm * Math.sqrt(rowNormSquared)),
      );
    }
    return { rowIds, ids, scores: Float64Array.from(scores) };
  }

  function vectorQuery(db: SqliteDatabase, options: QueryOptions, dimensions: number) {
    const query = options.vector!;
    if (query.length !== dimensions) {
      throw new DimensionMismatchError({
        source,
        expected: dimensions,
        actual: query.length,
        message: `The query vector has ${query.length} dimensions; the collection holds ${dimensions}.`,
      });
    }
    const scored = scoreScope(db, options, dimensions);
    const best = bestIndices(scored.scores, scored.ids, Math.max(0, Math.floor(options.topK)));
    if (best.length === 0) return [];
    const rows = statement(
      db,
      `SELECT ${selectColumns(options.includeVectors)} FROM engram_memories WHERE row_id IN (${best.map(() => '?').join(', ')})`,
    ).all(...best.map((index) => scored.rowIds[index]!)) as MemoryRow[];
    const byRowId = new Map(rows.map((row) => [row.row_id, row]));
    const matches: VectorMatch[] = [];
    for (const index of best) {
      const row = byRowId.get(scored.rowIds[index]!);
      if (row) {
        matches.push({
          record: toRecord(row, options.includeVectors),
          score: scored.scores[index]!,
        });
      }
    }
    return matches;
  }

  // CROSS JOIN keeps the full-text index as the outer loop: the planner otherwise walks the
  // scope's rows and runs the MATCH once per row (measured 55 times slower on LoCoMo).
  function keywordQuery(db: SqliteDatabase, options: QueryOptions): VectorMatch[] {
    // Unstemmed words: the FTS5 porter tokenizer stems query terms the way it stemmed the text.
    const terms = [...new Set(keywordWords(options.text ?? ''))];
    if (terms.length === 0 || options.topK <= 0) return [];
    const where = whereClause(options.collection, options.scope, options.filter, 'memory.');
    const rows = statement(
      db,
      `SELECT ${selectColumns(options.includeVectors, 'memory.')}, -bm25(engram_memories_fts) AS score
       FROM engram_memories_fts CROSS JOIN engram_memories AS memory ON memory.row_id = engram_memories_fts.rowid
       WHERE engram_memories_fts MATCH ? AND ${where.sql}
       ORDER BY score DESC, memory.id
       LIMIT ?`,
    ).all(
      terms.map((term) => `"${term}"`).join(' OR '),
      ...where.parameters,
      Math.floor(options.topK),
    ) as (MemoryRow & { score: number })[];
    return rows
      .filter((row) => row.score > 0)
      .map((row) => ({ record: toRecord(row, options.includeVectors), score: row.score }));
  }

  async function close() {
    if (closed) return;
    closed = true;
    clearCache();
    statements.clear();
    if (database && !options.database) {
      try {
        database.close();
      } catch (error) {
        throw wrapError(error, 'Closing the database');
      }
    }
    database = undefined;
  }

  return {
    specificationVersion: 'v1',
    provider: source,
    capabilities,
    path,

    async ensureCollection({ collection, dimensions, abortSignal }: EnsureCollectionOptions) {
      use(abortSignal, 'ensureCollection', (db) => {
        if (!Number.isInteger(dimensions) || dimensions <= 0) {
          throw new InvalidArgumentError({
            source,
            message: `dimensions must be a positive integer, got ${dimensions}.`,
          });
        }
        if (typeof collection !== 'string' || collection.length === 0) {
          throw new InvalidArgumentError({
            source,
            message: 'collection must be a non-empty string.',
          });
        }
        const find = statement(db, 'SELECT dimensions FROM engram_collections WHERE name = ?');
        let existing = (find.get(collection) as { dimensions: number } | undefined)?.dimensions;
        if (existing === undefined) {
          existing = writeTransaction(db, () => {
            statement(
              db,
              'INSERT OR IGNORE INTO engram_collections (name, dimensions, created_at) VALUES (?, ?, ?)',
            ).run(collection, dimensions, new Date().toISOString());
            return dimensionsOf(db, collection);
          });
        }
        if (existing !== dimensions) {
          throw new DimensionMismatchError({
            source,
            expected: existing,
            actual: dimensions,
            message: `Collection "${collection}" holds ${existing}-dimensional vectors, not ${dimensions}. Use the embedder it was created with, or another collection.`,
          });
        }
      });
    },

    async upsert({ collection, records, abortSignal }: UpsertOptions) {
      const chunks = use(abortSignal, 'upsert', (db) => {
        checkRecords(dimensionsOf(db, collection), records);
        const result: VectorRecord[][] = [];
        for (let start = 0; start < records.length; start += maxBatchSize) {
          result.push(records.slice(start, start + maxBatchSize));
        }
        return result;
      });
      // Each chunk is its own short transaction so that other connections (and this process's
      // event loop) get a turn during a large import.
      for (const [index, chunk] of chunks.entries()) {
        if (index > 0) await new Promise((resolve) => setImmediate(resolve));
        use(abortSignal, 'upsert', (db) => {
          writeTransaction(db, () => {
            dimensionsOf(db, collection);
            writeRecords(db, collection, chunk);
          });
        });
      }
    },

    async query(options: QueryOptions): Promise<VectorMatch[]> {
      return use(options.abortSignal, 'query', (db) => {
        const dimensions = dimensionsOf(db, options.collection);
        if (options.vector) return vectorQuery(db, options, dimensions);
        if (options.text !== undefined) return keywordQuery(db, options);
        throw new InvalidArgumentError({ source, message: 'query needs a vector or a text.' });
      });
    },

    async get({ collection, ids, includeVectors, abortSignal }: GetOptions) {
      return use(abortSignal, 'get', (db) => {
        dimensionsOf(db, collection);
        const unique = [...new Set(ids)];
        const byId = new Map<string, MemoryRow>();
        for (let start = 0; start < unique.length; start += 500) {
          const slice = unique.slice(start, start + 500);
          const rows = statement(
            db,
            `SELECT ${selectColumns(includeVectors)} FROM engram_memories WHERE collection = ? AND id IN (${slice.map(() => '?').join(', ')})`,
          ).all(collection, ...slice) as MemoryRow[];
          for (const row of rows) byId.set(row.id, row);
        }
        const result: StoredRecord[] = [];
        for (const id of ids) {
          const row = byId.get(id);
          if (row) result.push(toRecord(row, includeVectors));
        }
        return result;
      });
    },

    async delete(options: DeleteOptions) {
      return use(options.abortSignal, 'delete', (db) => {
        dimensionsOf(db, options.collection);
        if (options.ids) {
          const ids = options.ids;
          return { deleted: writeTransaction(db, () => deleteIds(db, options.collection, ids)) };
        }
        const where = whereClause(options.collection, options.scope, options.filter);
        const deleted = writeTransaction(
          db,
          () =>
            statement(db, `DELETE FROM engram_memories WHERE ${where.sql}`).run(...where.parameters)
              .changes,
        );
        return { deleted };
      });
    },

    async list(options: ListOptions): Promise<ListPage> {
      return use(options.abortSignal, 'list', (db) => {
        dimensionsOf(db, options.collection);
        const after = decodeCursor(options.cursor, source);
        const where = whereClause(options.collection, options.scope, options.filter);
        const limit = Math.max(0, Math.floor(options.limit));
        const rows = statement(
          db,
          `SELECT ${selectColumns(options.includeVectors)} FROM engram_memories
           WHERE ${where.sql}${after === undefined ? '' : ' AND id > ?'}
           ORDER BY id LIMIT ?`,
        ).all(
          ...where.parameters,
          ...(after === undefined ? [] : [after]),
          limit + 1,
        ) as MemoryRow[];
        const page = rows.slice(0, limit);
        const last = page.at(-1);
        return {
          records: page.map((row) => toRecord(row, options.includeVectors)),
          ...(rows.length > limit && last ? { nextCursor: encodeCursor(last.id) } : {}),
        };
      });
    },

    async count(options: CountOptions) {
      return use(options.abortSignal, 'count', (db) => {
        dimensionsOf(db, options.collection);
        const where = whereClause(options.collection, options.scope, options.filter);
        const row = statement(
          db,
          `SELECT count(*) AS total FROM engram_memories WHERE ${where.sql}`,
        ).get(...where.parameters) as { total: number };
        return row.total;
      });
    },

    async dropCollection({ collection, abortSignal }) {
      use(abortSignal, 'dropCollection', (db) => {
        writeTransaction(db, () => {
          statement(db, 'DELETE FROM engram_memories WHERE collection = ?').run(collection);
          statement(db, 'DELETE FROM engram_collections WHERE name = ?').run(collection);
        });
      });
    },

    async commit(options: CommitOptions) {
      use(options.abortSignal, 'commit', (db) => {
        checkRecords(dimensionsOf(db, options.collection), options.upsert);
        writeTransaction(db, () => {
          dimensionsOf(db, options.collection);
          deleteIds(db, options.collection, options.delete);
          writeRecords(db, options.collection, options.upsert);
          appendEvents(db, options.history);
        });
      });
    },

    async append({ events, abortSignal }) {
      use(abortSignal, 'append', (db) => {
        writeTransaction(db, () => appendEvents(db, events));
      });
    },

    async byMemory({ memoryId, abortSignal }) {
      return use(abortSignal, 'byMemory', (db) =>
        (
          statement(db, 'SELECT * FROM engram_history WHERE memory_id = ? ORDER BY sequence').all(
            memoryId,
          ) as HistoryRow[]
        ).map(toEvent),
      );
    },

    async byScope({ scope: scopeInput, limit, cursor, abortSignal }) {
      return use(abortSignal, 'byScope', (db) => {
        const scope = normalizeScope(scopeInput, { required: true, source });
        const after = Number(decodeCursor(cursor, source) ?? 0);
        const conditions = ['sequence > ?'];
        const parameters: Parameter[] = [Number.isFinite(after) ? after : 0];
        for (const [field, column] of Object.entries(scopeColumns)) {
          const value = scope[field as keyof Scope];
          if (value === undefined) continue;
          conditions.push(`${column} = ?`);
          parameters.push(value);
        }
        const pageSize = Math.max(0, Math.floor(limit));
        const rows = statement(
          db,
          `SELECT * FROM engram_history WHERE ${conditions.join(' AND ')} ORDER BY sequence LIMIT ?`,
        ).all(...parameters, pageSize + 1) as HistoryRow[];
        const page = rows.slice(0, pageSize);
        const last = page.at(-1);
        return {
          events: page.map(toEvent),
          ...(rows.length > pageSize && last
            ? { nextCursor: encodeCursor(String(last.sequence)) }
            : {}),
        };
      });
    },

    async deleteScope({ scope: scopeInput, abortSignal }) {
      return use(abortSignal, 'deleteScope', (db) => {
        const scope = normalizeScope(scopeInput, { source });
        if (Object.keys(scope).length === 0) {
          throw new InvalidArgumentError({
            source,
            message: 'deleteScope needs a non-empty scope.',
          });
        }
        const conditions: string[] = [];
        const parameters: Parameter[] = [];
        for (const [field, column] of Object.entries(scopeColumns)) {
          const value = scope[field as keyof Scope];
          if (value === undefined) continue;
          conditions.push(`${column} = ?`);
          parameters.push(value);
        }
        const deleted = writeTransaction(
          db,
          () =>
            statement(db, `DELETE FROM engram_history WHERE ${conditions.join(' AND ')}`).run(
              ...parameters,
            ).changes,
        );
        return { deleted };
      });
    },

    close,
    [Symbol.asyncDispose]: close,
  };
}
