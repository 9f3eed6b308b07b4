import { createHash } from 'node:crypto';
import { chmodSync, renameSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import type Database from 'better-sqlite3';
import { toFloats } from './sqlite-vectors.js';

type SqliteDatabase = Database.Database;

/** Settings of the approximate (HNSW) index used for vector queries without a scope. */
export interface SqliteAnnIndexOptions {
  /**
   * Collections with fewer memories are searched exactly (a scan is fast there and the index is
   * not built). Default 10,000.
   */
  minimumSize?: number;
  /** Neighbours per node of the HNSW graph (`M`): more is better recall, more memory. Default 32. */
  connectivity?: number;
  /** Candidates considered while inserting (`efConstruction`): more is better recall, slower. Default 128. */
  expansionAdd?: number;
  /**
   * Candidates taken from the index per query, at least `topK`; the table then scores them
   * exactly and applies the filter. More is better recall and slower. Default 64.
   */
  candidates?: number;
  /**
   * How the index holds vectors: `f16` halves the memory of `f32` (1M x 384 is about 0.8 GB
   * with the graph instead of 1.9 GB) at no measurable loss of recall once the table re-scores
   * the candidates; `i8` quarters it at some loss of recall. Default `f16`.
   */
  quantization?: 'f32' | 'f16' | 'i8';
}

/** The parts of the `usearch` package this module uses. */
interface UsearchModule {
  Index: new (config: {
    dimensions: number;
    metric: unknown;
    quantization: unknown;
    connectivity: number;
    expansion_add: number;
    expansion_search: number;
  }) => UsearchIndex;
  MetricKind: { Cos: unknown };
  ScalarKind: Record<'F32' | 'F16' | 'I8', unknown>;
}

interface UsearchIndex {
  add(keys: bigint | BigUint64Array, vectors: Float32Array, threads?: number): void;
  search(vector: Float32Array, k: number, threads: number): { keys: BigUint64Array };
  contains(key: bigint): boolean;
  remove(key: bigint): number;
  size(): number;
  dimensions(): number;
  save(path: string): void;
  load(path: string): void;
}

interface LoadedIndex {
  index: UsearchIndex;
  dimensions: number;
  /** The last change of `engram_ann_changes` the index holds. */
  mark: number;
  /** `mark` when the index was last saved or loaded. */
  savedMark: number;
  /** Changes applied since then. */
  unsaved: number;
}

/** Options of {@link createSqliteAnnIndex}. */
export interface SqliteAnnIndexSettings extends SqliteAnnIndexOptions {
  /** The store's open database. */
  database: () => SqliteDatabase;
  /** The database file, beside which index files are saved; `undefined` keeps indexes in memory. */
  path: string | undefined;
}

/** The approximate vector index of every collection of one store. */
export interface SqliteAnnIndex {
  /**
   * Row ids of about `count` nearest rows of the whole collection, or `undefined` when the
   * collection is searched exactly (too small, index unavailable, or a zero query vector).
   */
  candidates(
    collection: string,
    dimensions: number,
    vector: Float32Array,
    count: number,
  ): Promise<number[] | undefined>;
  /**
   * After a write: applies the collection's logged changes to its index when one is loaded and
   * they are few; more wait for the next unscoped query.
   */
  afterWrite(collection: string): void;
  /** SQL run inside `dropCollection`'s transaction: forgets the collection's index state. */
  dropState(collection: string): void;
  /** Drops the collection's index from memory and disk (after `dropCollection` committed). */
  forget(collection: string): void;
  /** Saves every index with unsaved changes; called on close. */
  close(): void;
}

const pageSize = 10_000;
const eagerChanges = 100;
let usearchModule: UsearchModule | null | undefined;

/** The `usearch` package, or `null` when its native module does not load on this platform. */
function loadUsearch(): UsearchModule | null {
  if (usearchModule !== undefined) return usearchModule;
  try {
    // The package's ESM entry cannot locate its prebuilt binary; its CommonJS entry can.
    usearchModule = createRequire(import.meta.url)('usearch') as UsearchModule;
  } catch {
    usearchModule = null;
  }
  return usearchModule;
}

/** The index file of a collection: beside the database, named by a hash of the collection. */
export function annIndexPath(databasePath: string, collection: string): string {
  const digest = createHash('sha256').update(collection).digest('hex').slice(0, 16);
  return `${databasePath}.${digest}.hnsw`;
}

const yieldToEventLoop = () => new Promise((resolve) => setImmediate(resolve));

/**
 * Creates the approximate index of a store: one HNSW index (from `usearch`) per collection,
 * built on the first unscoped query of a collection of `minimumSize` memories or more, kept in
 * step with the table through the change log that triggers write in the same transaction as the
 * rows, saved beside the database file (on close, after a build, and after many changes), and
 * brought up to date on load by replaying the changes logged after the save.
 */
export function createSqliteAnnIndex(settings: SqliteAnnIndexSettings): SqliteAnnIndex {
  const minimumSize = settings.minimumSize ?? 10_000;
  const candidatesPerQuery = settings.candidates ?? 64;
  const loaded = new Map<string, LoadedIndex>();
  const pending = new Map<string, Promise<LoadedIndex | undefined>>();
  let closed = false;

  function newIndex(usearch: UsearchModule, dimensions: number): UsearchIndex {
    const quantization = (settings.quantization ?? 'f16').toUpperCase() as 'F32' | 'F16' | 'I8';
    return new usearch.Index({
      dimensions,
      metric: usearch.MetricKind.Cos,
      quantization: usearch.ScalarKind[quantization],
      connectivity: settings.connectivity ?? 32,
      expansion_add: settings.expansionAdd ?? 128,
      expansion_search: candidatesPerQuery,
    });
  }

  function savedThrough(collection: string): number | undefined {
    const row = settings
      .database()
      .prepare('SELECT saved_through FROM engram_ann_state WHERE collection = ?')
      .pluck()
      .get(collection) as number | undefined;
    return row;
  }

  function lastChange(): number {
    return settings
      .database()
      .prepare('SELECT coalesce(max(sequence), 0) FROM engram_ann_changes')
      .pluck()
      .get() as number;
  }

  /** Puts the current vectors of `rowIds` into the index, and takes out rows that are gone. */
  function applyRows(collection: string, entry: LoadedIndex, rowIds: readonly number[]) {
    const select = settings
      .database()
      .prepare(
        `SELECT row_id, vector FROM engram_memories NOT INDEXED WHERE collection = ? AND row_id IN (${rowIds.map(() => '?').join(', ')})`,
      )
      .raw();
    const present = new Map<number, Buffer>();
    for (const [rowId, blob] of select.iterate(collection, ...rowIds) as IterableIterator<
      [number, Buffer]
    >) {
      present.set(rowId, blob);
    }
    for (const rowId of rowIds) {
      const key = BigInt(rowId);
      if (entry.index.contains(key)) entry.index.remove(key);
      const blob = present.get(rowId);
      if (blob) entry.index.add(key, toFloats(blob), 1);
    }
  }

  /** Replays the changes logged after the index's mark. */
  async function catchUp(collection: string, entry: LoadedIndex) {
    const changes = settings
      .database()
      .prepare(
        'SELECT sequence, row_id FROM engram_ann_changes WHERE collection = ? AND sequence > ? ORDER BY sequence',
      )
      .raw()
      .all(collection, entry.mark) as [number, number][];
    if (changes.length === 0) return;
    const rowIds = [...new Set(changes.map(([, rowId]) => rowId))];
    for (let start = 0; start < rowIds.length; start += 500) {
      if (start > 0 && start % pageSize === 0) {
        await yieldToEventLoop();
        if (closed) return;
      }
      applyRows(collection, entry, rowIds.slice(start, start + 500));
    }
    entry.mark = changes.at(-1)![0];
    entry.unsaved += rowIds.length;
    if (entry.unsaved >= Math.max(pageSize, entry.index.size() / 10)) save(collection, entry);
  }

  /** Builds the index from every row of the collection, in pages, yielding between them. */
  async function build(collection: string, dimensions: number, usearch: UsearchModule) {
    const database = settings.database();
    database
      .prepare(
        'INSERT INTO engram_ann_state (collection, saved_through) VALUES (?, -1) ON CONFLICT (collection) DO UPDATE SET saved_through = -1',
      )
      .run(collection);
    // Changes logged after this mark are replayed afterwards, so pages may be read outside one
    // transaction: a row changed during the build is fixed by its logged change.
    const entry: LoadedIndex = {
      index: newIndex(usearch, dimensions),
      dimensions,
      mark: lastChange(),
      savedMark: -1,
      unsaved: 0,
    };
    const page = database
      .prepare(
        'SELECT row_id, vector FROM engram_memories WHERE collection = ? AND row_id > ? ORDER BY row_id LIMIT ?',
      )
      .raw();
    let after = -1;
    for (;;) {
      const rows = page.all(collection, after, pageSize) as [number, Buffer][];
      if (rows.length === 0) break;
      const keys = new BigUint64Array(rows.length);
      const vectors = new Float32Array(rows.length * dimensions);
      for (const [index, [rowId, blob]] of rows.entries()) {
        keys[index] = BigInt(rowId);
        vectors.set(toFloats(blob), index * dimensions);
      }
      entry.index.add(keys, vectors, 1);
      after = rows.at(-1)![0];
      await yieldToEventLoop();
      if (closed) return undefined;
    }
    entry.unsaved = entry.index.size();
    await catchUp(collection, entry);
    save(collection, entry);
    return entry;
  }

  /** The saved index of the collection, if its file loads and matches the collection. */
  function loadSaved(
    collection: string,
    dimensions: number,
    usearch: UsearchModule,
    mark: number,
  ): LoadedIndex | undefined {
    if (!settings.path) return undefined;
    const file = annIndexPath(settings.path, collection);
    const expectedBytes = settings
      .database()
      .prepare('SELECT file_bytes FROM engram_ann_state WHERE collection = ?')
      .pluck()
      .get(collection) as number | null | undefined;
    // Loading a damaged file can take the native reader many seconds before it fails.
    if (statSync(file, { throwIfNoEntry: false })?.size !== expectedBytes) return undefined;
    try {
      const index = newIndex(usearch, dimensions);
      index.load(file);
      if (index.dimensions() !== dimensions) return undefined;
      return { index, dimensions, mark, savedMark: mark, unsaved: 0 };
    } catch {
      return undefined;
    }
  }

  /** The collection's index, loaded or built and up to date, or `undefined` to scan instead. */
  async function ready(collection: string, dimensions: number): Promise<LoadedIndex | undefined> {
    const usearch = loadUsearch();
    if (!usearch || closed) return undefined;
    const saved = savedThrough(collection);
    let entry = loaded.get(collection);
    // The state is gone (the collection was dropped), or the log was pruned past this copy.
    if (entry && (saved === undefined || entry.mark < saved || entry.dimensions !== dimensions)) {
      loaded.delete(collection);
      entry = undefined;
    }
    if (!entry && saved !== undefined && saved >= 0) {
      entry = loadSaved(collection, dimensions, usearch, saved);
      if (entry) loaded.set(collection, entry);
    }
    if (entry) {
      await catchUp(collection, entry);
      return entry;
    }
    const size = settings
      .database()
      .prepare('SELECT count(*) FROM (SELECT 1 FROM engram_memories WHERE collection = ? LIMIT ?)')
      .pluck()
      .get(collection, minimumSize) as number;
    if (size < minimumSize) return undefined;
    const built = await build(collection, dimensions, usearch);
    if (built && !closed) loaded.set(collection, built);
    return built;
  }

  /** Runs one load, build or catch-up per collection at a time; callers share it. */
  function serialized(collection: string, dimensions: number) {
    const running = pending.get(collection);
    const next = (running ?? Promise.resolve(undefined))
      .catch(() => undefined)
      .then(() => ready(collection, dimensions));
    const tracked = next.finally(() => {
      if (pending.get(collection) === tracked) pending.delete(collection);
    });
    pending.set(collection, tracked);
    return tracked;
  }

  /**
   * Writes the index to a temporary file, then, holding the write lock, moves it into place and
   * records its mark and prunes the log, unless another process saved a newer one meanwhile.
   */
  function save(collection: string, entry: LoadedIndex) {
    if (entry.mark === entry.savedMark) return;
    const database = settings.database();
    if (!settings.path) {
      database.transaction(() => prune(collection, entry.mark)).immediate();
      entry.savedMark = entry.mark;
      entry.unsaved = 0;
      return;
    }
    const file = annIndexPath(settings.path, collection);
    const temporary = `${file}.${process.pid}.tmp`;
    try {
      entry.index.save(temporary);
      chmodSync(temporary, 0o600);
      const moved = database
        .transaction(() => {
          const current = savedThrough(collection);
          if (current === undefined || current >= entry.mark) return false;
          renameSync(temporary, file);
          prune(collection, entry.mark, statSync(file).size);
          return true;
        })
        .immediate();
      if (!moved) rmSync(temporary, { force: true });
      entry.savedMark = entry.mark;
      entry.unsaved = 0;
    } catch {
      // Not saved: the log keeps the changes, so the next open replays them.
      rmSync(temporary, { force: true });
    }
  }

  function prune(collection: string, mark: number, fileBytes: number | null = null) {
    const database = settings.database();
    database
      .prepare('UPDATE engram_ann_state SET saved_through = ?, file_bytes = ? WHERE collection = ?')
      .run(mark, fileBytes, collection);
    database
      .prepare('DELETE FROM engram_ann_changes WHERE collection = ? AND sequence <= ?')
      .run(collection, mark);
  }

  return {
    async candidates(collection, dimensions, vector, count) {
      if (!vector.some((value) => value !== 0)) return undefined;
      const entry = await serialized(collection, dimensions);
      if (!entry || entry.index.size() < minimumSize) return undefined;
      const found = entry.index.search(vector, Math.max(count, candidatesPerQuery), 1);
      return Array.from(found.keys, Number);
    },

    afterWrite(collection) {
      const entry = loaded.get(collection);
      if (!entry || closed) return;
      // Small writes (an add) are applied at once; a bulk import is applied by the next
      // unscoped query instead, so that it does not run at the speed of graph inserts.
      const pending = settings
        .database()
        .prepare(
          'SELECT count(*) FROM (SELECT 1 FROM engram_ann_changes WHERE collection = ? AND sequence > ? LIMIT ?)',
        )
        .pluck()
        .get(collection, entry.mark, eagerChanges + 1) as number;
      if (pending <= eagerChanges) serialized(collection, entry.dimensions).catch(() => undefined);
    },

    dropState(collection) {
      const database = settings.database();
      database.prepare('DELETE FROM engram_ann_state WHERE collection = ?').run(collection);
      database.prepare('DELETE FROM engram_ann_changes WHERE collection = ?').run(collection);
    },

    forget(collection) {
      loaded.delete(collection);
      if (settings.path) rmSync(annIndexPath(settings.path, collection), { force: true });
    },

    close() {
      closed = true;
      for (const [collection, entry] of loaded) save(collection, entry);
      loaded.clear();
    },
  };
}
