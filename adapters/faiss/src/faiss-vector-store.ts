import { createHash, randomInt } from 'node:crypto';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  assertCollectionDimensions,
  assertDeleteSelection,
  assertPositiveInteger,
  assertQueryInput,
  assertRecords,
  assertVectorLength,
  defineVectorStore,
  type Lifecycle,
} from '@engram/adapter-kit';
import {
  decodeCursor,
  defaultDataDirectory,
  encodeCursor,
  type FilterExpression,
  filterOperators,
  InvalidArgumentError,
  matchesFilter,
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
import Database from 'better-sqlite3';
import { type FaissIndex, loadFaiss, writeIndexFile } from './faiss-index-file.js';
import {
  blobVector,
  type CollectionRow,
  insertRecordSql,
  metadataSchemaSql,
  type RecordRow,
  recordColumns,
  recordParameters,
  scopeWhere,
  toRecord,
} from './faiss-metadata.js';

const source = 'faiss';
const maxBatchSize = 5_000;
/** Rows per `IN (...)` list and vectors per `add` call. */
const slice = 500;

/** Options of {@link createFaissVectorStore}. */
export interface FaissVectorStoreOptions {
  /**
   * Directory of the store: the metadata store `engram-faiss.db` (SQLite) and one FAISS index
   * file per collection. Created when missing. Default: the `FAISS_PATH` environment variable,
   * else `faiss` in the Engram data directory (`ENGRAM_HOME`, `~/.engram`).
   */
  path?: string;
  /**
   * A vector query whose scope and filter select at most this many records is answered by exact
   * scoring of those records' vectors (from the metadata store) instead of a FAISS search that
   * skips the records the filter leaves out. Default 2,000.
   */
  exactSearchThreshold?: number;
  /**
   * The index file of a collection is written (atomically) after this many records were changed
   * since it was last written, and on `close()`. Between writes the metadata store is the
   * record: an index file behind it is rebuilt from it on open. Default 1,000.
   */
  indexWriteInterval?: number;
}

/** The FAISS store, with `flush()` to write every index file that is behind now. */
export type FaissVectorStore = VectorStore & {
  /** Writes the index file of every collection changed since its last write. */
  flush(): Promise<void>;
};

/** A collection's FAISS index in memory: position `i` holds the vector of record `ids[i]`. */
interface LoadedIndex {
  dimensions: number;
  file: string;
  version: number;
  index: FaissIndex;
  ids: string[];
  positions: Map<string, number> | undefined;
  unwritten: number;
}

/** The default directory: `FAISS_PATH`, else `<data directory>/faiss`. */
export function defaultFaissPath(): string {
  return process.env.FAISS_PATH ?? join(defaultDataDirectory(), 'faiss');
}

function normalized(vector: ArrayLike<number>): number[] {
  let norm = 0;
  for (let index = 0; index < vector.length; index++) norm += vector[index]! * vector[index]!;
  norm = Math.sqrt(norm);
  return Array.from(vector, (value) => (norm > 0 ? value / norm : 0));
}

/** Cosine similarity of a unit-length query and a stored vector (0 for a zero vector). */
function cosineToUnit(unit: readonly number[], vector: Float32Array): number {
  let product = 0;
  let norm = 0;
  for (let index = 0; index < vector.length; index++) {
    product += unit[index]! * vector[index]!;
    norm += vector[index]! * vector[index]!;
  }
  return norm > 0 ? product / Math.sqrt(norm) : 0;
}

function byScore(left: { score: number; id: string }, right: { score: number; id: string }) {
  return right.score - left.score || (left.id < right.id ? -1 : left.id > right.id ? 1 : 0);
}

function integerOption(name: string, value: number | undefined, fallback: number): number {
  const result = value ?? fallback;
  assertPositiveInteger(result, name, source);
  return result;
}

/**
 * Creates the FAISS store: vectors in a FAISS inner-product index per collection (on normalized
 * vectors, so scores are cosine similarities), everything else in a SQLite metadata store beside
 * it (ids, texts, scope, metadata, timestamps, the vectors themselves, an FTS5 keyword index).
 * FAISS has no filters: scope and filter select records in the metadata store, which are scored
 * exactly when few, or picked out of a widening FAISS search when many. Nothing is opened until
 * the first call.
 */
export function createFaissVectorStore(options: FaissVectorStoreOptions = {}): FaissVectorStore {
  const exactSearchThreshold = integerOption(
    'exactSearchThreshold',
    options.exactSearchThreshold,
    2_000,
  );
  const indexWriteInterval = integerOption('indexWriteInterval', options.indexWriteInterval, 1_000);
  let directory: string | undefined;
  let database: Database.Database | undefined;
  const indexes = new Map<string, LoadedIndex>();

  function db(): Database.Database {
    if (database) return database;
    directory = options.path ?? defaultFaissPath();
    mkdirSync(directory, { recursive: true });
    const opened = new Database(join(directory, 'engram-faiss.db'));
    try {
      opened.pragma('journal_mode = WAL');
      opened.pragma('synchronous = FULL');
      opened.pragma('busy_timeout = 10000');
      opened.exec(metadataSchemaSql);
    } catch (error) {
      opened.close();
      throw error;
    }
    database = opened;
    return opened;
  }

  function collectionRow(collection: string): CollectionRow {
    const row = db().prepare('SELECT * FROM faiss_collections WHERE name = ?').get(collection) as
      | CollectionRow
      | undefined;
    if (!row) {
      indexes.delete(collection);
      throw new NotFoundError({
        source,
        message: `Collection "${collection}" does not exist; call ensureCollection first.`,
      });
    }
    return row;
  }

  function indexPath(file: string): string {
    return join(directory!, file);
  }

  /** Reads the index file when it is current and whole, else rebuilds it from the metadata store. */
  function load(row: CollectionRow): LoadedIndex {
    const faiss = loadFaiss(source);
    const ids = (
      db()
        .prepare('SELECT id FROM faiss_records WHERE collection = ? ORDER BY seq')
        .all(row.name) as { id: string }[]
    ).map((entry) => entry.id);
    const path = indexPath(row.file);
    if (row.index_version === row.version && existsSync(path)) {
      try {
        const index = faiss.IndexFlatIP.read(path);
        if (index.ntotal() === ids.length && index.getDimension() === row.dimensions) {
          return { ...base(row), index, ids, unwritten: 0 };
        }
      } catch {
        // A damaged file is rebuilt below.
      }
    }
    const index = new faiss.IndexFlatIP(row.dimensions);
    let batch: number[] = [];
    let count = 0;
    for (const entry of db()
      .prepare('SELECT vector FROM faiss_records WHERE collection = ? ORDER BY seq')
      .iterate(row.name) as IterableIterator<{ vector: Buffer }>) {
      batch.push(...normalized(blobVector(entry.vector)));
      if (++count % slice === 0) {
        index.add(batch);
        batch = [];
      }
    }
    if (batch.length > 0) index.add(batch);
    return { ...base(row), index, ids, unwritten: ids.length > 0 ? indexWriteInterval : 0 };
  }

  function base(row: CollectionRow) {
    return {
      dimensions: row.dimensions,
      file: row.file,
      version: row.version,
      positions: undefined,
    };
  }

  /** The collection's index as of the metadata store's latest version (reloaded when behind). */
  function current(collection: string): LoadedIndex {
    const row = collectionRow(collection);
    const loadedIndex = indexes.get(collection);
    if (loadedIndex && loadedIndex.version === row.version) return loadedIndex;
    const fresh = load(row);
    indexes.set(collection, fresh);
    return fresh;
  }

  function positionsOf(loadedIndex: LoadedIndex): Map<string, number> {
    loadedIndex.positions ??= new Map(loadedIndex.ids.map((id, position) => [id, position]));
    return loadedIndex.positions;
  }

  function writeIndex(collection: string, loadedIndex: LoadedIndex) {
    const pending = writeIndexFile(loadedIndex.index, indexPath(loadedIndex.file));
    // The file is renamed into place only while it still matches the metadata store.
    const committed = db()
      .transaction(() => {
        const row = collectionRow(collection);
        if (row.version !== loadedIndex.version) return false;
        pending.commit();
        db()
          .prepare('UPDATE faiss_collections SET index_version = ? WHERE name = ?')
          .run(row.version, collection);
        return true;
      })
      .immediate();
    if (committed) loadedIndex.unwritten = 0;
    else pending.discard();
  }

  /**
   * Applies a change to the metadata store in one transaction that moves the collection's
   * version on, then to the loaded index when it was current (else it is reloaded on next use).
   */
  function change(
    collection: string,
    removeIds: readonly string[],
    add: readonly VectorRecord[],
    write: () => number,
  ): number {
    const loadedIndex = current(collection);
    const result = db()
      .transaction(() => {
        const row = collectionRow(collection);
        const counted = write();
        db()
          .prepare('UPDATE faiss_collections SET version = version + 1 WHERE name = ?')
          .run(collection);
        return { counted, before: row.version };
      })
      .immediate();
    if (result.before !== loadedIndex.version) {
      indexes.delete(collection);
      return result.counted;
    }
    const positions = positionsOf(loadedIndex);
    const removed = removeIds
      .map((id) => positions.get(id))
      .filter((position): position is number => position !== undefined)
      .sort((left, right) => left - right);
    if (removed.length > 0) {
      loadedIndex.index.removeIds(removed);
      const gone = new Set(removed);
      loadedIndex.ids = loadedIndex.ids.filter((_, position) => !gone.has(position));
      loadedIndex.positions = undefined;
    }
    for (let start = 0; start < add.length; start += slice) {
      const part = add.slice(start, start + slice);
      loadedIndex.index.add(part.flatMap((record) => normalized(record.vector)));
      for (const record of part) loadedIndex.ids.push(record.id);
    }
    loadedIndex.positions = undefined;
    loadedIndex.version = result.before + 1;
    loadedIndex.unwritten += removed.length + add.length;
    if (loadedIndex.unwritten >= indexWriteInterval) writeIndex(collection, loadedIndex);
    return result.counted;
  }

  function rowsByIds(collection: string, ids: readonly string[], includeVectors?: boolean) {
    const rows = new Map<string, RecordRow>();
    for (let start = 0; start < ids.length; start += slice) {
      const part = ids.slice(start, start + slice);
      const found = db()
        .prepare(
          `SELECT ${recordColumns(includeVectors)} FROM faiss_records
           WHERE collection = ? AND id IN (${part.map(() => '?').join(', ')})`,
        )
        .all(collection, ...part) as RecordRow[];
      for (const row of found) rows.set(row.id, row);
    }
    return rows;
  }

  /** Rows of the scope (through its indexes) that pass the filter, in id order. */
  function* selected(
    collection: string,
    selection: { scope?: Scope | undefined; filter?: FilterExpression | undefined },
    extra: { after?: string | undefined; columns?: string } = {},
  ): Generator<RecordRow> {
    const where = scopeWhere(collection, normalizeScope(selection.scope, { source }));
    const parameters: unknown[] = [...where.parameters];
    let sql = `SELECT ${extra.columns ?? recordColumns(false)} FROM faiss_records WHERE ${where.sql}`;
    if (extra.after !== undefined) {
      sql += ' AND id > ?';
      parameters.push(extra.after);
    }
    sql += ' ORDER BY id';
    for (const row of db()
      .prepare(sql)
      .iterate(...parameters) as IterableIterator<RecordRow>) {
      if (selection.filter && !matchesFilter(selection.filter, JSON.parse(row.metadata))) continue;
      yield row;
    }
  }

  function isSelective(options: { scope?: Scope | undefined; filter?: unknown }) {
    return (
      options.filter !== undefined ||
      Object.keys(normalizeScope(options.scope, { source })).length > 0
    );
  }

  function vectorQuery(options: QueryOptions, topK: number): VectorMatch[] {
    const loadedIndex = current(options.collection);
    assertVectorLength(options.vector!, loadedIndex.dimensions, {
      source,
      what: 'The query vector',
      collection: options.collection,
    });
    const query = normalized(options.vector!);
    const total = loadedIndex.index.ntotal();
    if (topK === 0 || total === 0) return [];
    let hits: { id: string; score: number }[];
    if (!isSelective(options)) {
      hits = search(loadedIndex, query, Math.min(topK, total)).sort(byScore);
    } else {
      const candidates = new Set<string>();
      for (const row of selected(options.collection, options, { columns: 'id, metadata' })) {
        candidates.add(row.id);
      }
      if (candidates.size === 0) return [];
      if (candidates.size <= exactSearchThreshold) {
        hits = [];
        const rows = rowsByIds(options.collection, [...candidates], true);
        for (const row of rows.values()) {
          hits.push({ id: row.id, score: cosineToUnit(query, blobVector(row.vector!)) });
        }
      } else {
        // A flat index is exact: widening k until enough candidates are found gives exact results.
        let k = Math.min(total, Math.max(topK * 8, 256));
        for (;;) {
          hits = search(loadedIndex, query, k).filter((hit) => candidates.has(hit.id));
          if (hits.length >= topK || k === total) break;
          k = Math.min(total, k * 4);
        }
      }
      hits.sort(byScore);
    }
    const top = hits.slice(0, topK);
    const rows = rowsByIds(
      options.collection,
      top.map((hit) => hit.id),
      options.includeVectors,
    );
    return top.flatMap((hit) => {
      const row = rows.get(hit.id);
      return row ? [{ record: toRecord(row, options.includeVectors), score: hit.score }] : [];
    });
  }

  function search(loadedIndex: LoadedIndex, query: number[], k: number) {
    const { distances, labels } = loadedIndex.index.search(query, k);
    const hits: { id: string; score: number }[] = [];
    labels.forEach((label, position) => {
      const id = label >= 0 ? loadedIndex.ids[label] : undefined;
      if (id !== undefined) hits.push({ id, score: distances[position]! });
    });
    return hits;
  }

  function keywordQuery(options: QueryOptions, topK: number): VectorMatch[] {
    collectionRow(options.collection);
    const terms = [...new Set(tokenize(options.text ?? ''))].slice(0, 64);
    if (terms.length === 0 || topK === 0) return [];
    const where = scopeWhere(
      options.collection,
      normalizeScope(options.scope, { source }),
      'record.',
    );
    const rows = db()
      .prepare(
        `SELECT ${recordColumns(options.includeVectors, 'record.')}, -bm25(faiss_records_fts) AS score
         FROM faiss_records_fts CROSS JOIN faiss_records AS record ON record.seq = faiss_records_fts.rowid
         WHERE faiss_records_fts MATCH ? AND ${where.sql}
         ORDER BY score DESC, record.id`,
      )
      .iterate(
        terms.map((term) => `"${term.replaceAll('"', '""')}"`).join(' OR '),
        ...where.parameters,
      ) as IterableIterator<RecordRow & { score: number }>;
    const matches: VectorMatch[] = [];
    for (const row of rows) {
      if (options.filter && !matchesFilter(options.filter, JSON.parse(row.metadata))) continue;
      matches.push({ record: toRecord(row, options.includeVectors), score: row.score });
      if (matches.length >= topK) break;
    }
    return matches;
  }

  function writeAll() {
    for (const [collection, loadedIndex] of indexes) {
      if (loadedIndex.unwritten > 0) writeIndex(collection, loadedIndex);
    }
  }

  const capabilities: VectorStoreCapabilities = {
    keywordSearch: true,
    filterOperators,
    maxBatchSize,
    metric: 'cosine',
    atomicHistory: false,
  };

  let lifecycle: Lifecycle | undefined;
  const store = defineVectorStore({
    provider: source,
    capabilities,
    onClose() {
      try {
        if (database) writeAll();
      } finally {
        indexes.clear();
        database?.close();
        database = undefined;
      }
    },
    methods: (storeLifecycle) => {
      lifecycle = storeLifecycle;
      return {
        async ensureCollection({ collection, dimensions }) {
          if (typeof collection !== 'string' || collection.length === 0) {
            throw new InvalidArgumentError({
              source,
              message: 'collection must be a non-empty string.',
            });
          }
          assertPositiveInteger(dimensions, 'dimensions', source);
          const file = `${createHash('sha256').update(collection).digest('hex').slice(0, 32)}.faiss`;
          db()
            .prepare(
              'INSERT INTO faiss_collections (name, dimensions, file, version) VALUES (?, ?, ?, ?) ON CONFLICT (name) DO NOTHING',
            )
            // A random first version: an index loaded before the collection was dropped and made
            // again never passes for current.
            .run(collection, dimensions, file, randomInt(2 ** 40));
          assertCollectionDimensions({
            source,
            collection,
            existing: collectionRow(collection).dimensions,
            requested: dimensions,
          });
        },

        async upsert({ collection, records }) {
          const row = collectionRow(collection);
          assertRecords(records, { source, dimensions: row.dimensions, collection });
          for (const record of records) {
            if (typeof record.text !== 'string') {
              throw new InvalidArgumentError({
                source,
                message: `Record "${record.id}" needs a string text.`,
              });
            }
            normalizeScope(record, { source });
          }
          const latest = [...new Map(records.map((record) => [record.id, record])).values()];
          if (latest.length === 0) return;
          const ids = latest.map((record) => record.id);
          change(collection, ids, latest, () => {
            const remove = db().prepare(
              'DELETE FROM faiss_records WHERE collection = ? AND id = ?',
            );
            const insert = db().prepare(insertRecordSql);
            for (const record of latest) {
              remove.run(collection, record.id);
              insert.run(...recordParameters(collection, record));
            }
            return latest.length;
          });
        },

        async query(options) {
          assertQueryInput(options, source);
          const topK = Math.max(0, Math.floor(options.topK));
          return options.vector ? vectorQuery(options, topK) : keywordQuery(options, topK);
        },

        async get({ collection, ids, includeVectors }) {
          collectionRow(collection);
          const rows = rowsByIds(collection, [...new Set(ids)], includeVectors);
          return ids.flatMap((id) => {
            const row = rows.get(id);
            return row ? [toRecord(row, includeVectors)] : [];
          });
        },

        async delete(options) {
          collectionRow(options.collection);
          let ids: string[];
          if (options.ids) {
            ids = [...new Set(options.ids)];
          } else {
            assertDeleteSelection(isSelective(options), source);
            ids = [...selected(options.collection, options, { columns: 'id, metadata' })].map(
              (row) => row.id,
            );
          }
          if (ids.length === 0) return { deleted: 0 };
          const deleted = change(options.collection, ids, [], () => {
            const remove = db().prepare(
              'DELETE FROM faiss_records WHERE collection = ? AND id = ?',
            );
            let count = 0;
            for (const id of ids) count += remove.run(options.collection, id).changes;
            return count;
          });
          return { deleted };
        },

        async list(options) {
          collectionRow(options.collection);
          const after = decodeCursor(options.cursor, source);
          const limit = Math.max(0, Math.floor(options.limit));
          const page: RecordRow[] = [];
          let more = false;
          for (const row of selected(options.collection, options, {
            after,
            columns: recordColumns(options.includeVectors),
          })) {
            if (page.length === limit) {
              more = true;
              break;
            }
            page.push(row);
          }
          const last = page.at(-1);
          return {
            records: page.map((row) => toRecord(row, options.includeVectors)),
            ...(more && last ? { nextCursor: encodeCursor(last.id) } : {}),
          };
        },

        async count(options) {
          collectionRow(options.collection);
          if (!options.filter) {
            const where = scopeWhere(options.collection, normalizeScope(options.scope, { source }));
            const row = db()
              .prepare(`SELECT count(*) AS total FROM faiss_records WHERE ${where.sql}`)
              .get(...where.parameters) as { total: number };
            return row.total;
          }
          let total = 0;
          for (const _ of selected(options.collection, options, { columns: 'id, metadata' }))
            total++;
          return total;
        },

        async dropCollection({ collection }) {
          const row = db()
            .prepare('SELECT * FROM faiss_collections WHERE name = ?')
            .get(collection) as CollectionRow | undefined;
          indexes.delete(collection);
          if (!row) return;
          db().transaction(() => {
            db().prepare('DELETE FROM faiss_records WHERE collection = ?').run(collection);
            db().prepare('DELETE FROM faiss_collections WHERE name = ?').run(collection);
          })();
          rmSync(indexPath(row.file), { force: true });
        },
      };
    },
  });

  return {
    ...store,
    flush: () =>
      lifecycle!.run('flush', undefined, async () => {
        if (database) writeAll();
      }),
  } as FaissVectorStore;
}
