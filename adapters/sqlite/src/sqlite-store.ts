import { dirname, join } from 'node:path';
import {
  assertPositiveInteger,
  assertRecords,
  assertVectorLength,
  chunk,
  collectionDimensionMismatch,
  defaultDataDirectory,
  defineVectorStore,
  toAdapterCallError,
} from '@engram/adapter-kit';
import {
  ClosedError,
  type CommitOptions,
  checkHistoryEventNamespaces,
  checkHistoryNamespace,
  createPrivateDirectory,
  createPrivateFile,
  decodeCursor,
  encodeCursor,
  eraseSelection,
  expiresAtField,
  type FilterExpression,
  filterOperators,
  type HistoryEvent,
  type HistoryStore,
  InvalidArgumentError,
  keywordText,
  keywordWords,
  NotFoundError,
  normalizeScope,
  type QueryOptions,
  type Scope,
  type StoredRecord,
  scopeKey,
  type VectorMatch,
  type VectorRecord,
  type VectorStore,
} from '@engram/core';
import Database from 'better-sqlite3';
import { createSqliteAnnIndex, type SqliteAnnIndexOptions } from './sqlite-ann-index.js';
import {
  encryptedWithoutKeyError,
  isEncryptedSqliteFile,
  openEncryptedDatabase,
} from './sqlite-encryption.js';
import { sqliteJsonPath, translateSqliteFilter } from './sqlite-filter.js';
import { type HistoryRow, historyParameters, insertHistorySql, toEvent } from './sqlite-history.js';
import {
  createKeywordTokenizer,
  createSqliteCharacterProbe,
  fts5Averages,
  type KeywordStatistics,
  type KeywordTokenizer,
  type ScopeDocument,
  scoreScopeBM25,
} from './sqlite-keyword-scope.js';
import { rowsPerInsert, valuesList } from './sqlite-rows.js';
import {
  buildLeaseMigrationSql,
  historyNamespaceMigrationSql,
  keywordTextMigrationSql,
  replacedIndexesSql,
  schemaSql,
  schemaVersion,
} from './sqlite-schema.js';
import { splitScopeFilter, unexpired } from './sqlite-scope-filter.js';
import { createSqliteScopeLock } from './sqlite-scope-lock.js';
import {
  bestIndices,
  type CachedRow,
  type CachedScope,
  norm,
  packScope,
  ScopeCache,
  type ScopeRow,
  scorePacked,
  shortestFloat32,
  toBlob,
  toFloats,
} from './sqlite-vectors.js';
import { enableWalMode } from './sqlite-wal.js';
import { createSqliteWriter } from './sqlite-writer.js';

const source = 'sqlite';

type SqliteDatabase = Database.Database;
type Statement = Database.Statement<unknown[], unknown>;
type Parameter = string | number | Buffer | null;

/** Options of {@link createSqliteStore}. */
export interface SqliteStoreOptions {
  /**
   * Database file, or `':memory:'` for a private in-process database. Default:
   * `engram.db` in `ENGRAM_HOME`, or in `~/.engram` when that variable is unset. The directory is
   * created on first use (0700), the file and its -wal/-shm files readable by their owner only
   * (0600).
   */
  path?: string;
  /**
   * An open better-sqlite3 database to use instead of opening `path`. The store sets its pragmas
   * and creates its tables in it, and leaves it open on `close()`: its owner closes it.
   */
  database?: SqliteDatabase;
  /**
   * How long a write waits for another connection's write lock before failing, in ms; the wait
   * happens between turns of the event loop, which keeps serving other calls. Default 5000.
   */
  busyTimeoutMs?: number;
  /**
   * Most memory SQLite's page cache of this connection holds, in MiB; it fills only as large
   * databases are read and written. A cache that holds the indexes keeps bulk imports into a
   * large file from re-reading their pages. Default 64 (SQLite's own default is 16); left to its
   * owner for a `database` passed in unless set.
   */
  pageCacheMiB?: number;
  /**
   * Most vector values (floats) kept in process memory to answer repeated scoped searches without
   * reading them again; 0 turns the cache off. Each cached memory's other columns (text,
   * metadata, scope, times: about 200 bytes for a short memory) are kept beside its vector and
   * are not counted. A write (of this process, or of another that shares the file) drops only
   * the scopes of the memories it changed. Default 40,000,000 (160 MB of vectors: every scope of
   * 100,000 memories of 384 dimensions).
   */
  vectorCacheSize?: number;
  /**
   * Give the store a lock (`store.scopeLock`, a table in the same file) that makes adds of one
   * scope take turns across every process using the file, so a fact added by two processes at
   * once is stored once. Set `false` only when another lock covers every process (e.g. the
   * server's Redis lock). Not used for `':memory:'`, which no other process can open. Default true.
   */
  scopeLock?: boolean;
  /**
   * Lease of a scope lock: the longest a process that crashed while holding one keeps other
   * processes waiting. Renewed while held. Default 10,000 ms.
   */
  lockLeaseMs?: number;
  /**
   * The approximate (HNSW) index that answers vector queries without a scope in a large
   * collection: its settings, or `false` to scan every row instead (exact, slow past ~20,000
   * memories). Scoped queries are always exact. Default: on, built in the background (a worker
   * thread) once a collection holds 10,000 memories or more, and saved beside the database file;
   * unscoped queries scan exactly until it is ready. `store.buildIndex` waits for it.
   */
  annIndex?: false | SqliteAnnIndexOptions;
  /**
   * Encrypts the database file (memories, vectors, keyword index, history) with this key:
   * SQLCipher 4 format (AES-256), through the optional package `better-sqlite3-multiple-ciphers`,
   * loaded only when a key is given. The approximate index is then kept in process memory only,
   * never saved beside the file. A wrong key, or a plain file, is refused with
   * `InvalidArgumentError`; so is an encrypted file opened without a key. Encrypt an existing
   * file with `encryptSqliteStore` (`engram encrypt`). Not used for `':memory:'`. Default: none
   * (the descriptor reads `ENGRAM_ENCRYPTION_KEY` or `ENGRAM_ENCRYPTION_KEY_FILE`).
   */
  encryptionKey?: string;
  /**
   * Where the BM25 statistics of a scoped keyword query come from, for scopes of up to 1,000
   * memories (larger ones are scored by the full-text index): `scope` (default), the scope's own
   * rows, so that words every memory of the user holds (their name, their friends' names) weigh
   * little however rare they are in other users' memories; `collection`, the whole index, as
   * FTS5's `bm25()` scores. On LoCoMo with all-MiniLM-L6-v2, `scope` lifts R@10 from 0.650 to
   * 0.671 (docs/benchmarks.md).
   */
  keywordStatistics?: 'scope' | 'collection';
}

/** The SQLite store: a vector store with keyword search that is also the history store. */
export type SqliteStore = VectorStore &
  HistoryStore & {
    /** Applies upserts, deletes and history events in one transaction. */
    commit(options: CommitOptions): Promise<void>;
    /**
     * Builds the approximate index of a collection's unscoped vector queries now (or waits for
     * the build under way, in this process or another), loads it and brings it up to date: call
     * it after a bulk import or at start to have fast unscoped queries from the first one.
     * Resolves to the vectors the index holds; 0 when the collection is smaller than
     * `annIndex.minimumSize`, or the index is turned off or cannot load on this platform.
     */
    buildIndex(options: { collection: string; abortSignal?: AbortSignal }): Promise<{
      size: number;
    }>;
    /** The database file (or `':memory:'`) the store uses. */
    readonly path: string;
    /** Closes the store, like `close()`. */
    [Symbol.asyncDispose](): Promise<void>;
  };

type SqliteMethods = Omit<
  SqliteStore,
  | 'specificationVersion'
  | 'provider'
  | 'capabilities'
  | 'path'
  | 'close'
  | typeof Symbol.asyncDispose
>;

/** `engram.db` in `ENGRAM_HOME`, or in `~/.engram`. */
export function defaultSqlitePath(): string {
  return join(defaultDataDirectory(), 'engram.db');
}

/** A row of `engram_memories`; the nullable columns hold what a record may leave out. */
type MemoryRow = CachedRow & { vector: Buffer };

interface WhereClause {
  sql: string;
  parameters: Parameter[];
  scope: Scope;
}

const memoryColumns =
  'row_id, id, text, hash, user_id, agent_id, run_id, metadata, created_at, updated_at';
const scopeColumns = { userId: 'user_id', agentId: 'agent_id', runId: 'run_id' } as const;
/** Record fields left out of a record when their column is null. */
const optionalColumns = [
  ['hash', 'hash'],
  ['user_id', 'userId'],
  ['agent_id', 'agentId'],
  ['run_id', 'runId'],
] as const;
const maxBatchSize = 1000;
/** What the keyword index holds for a row (see `keywordFormOf`). */
const keywordColumn = 'coalesce(keyword_text, text)';
const maxStatements = 256;
/** Where core keeps a memory's expiry, as a JSON path into `metadata`. */
const expiryPath = sqliteJsonPath(expiresAtField);
const idsPerStatement = 500;
/**
 * Largest scope whose keyword relevance is computed from its own rows rather than through the
 * full-text index (about 6 µs a row on a 2-core machine, so at most a few ms).
 */
const maxScopeKeywordRows = 1000;
/** Per-connection fts5vocab table over the keyword index: a word's document frequency. */
const vocabularyTable = 'engram_memories_fts_terms';
/**
 * Document frequencies of an index of at least this many rows are kept and reused until its row
 * count moves by 1%: counting one walks every row holding the word (a few ms for a common word at
 * a million rows). Smaller indexes are counted on every search.
 */
const minCachedFrequencyRows = 10_000;
const maxCachedFrequencies = 10_000;
/** Scope changes applied to the vector cache one by one; after a longer backlog it is emptied. */
const maxAppliedScopeChanges = 10_000;
/** Newest scope changes kept in the log; writers prune older ones once twice as many are logged. */
const keptScopeChanges = 10_000;
/**
 * Memory rows a connection writes between two looks at the change log's length (a look is two
 * index seeks): the log then holds at most this many more per writing process than it keeps.
 */
const scopeChangesCheckEvery = 1000;
/** The `engram_meta` key of the last scope change pruned from the log. */
const scopeChangesPrunedKey = 'scope_changes_pruned_through';
const scopeFieldNames = ['userId', 'agentId', 'runId'] as const;

/** The upsert of `rows` records into `engram_memories`, twelve parameters per record. */
function upsertSql(rows: number): string {
  return `INSERT INTO engram_memories (collection, id, text, hash, user_id, agent_id, run_id, metadata, vector, created_at, updated_at, keyword_text)
    VALUES ${valuesList(rows, 12)}
    ON CONFLICT (collection, id) DO UPDATE SET
      text = excluded.text, keyword_text = excluded.keyword_text, hash = excluded.hash, user_id = excluded.user_id,
      agent_id = excluded.agent_id, run_id = excluded.run_id, metadata = excluded.metadata,
      vector = excluded.vector, created_at = excluded.created_at, updated_at = excluded.updated_at`;
}

/** What the keyword index holds for a record when that is not its text (NULL then). */
function keywordFormOf(record: VectorRecord): string | null {
  const indexed = record.keywordText ?? keywordText(record.text);
  return indexed === record.text ? null : indexed;
}

/**
 * Gives a database made before the keyword form existed its `keyword_text` column and triggers,
 * and re-indexes the rows whose keyword form differs from their text (Chinese, Japanese, emoji).
 */
function migrateKeywordText(database: SqliteDatabase): void {
  const hasColumn = (database.pragma('table_info(engram_memories)') as { name: string }[]).some(
    (column) => column.name === 'keyword_text',
  );
  if (hasColumn) return;
  database
    .transaction(() => {
      const columns = database.pragma('table_info(engram_memories)') as { name: string }[];
      if (columns.some((column) => column.name === 'keyword_text')) return;
      database.exec(keywordTextMigrationSql);
      const update = database.prepare(
        'UPDATE engram_memories SET keyword_text = ? WHERE row_id = ?',
      );
      const rows = database
        .prepare('SELECT row_id, text FROM engram_memories')
        .raw()
        .iterate() as IterableIterator<[number, string]>;
      const changed: [string, number][] = [];
      for (const [rowId, text] of rows) {
        const indexed = keywordText(text);
        if (indexed !== text) changed.push([indexed, rowId]);
      }
      for (const [indexed, rowId] of changed) update.run(indexed, rowId);
    })
    .immediate();
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

function toError(error: unknown, action: string) {
  const code = (error as { code?: unknown } | null)?.code;
  return toAdapterCallError(error, {
    source,
    action,
    ...(typeof code === 'string' ? { status: code } : {}),
    isRetryable: typeof code === 'string' && /^SQLITE_(BUSY|LOCKED)/.test(code),
  });
}

/** `column = ?` conditions (and their parameters) for the scope fields that are set. */
function scopeConditions(scope: Scope, alias = '') {
  const conditions: string[] = [];
  const parameters: Parameter[] = [];
  // Each scope column has its own index; without statistics SQLite may pick any of them. The
  // narrowest one given is meant (a run is one session, an agent may serve every user): a unary
  // `+` keeps the others from being used as the index.
  const indexed =
    scope.runId !== undefined ? 'runId' : scope.userId !== undefined ? 'userId' : 'agentId';
  for (const [field, column] of Object.entries(scopeColumns)) {
    const value = scope[field as keyof Scope];
    if (value === undefined) continue;
    conditions.push(`${field === indexed ? '' : '+'}${alias}${column} = ?`);
    parameters.push(value);
  }
  return { conditions, parameters };
}

function selectColumns(includeVectors: boolean | undefined, alias = '') {
  const columns = memoryColumns
    .split(', ')
    .map((column) => `${alias}${column}`)
    .join(', ');
  return includeVectors ? `${columns}, ${alias}vector` : columns;
}

function toRecord(
  row: CachedRow & { vector?: Buffer },
  includeVectors: boolean | undefined,
): StoredRecord {
  const record: StoredRecord = {
    id: row.id,
    text: row.text,
    metadata: JSON.parse(row.metadata) as StoredRecord['metadata'],
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
  for (const [column, field] of optionalColumns) {
    const value = row[column];
    if (value !== null) record[field] = value;
  }
  if (includeVectors && row.vector) {
    record.vector = Array.from(toFloats(row.vector), shortestFloat32);
  }
  return record;
}

/** The record of row `index` of a cached scope. */
function cachedRecord(
  scope: CachedScope,
  index: number,
  includeVectors: boolean | undefined,
): StoredRecord {
  const record = toRecord(scope.rows[index]!, false);
  if (includeVectors) {
    const dimensions = scope.vectors.length / scope.ids.length;
    const offset = index * dimensions;
    record.vector = Array.from(
      scope.vectors.subarray(offset, offset + dimensions),
      shortestFloat32,
    );
  }
  return record;
}

/** The kit's record checks, plus a string text and a valid scope on every record. */
function checkRecords(dimensions: number, records: readonly VectorRecord[]) {
  assertRecords(records, { source, dimensions });
  const textless = records.find((record) => typeof record.text !== 'string');
  if (textless) {
    throw new InvalidArgumentError({
      source,
      message: `Record "${textless.id}" needs a string text.`,
    });
  }
  for (const record of records) normalizeScope(record, { source });
}

/**
 * Creates the embedded SQLite store: memories of every collection, their vectors, a keyword
 * (FTS5) index and the change history in one database file. Nothing is opened until the first
 * call.
 */
export function createSqliteStore(options: SqliteStoreOptions = {}): SqliteStore {
  const path = options.database ? options.database.name : (options.path ?? defaultSqlitePath());
  const busyTimeoutMs = options.busyTimeoutMs ?? 5000;
  const cache = new ScopeCache(options.vectorCacheSize ?? 40_000_000);
  const statements = new Map<string, Statement>();
  const frequencies = new Map<string, { documents: number; rows: number }>();
  let tokenizer: KeywordTokenizer | undefined;
  let database: SqliteDatabase | undefined;
  let dataVersion: number | undefined;
  /** The last entry of `engram_scope_changes` applied to the cache. */
  let seenScopeChange: number | undefined;
  /** Whether this connection has committed changes of memories since the change log was read. */
  let committed = false;
  /** Whether the write transaction under way changes memories (and so logs their scopes). */
  let changingMemories = false;
  /** Scope changes this connection may have logged since it last looked at the log's length. */
  let loggedSinceCheck = scopeChangesCheckEvery;
  let closed = false;
  const persistent = options.database
    ? !options.database.memory
    : path !== ':memory:' && path !== '';
  const encryptionKey = options.encryptionKey;
  if (encryptionKey !== undefined && options.database) {
    throw new InvalidArgumentError({
      source,
      message:
        'encryptionKey applies to a database the store opens (path); key a database passed in yourself, or pass its path instead.',
    });
  }
  const encrypted = encryptionKey !== undefined && persistent;
  const writer = createSqliteWriter({
    database: () => (closed ? undefined : openDatabase()),
    busyTimeoutMs,
    // Commits that changed no memory (scope locks, history events) leave the change log alone.
    onCommit: () => {
      if (changingMemories) committed = true;
      changingMemories = false;
    },
    closedError: () =>
      new ClosedError({ source, message: 'The store was closed; create a new one.' }),
  });
  const ann =
    options.annIndex === false
      ? undefined
      : createSqliteAnnIndex({
          ...options.annIndex,
          database: () => openDatabase(),
          // A saved index would hold the vectors in plain: an encrypted store keeps it in memory.
          path: persistent && !encrypted ? path : undefined,
          busyTimeoutMs,
          writer,
        });

  function openDatabase(): SqliteDatabase {
    if (database) return database;
    let opened: SqliteDatabase;
    try {
      if (options.database) {
        opened = options.database;
      } else {
        if (path !== ':memory:' && path !== '') {
          createPrivateDirectory(dirname(path));
          createPrivateFile(path);
        }
        opened = encrypted
          ? openEncryptedDatabase(path, encryptionKey, { timeout: busyTimeoutMs })
          : new Database(path, { timeout: busyTimeoutMs });
      }
      opened.pragma(`busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
      if (!opened.memory) enableWalMode(opened, busyTimeoutMs);
      opened.pragma('synchronous = NORMAL');
      // Statement journals (one per writing statement, for its own rollback) stay in memory
      // instead of a temporary file: they halve the bytes a bulk write sends to the disk.
      opened.pragma('temp_store = MEMORY');
      const pageCacheMiB = options.pageCacheMiB ?? (options.database ? undefined : 64);
      if (pageCacheMiB !== undefined) {
        opened.pragma(`cache_size = ${-Math.max(0, Math.floor(pageCacheMiB * 1024))}`);
      }
      if (installedSchemaVersion(opened) < schemaVersion) {
        opened
          .transaction(() => {
            // Another process may have migrated while this one waited for the write lock.
            const installed = installedSchemaVersion(opened);
            if (installed >= schemaVersion) return;
            if (installed === 1) opened.exec(historyNamespaceMigrationSql);
            if (installed === 3) opened.exec(buildLeaseMigrationSql);
            opened.exec(replacedIndexesSql);
            opened.exec(schemaSql);
            opened
              .prepare(
                "INSERT OR REPLACE INTO engram_meta (key, value) VALUES ('schema_version', ?)",
              )
              .run(String(schemaVersion));
          })
          .immediate();
      }
      migrateKeywordText(opened);
    } catch (error) {
      if (InvalidArgumentError.isInstance(error)) throw error;
      if (
        !encrypted &&
        (error as { code?: unknown }).code === 'SQLITE_NOTADB' &&
        isEncryptedSqliteFile(path)
      ) {
        throw encryptedWithoutKeyError(path, error);
      }
      throw toError(error, `Opening the database "${path}"`);
    }
    try {
      // Per connection (temp), so that the file's schema stays as it is.
      opened.exec(
        `CREATE VIRTUAL TABLE IF NOT EXISTS temp.${vocabularyTable} USING fts5vocab(main, engram_memories_fts, 'row')`,
      );
    } catch (error) {
      throw toError(error, `Opening the database "${path}"`);
    }
    database = opened;
    ann?.opened();
    return opened;
  }

  function statement(sql: string): Statement {
    let prepared = statements.get(sql);
    if (!prepared) {
      if (statements.size >= maxStatements) statements.clear();
      prepared = openDatabase().prepare(sql);
      statements.set(sql, prepared);
    }
    return prepared;
  }

  /**
   * Runs `work` in a write transaction. Work that writes memories gives `rows`: how many memory
   * rows it changed (an update that moves a memory to another scope logs two).
   */
  function writeTransaction<T>(work: () => T, rows?: (value: T) => number): Promise<T> {
    return writer.write(() => {
      const value = work();
      if (rows) {
        changingMemories = true;
        loggedSinceCheck += rows(value);
        if (loggedSinceCheck >= scopeChangesCheckEvery) {
          loggedSinceCheck = 0;
          pruneScopeChanges();
        }
      }
      return value;
    });
  }

  /**
   * Keeps the scope change log bounded: once it holds twice {@link keptScopeChanges} entries, the
   * older ones go, and `engram_meta` records the last one pruned. Looked at after every
   * {@link scopeChangesCheckEvery} memory rows this connection writes, not after every write.
   */
  function pruneScopeChanges() {
    // Two subqueries: min() and max() together in one would scan the table.
    const [first, last] = statement(
      'SELECT (SELECT min(sequence) FROM engram_scope_changes), (SELECT max(sequence) FROM engram_scope_changes)',
    )
      .raw()
      .get() as [number | null, number | null];
    if (first === null || last === null || last - first < 2 * keptScopeChanges) return;
    const through = last - keptScopeChanges;
    statement('DELETE FROM engram_scope_changes WHERE sequence <= ?').run(through);
    statement(
      'INSERT INTO engram_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
    ).run(scopeChangesPrunedKey, String(through));
  }

  function latestScopeChange(): number {
    return (
      (statement('SELECT max(sequence) FROM engram_scope_changes').pluck().get() as
        | number
        | null) ?? 0
    );
  }

  /**
   * Drops from the cache the scopes whose memories changed since the change log was last read,
   * by this connection or another; every cached scope when the log no longer reaches back that
   * far (pruned) or holds too many changes to apply one by one.
   */
  function followScopeChanges() {
    const seen = seenScopeChange;
    if (seen === undefined || cache.size === 0) {
      cache.clear();
      seenScopeChange = latestScopeChange();
      return;
    }
    const rows = statement(
      'SELECT sequence, collection, user_id, agent_id, run_id FROM engram_scope_changes WHERE sequence > ? ORDER BY sequence LIMIT ?',
    )
      .raw()
      .all(seen, maxAppliedScopeChanges + 1) as [
      number,
      string,
      string | null,
      string | null,
      string | null,
    ][];
    // Read after the rows: pruning only moves forward, so a mark at or before `seen` now means
    // the rows read above were complete.
    const prunedThrough = Number(
      statement('SELECT value FROM engram_meta WHERE key = ?').pluck().get(scopeChangesPrunedKey) ??
        0,
    );
    if (prunedThrough > seen || rows.length > maxAppliedScopeChanges) {
      cache.clear();
      seenScopeChange = latestScopeChange();
      return;
    }
    const dropped = new Set<string>();
    for (const [, collection, ...values] of rows) {
      const changed = `${collection}\u0000${values.join('\u0000')}`;
      if (dropped.has(changed)) continue;
      dropped.add(changed);
      // A memory belongs to every scope made of some of its scope fields.
      const present = scopeFieldNames.flatMap((field, index) =>
        values[index] === null ? [] : [[field, values[index]!] as const],
      );
      for (let subset = 0; subset < 1 << present.length; subset++) {
        const scope: Scope = {};
        for (const [index, [field, value]] of present.entries()) {
          if (subset & (1 << index)) scope[field] = value;
        }
        cache.delete(scopeCacheKey(collection, scope));
      }
    }
    seenScopeChange = rows.at(-1)?.[0] ?? seen;
  }

  /**
   * Drops the cached scopes that changed since they were read: after a commit of this
   * connection, or when another connection has committed (`PRAGMA data_version` moved).
   */
  function checkDataVersion() {
    // A prepared statement: `pragma()` compiles one on every call, and this runs on every query.
    // Read before the change log, so that a commit between the two is found again next time.
    const current = statement('PRAGMA data_version').pluck().get() as number;
    if (current === dataVersion && !committed) return;
    dataVersion = current;
    committed = false;
    followScopeChanges();
  }

  /**
   * Dimensions seen for each collection, for checking records before a write transaction; the
   * transaction reads them again (another connection may have dropped the collection since).
   */
  const knownDimensions = new Map<string, number>();

  /** The dimensions records to write are checked against, before their transaction. */
  function dimensionsToCheck(collection: string): number {
    const known = knownDimensions.get(collection);
    if (known !== undefined) return known;
    const dimensions = dimensionsOf(collection);
    knownDimensions.set(collection, dimensions);
    return dimensions;
  }

  /** In a write transaction: the collection exists with the dimensions its records were checked against. */
  function confirmDimensions(
    collection: string,
    checked: number,
    records: readonly VectorRecord[],
  ) {
    const dimensions = dimensionsOf(collection);
    if (dimensions !== checked) {
      knownDimensions.delete(collection);
      checkRecords(dimensions, records);
    }
  }

  function dimensionsOf(collection: string): number {
    const row = statement('SELECT dimensions FROM engram_collections WHERE name = ?').get(
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
  ): WhereClause {
    const scope = normalizeScope(scopeInput, { source });
    const { conditions, parameters } = scopeConditions(scope, alias);
    conditions.unshift(`${alias}collection = ?`);
    parameters.unshift(collection);
    if (filter) {
      const translated = translateSqliteFilter(filter, `${alias}metadata`);
      conditions.push(translated.sql);
      parameters.push(...translated.parameters);
    }
    return { sql: conditions.join(' AND '), parameters, scope };
  }

  function writeRecords(collection: string, records: readonly VectorRecord[]) {
    for (const rows of chunk(records, rowsPerInsert)) {
      const parameters: Parameter[] = [];
      for (const record of rows) {
        parameters.push(
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
          keywordFormOf(record),
        );
      }
      statement(upsertSql(rows.length)).run(...parameters);
    }
  }

  function deleteIds(collection: string, ids: readonly string[]): number {
    const remove = statement('DELETE FROM engram_memories WHERE collection = ? AND id = ?');
    let deleted = 0;
    for (const id of new Set(ids)) deleted += remove.run(collection, id).changes;
    return deleted;
  }

  /** One page of a namespace's history, oldest first, under extra conditions. */
  function historyPage(
    namespace: string,
    conditions: string[],
    parameters: unknown[],
    cursor: string | undefined,
    limit: number,
  ) {
    const after = Number(decodeCursor(cursor, source) ?? 0);
    const pageSize = Math.max(0, Math.floor(limit));
    const rows = statement(
      `SELECT * FROM engram_history WHERE ${['namespace = ?', 'sequence > ?', ...conditions].join(' AND ')} ORDER BY sequence LIMIT ?`,
    ).all(
      namespace,
      Number.isFinite(after) ? after : 0,
      ...parameters,
      pageSize + 1,
    ) as HistoryRow[];
    const page = rows.slice(0, pageSize);
    const last = page.at(-1);
    return {
      events: page.map(toEvent),
      ...(rows.length > pageSize && last
        ? { nextCursor: encodeCursor(String(last.sequence)) }
        : {}),
    };
  }

  function appendEvents(events: readonly HistoryEvent[]) {
    checkHistoryEventNamespaces(events, source);
    for (const rows of chunk(events, rowsPerInsert)) {
      statement(insertHistorySql(rows.length)).run(...rows.flatMap(historyParameters));
    }
  }

  function scopeCacheKey(collection: string, scope: Scope): string {
    return `${collection}\u0000${scopeKey(scope)}`;
  }

  /**
   * The scope's vectors from the cache, or read and cached when they fit in its budget. Cached
   * whole, whatever the query's filter: see {@link keptRows}.
   */
  function cachedScope(
    collection: string,
    dimensions: number,
    scope: Scope | undefined,
    /** The scope's row count, when the caller has just counted it. */
    counted?: number,
  ): CachedScope | undefined {
    if (cache.budget <= 0) return undefined;
    const where = whereClause(collection, scope, undefined);
    const key = scopeCacheKey(collection, where.scope);
    const hit = cache.get(key);
    if (hit) return hit;
    const size =
      counted ??
      (statement(`SELECT count(*) FROM engram_memories WHERE ${where.sql}`)
        .pluck()
        .get(...where.parameters) as number);
    if (size * dimensions > cache.budget) return undefined;
    // The keyword form, the expiry (as SQL reads it) and the record's other columns come in the
    // same pass: a scoped hybrid search needs them all, and reading the returned rows again cost
    // more than the search (50 rows scattered over a large file).
    const rows = statement(
      `SELECT ${memoryColumns}, vector, ${keywordColumn}, CASE WHEN json_type(metadata, ?) IN ('integer', 'real') THEN json_extract(metadata, ?) END FROM engram_memories WHERE ${where.sql}`,
    )
      .raw()
      .all(expiryPath, expiryPath, ...where.parameters) as ScopeRow[];
    const entry = packScope(rows, dimensions);
    cache.set(key, entry);
    return entry;
  }

  /**
   * Positions of the rows of a cached scope that the filter keeps, or undefined when it keeps
   * them all. The expiry condition core adds to every search is applied from the cached
   * expiries; any other condition by SQL, over the scope's rows only (no vector is read).
   */
  function keptRows(
    cached: CachedScope,
    options: Pick<QueryOptions, 'collection' | 'scope' | 'filter'>,
  ): number[] | undefined {
    if (!options.filter) return undefined;
    const { unexpiredAt, rest } = splitScopeFilter(options.filter);
    let allowed: Set<number> | undefined;
    if (rest) {
      const where = whereClause(options.collection, options.scope, rest);
      allowed = new Set(
        statement(`SELECT row_id FROM engram_memories WHERE ${where.sql}`)
          .pluck()
          .all(...where.parameters) as number[],
      );
    }
    const kept: number[] = [];
    for (let index = 0; index < cached.ids.length; index++) {
      if (allowed && !allowed.has(cached.rowIds[index]!)) continue;
      if (unexpired(cached.expiries[index]!, unexpiredAt)) kept.push(index);
    }
    return kept.length === cached.ids.length ? undefined : kept;
  }

  /** Cosine similarity of the query with every selected record: row ids, ids and scores. */
  function scoreScope(
    options: QueryOptions,
    dimensions: number,
  ): {
    rowIds: ArrayLike<number>;
    ids: string[];
    scores: Float64Array;
    /** The cached scope scored, and the position in it of each score (all, in order, if none). */
    cached?: { scope: CachedScope; positions?: number[] };
  } {
    const query = Float32Array.from(options.vector!);
    const queryNorm = norm(query);
    checkDataVersion();
    const cached = cachedScope(options.collection, dimensions, options.scope);
    if (cached) {
      const scores = scorePacked(cached, query, queryNorm);
      const kept = keptRows(cached, options);
      if (!kept) {
        return { rowIds: cached.rowIds, ids: cached.ids, scores, cached: { scope: cached } };
      }
      return {
        rowIds: kept.map((index) => cached.rowIds[index]!),
        ids: kept.map((index) => cached.ids[index]!),
        scores: Float64Array.from(kept, (index) => scores[index]!),
        cached: { scope: cached, positions: kept },
      };
    }
    // Too big for the cache: stream the rows and keep only their scores.
    const where = whereClause(options.collection, options.scope, options.filter);
    const rowIds: number[] = [];
    const ids: string[] = [];
    const scores: number[] = [];
    const rows = statement(`SELECT row_id, id, vector FROM engram_memories WHERE ${where.sql}`)
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

  function vectorQuery(options: QueryOptions, dimensions: number): VectorMatch[] {
    assertVectorLength(options.vector!, dimensions, { source, what: 'The query vector' });
    const scored = scoreScope(options, dimensions);
    const best = bestIndices(scored.scores, scored.ids, Math.max(0, Math.floor(options.topK)));
    if (best.length === 0) return [];
    if (scored.cached) {
      const { scope, positions } = scored.cached;
      return best.map((index) => ({
        record: cachedRecord(scope, positions ? positions[index]! : index, options.includeVectors),
        score: scored.scores[index]!,
      }));
    }
    const rows = statement(
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

  /**
   * An unscoped vector query answered from the approximate index: its candidates are scored
   * exactly from the table, which also applies the filter. `undefined` when the collection is
   * searched exactly instead, or when the filter leaves fewer than `topK` of the candidates.
   */
  async function annVectorQuery(
    options: QueryOptions,
    dimensions: number,
  ): Promise<VectorMatch[] | undefined> {
    const topK = Math.max(0, Math.floor(options.topK));
    if (!ann || topK === 0 || Object.keys(normalizeScope(options.scope, { source })).length > 0) {
      return undefined;
    }
    assertVectorLength(options.vector!, dimensions, { source, what: 'The query vector' });
    const query = Float32Array.from(options.vector!);
    const candidates = ann.candidates(options.collection, dimensions, query, topK);
    if (!candidates || candidates.length === 0) return undefined;
    const where = whereClause(options.collection, undefined, options.filter);
    // NOT INDEXED: the planner otherwise walks the collection index and tests every row id.
    const rows = statement(
      `SELECT ${selectColumns(true)} FROM engram_memories NOT INDEXED WHERE ${where.sql} AND row_id IN (SELECT value FROM json_each(?))`,
    ).all(...where.parameters, JSON.stringify(candidates)) as MemoryRow[];
    if (rows.length < topK) return undefined;
    const queryNorm = norm(query);
    const scores = Float64Array.from(rows, (row) => {
      const vector = toFloats(row.vector);
      const rowNorm = norm(vector);
      let dot = 0;
      for (let dimension = 0; dimension < dimensions; dimension++) {
        dot += query[dimension]! * vector[dimension]!;
      }
      return rowNorm === 0 ? 0 : dot / (queryNorm * rowNorm);
    });
    const best = bestIndices(
      scores,
      rows.map((row) => row.id),
      topK,
    );
    return best.map((index) => ({
      record: toRecord(rows[index]!, options.includeVectors),
      score: scores[index]!,
    }));
  }

  /** Keyword matches from the full-text index: cost grows with the documents holding the words. */
  function indexKeywordQuery(options: QueryOptions, terms: readonly string[]): VectorMatch[] {
    const where = whereClause(options.collection, options.scope, options.filter, 'memory.');
    // CROSS JOIN keeps the full-text index as the outer loop: the planner otherwise walks the
    // scope's rows and runs the MATCH once per row (measured 55 times slower on LoCoMo).
    const rows = statement(
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

  /** The keyword index's row and token counts, and its document frequencies (cached when large). */
  function keywordStatistics(): KeywordStatistics | undefined {
    const record = statement('SELECT block FROM engram_memories_fts_data WHERE id = 1')
      .pluck()
      .get() as Buffer | undefined;
    const { documents, tokens } = record ? fts5Averages(record) : { documents: 0, tokens: 0 };
    if (documents === 0) return undefined;
    return {
      documents,
      averageLength: tokens / documents,
      frequency(word, phrase) {
        const cached = frequencies.get(word);
        if (cached && Math.abs(documents - cached.rows) <= cached.rows / 100) {
          return cached.documents;
        }
        const containing = (
          phrase.length === 1
            ? statement(`SELECT doc FROM temp.${vocabularyTable} WHERE term = ?`)
                .pluck()
                .get(phrase[0])
            : statement(
                'SELECT count(*) FROM engram_memories_fts WHERE engram_memories_fts MATCH ?',
              )
                .pluck()
                .get(`"${word}"`)
        ) as number | undefined;
        if (documents >= minCachedFrequencyRows) {
          if (frequencies.size >= maxCachedFrequencies) frequencies.clear();
          frequencies.set(word, { documents: containing ?? 0, rows: documents });
        }
        return containing ?? 0;
      },
    };
  }

  /**
   * Keyword matches of a small scope, scored over the scope's own rows read through its index:
   * cost grows with the scope, not with the collection (a common word of a million documents
   * costs nothing here). BM25 statistics are the scope's.
   */
  function scopeKeywordQuery(
    query: QueryOptions,
    dimensions: number,
    terms: readonly string[],
    /** The scope's row count, just read. */
    size: number,
  ): VectorMatch[] {
    tokenizer ??= createKeywordTokenizer(createSqliteCharacterProbe(openDatabase()));
    checkDataVersion();
    // The scope's tokens are kept beside its vectors (a scoped hybrid search asks for both), and
    // dropped with them when the file changes.
    const cached = cachedScope(query.collection, dimensions, query.scope, size);
    let rowIds: ArrayLike<number>;
    let ids: readonly string[];
    let documents: ScopeDocument[];
    /** Where each row is in the cached scope, when the scope is cached. */
    let positions: readonly number[] | undefined;
    if (cached) {
      cached.tokens ??= tokenizer.tokenize(cached.texts);
      const tokens = cached.tokens;
      const kept = keptRows(cached, query);
      positions = kept ?? Array.from(cached.ids.keys());
      rowIds = kept ? kept.map((index) => cached.rowIds[index]!) : cached.rowIds;
      ids = kept ? kept.map((index) => cached.ids[index]!) : cached.ids;
      documents = positions.map((index) => ({
        text: cached.texts[index]!,
        tokens: tokens[index]!,
      }));
    } else {
      const where = whereClause(query.collection, query.scope, query.filter);
      // Scored from the texts alone; the other columns are read for the returned rows only
      // (turning ten columns of every row of the scope into JavaScript values cost more).
      const rows = statement(
        `SELECT row_id, id, ${keywordColumn} FROM engram_memories WHERE ${where.sql}`,
      )
        .raw()
        .all(...where.parameters) as [number, string, string][];
      rowIds = rows.map(([rowId]) => rowId);
      ids = rows.map(([, id]) => id);
      documents = rows.map(([, , text]) => ({ text }));
    }
    const scores = scoreScopeBM25({
      terms,
      documents,
      statistics: options.keywordStatistics === 'collection' ? keywordStatistics() : undefined,
      tokenizer,
    });
    const matches: { position: number; rowId: number; id: string; score: number }[] = [];
    for (let index = 0; index < ids.length; index++) {
      const score = scores[index]!;
      if (score > 0) {
        matches.push({ position: index, rowId: rowIds[index]!, id: ids[index]!, score });
      }
    }
    const best = matches
      .sort(
        (left, right) =>
          right.score - left.score || (left.id < right.id ? -1 : left.id > right.id ? 1 : 0),
      )
      .slice(0, Math.floor(query.topK));
    if (best.length === 0) return [];
    if (cached && positions) {
      const at = positions;
      return best.map(({ position, score }) => ({
        record: cachedRecord(cached, at[position]!, query.includeVectors),
        score,
      }));
    }
    const byRowId = new Map<number, MemoryRow>();
    for (const row of statement(
      `SELECT ${selectColumns(query.includeVectors)} FROM engram_memories WHERE row_id IN (SELECT value FROM json_each(?))`,
    ).all(JSON.stringify(best.map((match) => match.rowId))) as MemoryRow[]) {
      byRowId.set(row.row_id, row);
    }
    return best.flatMap(({ rowId, score }) => {
      const row = byRowId.get(rowId);
      return row ? [{ record: toRecord(row, query.includeVectors), score }] : [];
    });
  }

  function keywordQuery(options: QueryOptions, dimensions: number): VectorMatch[] {
    // Unstemmed words: the FTS5 porter tokenizer stems query terms the way it stemmed the text.
    const terms = [...new Set(keywordWords(options.text ?? ''))];
    if (terms.length === 0 || options.topK <= 0) return [];
    // The scope's size from the cache, or from its index, counted no further than the limit.
    const scope = whereClause(options.collection, options.scope, undefined);
    checkDataVersion();
    const size =
      cache.get(scopeCacheKey(options.collection, scope.scope))?.ids.length ??
      (statement(`SELECT count(*) FROM (SELECT 1 FROM engram_memories WHERE ${scope.sql} LIMIT ?)`)
        .pluck()
        .get(...scope.parameters, maxScopeKeywordRows + 1) as number);
    return size <= maxScopeKeywordRows
      ? scopeKeywordQuery(options, dimensions, terms, size)
      : indexKeywordQuery(options, terms);
  }

  const store = defineVectorStore({
    provider: source,
    capabilities: {
      keywordSearch: true,
      filterOperators,
      maxBatchSize,
      metric: 'cosine',
      atomicHistory: true,
    },
    toError,
    async onClose() {
      const stopping = database ? ann?.close() : undefined;
      closed = true;
      cache.clear();
      statements.clear();
      frequencies.clear();
      tokenizer = undefined;
      const opened = database;
      database = undefined;
      if (opened && !options.database) {
        try {
          opened.close();
        } catch (error) {
          throw toError(error, 'Closing the database');
        }
      }
      // Background index builds read through their own connections; they end within a page.
      await stopping;
    },
    methods: (lifecycle): SqliteMethods => ({
      async ensureCollection({ collection, dimensions }) {
        assertPositiveInteger(dimensions, 'dimensions', source);
        if (typeof collection !== 'string' || collection.length === 0) {
          throw new InvalidArgumentError({
            source,
            message: 'collection must be a non-empty string.',
          });
        }
        const find = statement('SELECT dimensions FROM engram_collections WHERE name = ?');
        let existing = (find.get(collection) as { dimensions: number } | undefined)?.dimensions;
        existing ??= await writeTransaction(() => {
          statement(
            'INSERT OR IGNORE INTO engram_collections (name, dimensions, created_at) VALUES (?, ?, ?)',
          ).run(collection, dimensions, new Date().toISOString());
          return dimensionsOf(collection);
        });
        if (existing !== dimensions) {
          throw collectionDimensionMismatch({
            source,
            collection,
            existing: existing,
            requested: dimensions,
          });
        }
      },

      async upsert({ collection, records, abortSignal }) {
        const dimensions = dimensionsToCheck(collection);
        checkRecords(dimensions, records);
        // Each chunk is its own short transaction so that other connections (and this process's
        // event loop) get a turn during a large import.
        for (const [index, batch] of chunk(records, maxBatchSize).entries()) {
          if (index > 0) {
            await new Promise((resolve) => setImmediate(resolve));
            lifecycle.check(abortSignal);
          }
          await writeTransaction(
            () => {
              confirmDimensions(collection, dimensions, batch);
              writeRecords(collection, batch);
            },
            () => 2 * batch.length,
          );
        }
        ann?.afterWrite(collection, records.length);
      },

      async query(options) {
        const dimensions = dimensionsOf(options.collection);
        if (options.vector) {
          return (await annVectorQuery(options, dimensions)) ?? vectorQuery(options, dimensions);
        }
        if (options.text !== undefined) return keywordQuery(options, dimensions);
        throw new InvalidArgumentError({ source, message: 'query needs a vector or a text.' });
      },

      async get({ collection, ids, includeVectors }) {
        dimensionsOf(collection);
        const byId = new Map<string, MemoryRow>();
        for (const slice of chunk([...new Set(ids)], idsPerStatement)) {
          const rows = statement(
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
      },

      async delete(options) {
        dimensionsOf(options.collection);
        const { ids } = options;
        let deleted: number;
        if (ids) {
          deleted = await writeTransaction(
            () => deleteIds(options.collection, ids),
            (count) => count,
          );
        } else {
          const where = whereClause(options.collection, options.scope, options.filter);
          const remove = statement(`DELETE FROM engram_memories WHERE ${where.sql}`);
          deleted = await writeTransaction(
            () => remove.run(...where.parameters).changes,
            (count) => count,
          );
        }
        ann?.afterWrite(options.collection, deleted);
        return { deleted };
      },

      async list(options) {
        dimensionsOf(options.collection);
        const after = decodeCursor(options.cursor, source);
        const where = whereClause(options.collection, options.scope, options.filter);
        const limit = Math.max(0, Math.floor(options.limit));
        const rows = statement(
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
      },

      async adjacent(options) {
        dimensionsOf(options.collection);
        const where = whereClause(options.collection, options.scope, options.filter);
        const columns = selectColumns(options.includeVectors);
        const anchor = statement(
          `SELECT created_at, id FROM engram_memories WHERE ${where.sql} AND id = ?`,
        );
        const side = (direction: '<' | '>', count: number, anchorRow: MemoryRow) => {
          if (count <= 0) return [];
          const order = direction === '<' ? 'DESC' : 'ASC';
          const rows = statement(
            `SELECT ${columns} FROM engram_memories
             WHERE ${where.sql} AND (created_at, id) ${direction} (?, ?)
             ORDER BY created_at ${order}, id ${order} LIMIT ?`,
          ).all(...where.parameters, anchorRow.created_at, anchorRow.id, count) as MemoryRow[];
          if (direction === '<') rows.reverse();
          return rows.map((row) => toRecord(row, options.includeVectors));
        };
        return options.ids.flatMap((id) => {
          const row = anchor.get(...where.parameters, id) as MemoryRow | undefined;
          if (!row) return [];
          return [
            { id, before: side('<', options.before, row), after: side('>', options.after, row) },
          ];
        });
      },

      async count(options) {
        dimensionsOf(options.collection);
        const where = whereClause(options.collection, options.scope, options.filter);
        return statement(`SELECT count(*) FROM engram_memories WHERE ${where.sql}`)
          .pluck()
          .get(...where.parameters) as number;
      },

      async dropCollection({ collection }) {
        knownDimensions.delete(collection);
        await writeTransaction(
          () => {
            const { changes } = statement('DELETE FROM engram_memories WHERE collection = ?').run(
              collection,
            );
            statement('DELETE FROM engram_collections WHERE name = ?').run(collection);
            ann?.dropState(collection);
            return changes;
          },
          (changes) => changes,
        );
        ann?.forget(collection);
      },

      async buildIndex({ collection }) {
        const dimensions = dimensionsOf(collection);
        return { size: ann ? await ann.build(collection, dimensions) : 0 };
      },

      async commit(options) {
        const dimensions = dimensionsToCheck(options.collection);
        checkRecords(dimensions, options.upsert);
        await writeTransaction(
          () => {
            confirmDimensions(options.collection, dimensions, options.upsert);
            deleteIds(options.collection, options.delete);
            writeRecords(options.collection, options.upsert);
            appendEvents(options.history);
          },
          () => options.delete.length + 2 * options.upsert.length,
        );
        ann?.afterWrite(options.collection, options.upsert.length + options.delete.length);
      },

      async append({ events }) {
        await writeTransaction(() => appendEvents(events));
      },

      async byMemory({ namespace, memoryId }) {
        const rows = statement(
          'SELECT * FROM engram_history WHERE namespace = ? AND memory_id = ? ORDER BY sequence',
        ).all(checkHistoryNamespace(namespace, source), memoryId) as HistoryRow[];
        return rows.map(toEvent);
      },

      async byScope({ namespace, scope: scopeInput, limit, cursor }) {
        checkHistoryNamespace(namespace, source);
        const scope = normalizeScope(scopeInput, { required: true, source });
        const { conditions, parameters } = scopeConditions(scope);
        return historyPage(namespace, conditions, parameters, cursor, limit);
      },

      async deleteScope({ namespace, scope: scopeInput }) {
        checkHistoryNamespace(namespace, source);
        const scope = normalizeScope(scopeInput, { source });
        const { conditions, parameters } = scopeConditions(scope);
        if (conditions.length === 0) {
          throw new InvalidArgumentError({
            source,
            message: 'deleteScope needs a non-empty scope.',
          });
        }
        const remove = statement(
          `DELETE FROM engram_history WHERE namespace = ? AND ${conditions.join(' AND ')}`,
        );
        return {
          deleted: await writeTransaction(() => remove.run(namespace, ...parameters).changes),
        };
      },

      async listTexts({ namespace, before, limit, cursor }) {
        checkHistoryNamespace(namespace, source);
        return historyPage(
          namespace,
          [
            'julianday(created_at) < julianday(?)',
            '(previous_text IS NOT NULL OR new_text IS NOT NULL)',
          ],
          [new Date(before).toISOString()],
          cursor,
          limit,
        );
      },

      async eraseTexts(options) {
        eraseSelection(options, source);
        const { namespace, memoryIds, scope, before } = options;
        const { conditions, parameters } = scopeConditions(normalizeScope(scope, { source }));
        conditions.unshift('namespace = ?');
        parameters.unshift(namespace);
        if (before !== undefined) {
          conditions.push('julianday(created_at) < julianday(?)');
          parameters.push(new Date(before).toISOString());
        }
        conditions.push('(previous_text IS NOT NULL OR new_text IS NOT NULL)');
        const sql = `UPDATE engram_history SET previous_text = NULL, new_text = NULL WHERE ${conditions.join(' AND ')}`;
        if (memoryIds === undefined) {
          return {
            erased: await writeTransaction(() => statement(sql).run(...parameters).changes),
          };
        }
        return {
          erased: await writeTransaction(() => {
            let erased = 0;
            for (const slice of chunk([...new Set(memoryIds)], idsPerStatement)) {
              erased += statement(
                `${sql} AND memory_id IN (${slice.map(() => '?').join(', ')})`,
              ).run(...parameters, ...slice).changes;
            }
            return erased;
          }),
        };
      },
    }),
  });
  const shared = path !== ':memory:' && path !== '' && options.scopeLock !== false;
  const scopeLock = shared
    ? createSqliteScopeLock({
        database: () => (closed ? undefined : openDatabase()),
        write: (work) => writer.write(work),
        ...(options.lockLeaseMs === undefined ? {} : { leaseMs: options.lockLeaseMs }),
      })
    : undefined;
  return Object.assign(store as SqliteStore, { path, ...(scopeLock ? { scopeLock } : {}) });
}
