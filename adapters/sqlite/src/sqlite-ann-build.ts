import { closeSync, fsyncSync, openSync } from 'node:fs';
import { createRequire } from 'node:module';
import Database from 'better-sqlite3';
import { toFloats } from './sqlite-vectors.js';

type SqliteDatabase = Database.Database;

/** The parts of the `usearch` package the index uses. */
export interface UsearchModule {
  /** An empty index of the given shape. */
  Index: new (config: {
    dimensions: number;
    metric: unknown;
    quantization: unknown;
    connectivity: number;
    expansion_add: number;
    expansion_search: number;
  }) => UsearchIndex;
  /** Distance kinds. */
  MetricKind: { Cos: unknown };
  /** Scalar kinds of stored vectors. */
  ScalarKind: Record<'F32' | 'F16' | 'I8', unknown>;
}

/** One usearch HNSW index. */
export interface UsearchIndex {
  /** Adds vectors under keys. */
  add(keys: bigint | BigUint64Array, vectors: Float32Array, threads?: number): void;
  /** The keys of about `k` nearest vectors. */
  search(vector: Float32Array, k: number, threads: number): { keys: BigUint64Array };
  /** Whether the key is in the index. */
  contains(key: bigint): boolean;
  /** Removes a key. */
  remove(key: bigint): number;
  /** Vectors held. */
  size(): number;
  /** Vectors it has room for before it grows. */
  capacity(): number;
  /** Length of the vectors. */
  dimensions(): number;
  /** Writes the index to a file. */
  save(path: string): void;
  /** Reads the index from a file. */
  load(path: string): void;
  /** Maps the index of a file into memory, read-only, without reading it. */
  view(path: string): void;
}

/** What an index is built with: the collection's vector length and the HNSW settings. */
export interface AnnIndexShape {
  /** Vector length of the collection. */
  dimensions: number;
  /** Neighbours per node (`M`). */
  connectivity: number;
  /** Candidates considered while inserting (`efConstruction`). */
  expansionAdd: number;
  /** Candidates taken per query (`ef`). */
  expansionSearch: number;
  /** How vectors are held. */
  quantization: 'f32' | 'f16' | 'i8';
}

/** The work of a background build, run in a worker thread. */
export interface AnnBuildJob {
  /** The database file, opened read-only. */
  path: string;
  /** The collection to index. */
  collection: string;
  /** Settings of the index. */
  shape: AnnIndexShape;
  /** A saved index and the last change it holds: only later changes are applied to it. */
  base?: { file: string; mark: number };
  /** Where the built index is written (and flushed to disk) for the store to move into place. */
  temporary: string;
  /** How long the worker's reads wait for a write lock (a checkpoint), in ms. */
  busyTimeoutMs: number;
  /**
   * Two 32-bit integers shared with the store. The first is set to non-zero by the store
   * (closed, or the collection dropped): the build stops at its next page and writes nothing; a
   * worker is never terminated inside a native call. The second is the number of threads each
   * page is inserted with (0 or 1: one): a background build leaves the other cores to the
   * application, a build the application waits for (`buildIndex`) takes them all.
   */
  stop?: SharedArrayBuffer;
}

/** Thrown inside a build asked to stop; the worker reports `{ stopped: true }`. */
export class AnnBuildStopped extends Error {
  constructor() {
    super('The index build was stopped.');
    this.name = 'AnnBuildStopped';
  }
}

/** Rows added to an index per native call during a build: the longest wait for a stop. */
const buildPageSize = 1_000;

/** What a background build reports when its file is written. */
export interface AnnBuildResult {
  /** The last logged change the index holds. */
  mark: number;
  /** Vectors in the index. */
  size: number;
}

let usearchModule: UsearchModule | null | undefined;

/** The `usearch` package, or `null` when its native module does not load on this platform. */
export function loadUsearch(): UsearchModule | null {
  if (usearchModule !== undefined) return usearchModule;
  try {
    // The package's ESM entry cannot locate its prebuilt binary; its CommonJS entry can.
    usearchModule = createRequire(import.meta.url)('usearch') as UsearchModule;
  } catch {
    usearchModule = null;
  }
  return usearchModule;
}

/** An empty index of the given shape. */
export function newUsearchIndex(usearch: UsearchModule, shape: AnnIndexShape): UsearchIndex {
  return new usearch.Index({
    dimensions: shape.dimensions,
    metric: usearch.MetricKind.Cos,
    quantization: usearch.ScalarKind[shape.quantization.toUpperCase() as 'F32' | 'F16' | 'I8'],
    connectivity: shape.connectivity,
    expansion_add: shape.expansionAdd,
    expansion_search: shape.expansionSearch,
  });
}

/** The last change of the log (0 when it is empty). */
export function lastChange(database: SqliteDatabase): number {
  return database
    .prepare('SELECT coalesce(max(sequence), 0) FROM engram_ann_changes')
    .pluck()
    .get() as number;
}

/** Distinct row ids changed in `(after, through]`, oldest change first. */
export function changedRows(
  database: SqliteDatabase,
  collection: string,
  after: number,
  through = Number.MAX_SAFE_INTEGER,
): number[] {
  const changes = database
    .prepare(
      'SELECT row_id FROM engram_ann_changes WHERE collection = ? AND sequence > ? AND sequence <= ? ORDER BY sequence',
    )
    .pluck()
    .all(collection, after, through) as number[];
  return [...new Set(changes)];
}

/** Puts the current vectors of `rowIds` into the index, and takes out rows that are gone. */
export function applyRows(
  database: SqliteDatabase,
  collection: string,
  index: UsearchIndex,
  rowIds: readonly number[],
) {
  if (rowIds.length === 0) return;
  const present = new Map<number, Buffer>();
  const rows = database
    .prepare(
      'SELECT row_id, vector FROM engram_memories NOT INDEXED WHERE collection = ? AND row_id IN (SELECT value FROM json_each(?))',
    )
    .raw()
    .iterate(collection, JSON.stringify(rowIds)) as IterableIterator<[number, Buffer]>;
  for (const [rowId, blob] of rows) present.set(rowId, blob);
  for (const rowId of rowIds) {
    const key = BigInt(rowId);
    if (index.contains(key)) index.remove(key);
    const blob = present.get(rowId);
    if (blob) index.add(key, toFloats(blob), 1);
  }
}

/** One page of a collection's rows: row ids, packed vectors, and the log's last change then. */
export interface RowPage {
  keys: BigUint64Array;
  vectors: Float32Array;
  /** The last logged change when the page was read (0 when the log is empty). */
  mark: number;
  /** The largest row id of the page. */
  lastRowId: number;
}

/**
 * The collection's rows in pages of row ids and packed vectors, in row id order. Each page is
 * read in one read transaction together with the log's last change, so a row of a page holds
 * every change logged up to that page's mark and none after it.
 */
export function* rowPages(
  database: SqliteDatabase,
  collection: string,
  dimensions: number,
  pageSize: number,
): Generator<RowPage> {
  const page = database
    .prepare(
      'SELECT row_id, vector FROM engram_memories WHERE collection = ? AND row_id > ? ORDER BY row_id LIMIT ?',
    )
    .raw();
  const read = database.transaction((after: number) => ({
    rows: page.all(collection, after, pageSize) as [number, Buffer][],
    mark: lastChange(database),
  }));
  let after = -1;
  for (;;) {
    const { rows, mark } = read(after);
    if (rows.length === 0) return;
    const keys = new BigUint64Array(rows.length);
    const vectors = new Float32Array(rows.length * dimensions);
    for (const [index, [rowId, blob]] of rows.entries()) {
      keys[index] = BigInt(rowId);
      vectors.set(toFloats(blob), index * dimensions);
    }
    after = rows.at(-1)![0];
    yield { keys, vectors, mark, lastRowId: after };
  }
}

/**
 * Which rows a build read, and the log's mark at each page: a row changed after the page that
 * held it was read is stale in the index; one changed before is not.
 */
export class PageMarks {
  private readonly lastRowIds: number[] = [];
  private readonly marks: number[] = [];

  add(page: RowPage) {
    this.lastRowIds.push(page.lastRowId);
    this.marks.push(page.mark);
  }

  /** The mark of the page that covered `rowId`, or -1 when no page reached it. */
  markOf(rowId: number): number {
    let low = 0;
    let high = this.lastRowIds.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (this.lastRowIds[middle]! < rowId) low = middle + 1;
      else high = middle;
    }
    return low < this.marks.length ? this.marks[low]! : -1;
  }
}

/**
 * Row ids changed in `(after, through]` whose last change came after the page that read them:
 * only these need applying to an index built from those pages. During a bulk import the pages
 * read most new rows after they were written, so a build that ran beside the import does not
 * insert them a second time.
 */
export function staleRows(
  database: SqliteDatabase,
  collection: string,
  after: number,
  through: number,
  pages: PageMarks,
): number[] {
  const changes = database
    .prepare(
      'SELECT row_id, max(sequence) AS last FROM engram_ann_changes WHERE collection = ? AND sequence > ? AND sequence <= ? GROUP BY row_id ORDER BY last',
    )
    .raw()
    .all(collection, after, through) as [number, number][];
  return changes.filter(([rowId, last]) => last > pages.markOf(rowId)).map(([rowId]) => rowId);
}

/** Flushes a written file to the disk, so that a rename after it never exposes a partial file. */
export function flushFile(path: string) {
  const descriptor = openSync(path, 'r+');
  try {
    fsyncSync(descriptor);
  } finally {
    closeSync(descriptor);
  }
}

/**
 * Builds (or brings a saved index up to date) and writes it to `job.temporary`, reading through
 * its own read-only connection. The mark is read before the rows: a row that changes while the
 * pages are read is fixed later by its logged change.
 */
export function runAnnBuild(job: AnnBuildJob, usearch: UsearchModule): AnnBuildResult {
  const flag = job.stop ? new Int32Array(job.stop) : undefined;
  const checkStop = () => {
    if (flag && Atomics.load(flag, 0) !== 0) throw new AnnBuildStopped();
  };
  const wanted = () => Math.max(1, flag && flag.length > 1 ? Atomics.load(flag, 1) : 1);
  // usearch sizes its per-thread state when an insert grows the index (it doubles), for the
  // threads of that insert; an insert with more threads than that fails. So more threads are
  // taken at the next insert that grows the index.
  let reserved = 1;
  const threadsFor = (index: UsearchIndex, rows: number) => {
    if (index.size() + rows < index.capacity()) return Math.min(wanted(), reserved);
    reserved = wanted();
    return reserved;
  };
  const database = new Database(job.path, {
    readonly: true,
    fileMustExist: true,
    timeout: job.busyTimeoutMs,
  });
  try {
    const index = newUsearchIndex(usearch, job.shape);
    let mark: number;
    if (job.base) {
      index.load(job.base.file);
      const base = job.base;
      // One read transaction: the log read is the one that follows the base's mark.
      mark = database.transaction(() => {
        const through = lastChange(database);
        const saved = database
          .prepare('SELECT saved_through FROM engram_ann_state WHERE collection = ?')
          .pluck()
          .get(job.collection) as number | undefined;
        if (saved !== base.mark) throw new Error('The saved index changed during the build.');
        const rowIds = changedRows(database, job.collection, base.mark, through);
        for (let start = 0; start < rowIds.length; start += 500) {
          checkStop();
          applyRows(database, job.collection, index, rowIds.slice(start, start + 500));
        }
        return through;
      })();
    } else {
      // Rows written while the pages are read (a bulk import the build runs beside) are read by
      // later pages; what changed after its page was read is applied at the end, so the index
      // holds the log through the mark it reports, and the store has little left to apply.
      const start = lastChange(database);
      const pages = new PageMarks();
      for (const page of rowPages(database, job.collection, job.shape.dimensions, buildPageSize)) {
        checkStop();
        index.add(page.keys, page.vectors, threadsFor(index, page.keys.length));
        pages.add(page);
      }
      mark = database.transaction(() => {
        const through = lastChange(database);
        const rowIds = staleRows(database, job.collection, start, through, pages);
        for (let offset = 0; offset < rowIds.length; offset += 500) {
          checkStop();
          applyRows(database, job.collection, index, rowIds.slice(offset, offset + 500));
        }
        return through;
      })();
    }
    checkStop();
    index.save(job.temporary);
    flushFile(job.temporary);
    return { mark, size: index.size() };
  } finally {
    database.close();
  }
}
