import { createHash, randomUUID } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  existsSync,
  fsyncSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { availableParallelism, hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';
import {
  type AnnBuildJob,
  type AnnBuildResult,
  type AnnIndexShape,
  applyRows,
  changedRows,
  flushFile,
  lastChange,
  loadUsearch,
  newUsearchIndex,
  PageMarks,
  rowPages,
  staleRows,
  type UsearchIndex,
  type UsearchModule,
} from './sqlite-ann-build.js';
import type { SqliteWriter } from './sqlite-writer.js';

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

interface LoadedIndex {
  /**
   * The saved file, viewed (memory-mapped, read-only) rather than loaded: opening it costs no
   * copy of the file on the thread that answers queries. `index` then holds only the changes
   * applied after it, and `shadowed` the rows of the file those changes replaced or removed.
   */
  base?: UsearchIndex;
  /** Row ids of `base` that changed since it was saved. */
  shadowed: Set<number>;
  /** The whole index, or the changes after `base` when there is one. */
  index: UsearchIndex;
  dimensions: number;
  /** The last change of `engram_ann_changes` the index holds. */
  mark: number;
  /** `mark` when the index was last saved or loaded. */
  savedMark: number;
  /** Changes applied since then. */
  unsaved: number;
  /** A catch-up running in slices between other work, if any. */
  catchUp?: Promise<void> | undefined;
}

interface StateRow {
  saved_through: number;
  file_bytes: number | null;
  build_owner: string | null;
  build_expires_at: number | null;
}

interface BuildJob {
  promise: Promise<void>;
  worker?: Worker;
  /**
   * Shared with the worker: `[0]` non-zero asks it to stop at its next page; `[1]` is the
   * threads its next pages are inserted with.
   */
  stop?: Int32Array;
  temporary?: string;
  error?: unknown;
}

/** Options of {@link createSqliteAnnIndex}. */
export interface SqliteAnnIndexSettings extends SqliteAnnIndexOptions {
  /** The store's open database. */
  database: () => SqliteDatabase;
  /** The database file, beside which index files are saved; `undefined` keeps indexes in memory. */
  path: string | undefined;
  /** How long a background build's reads wait for a lock, in ms. Default 5000. */
  busyTimeoutMs?: number;
  /** The store's writer: write transactions that never wait on the event loop. */
  writer: SqliteWriter;
}

/** The approximate vector index of every collection of one store. */
export interface SqliteAnnIndex {
  /**
   * Row ids of about `count` nearest rows of the whole collection (and of rows changed since the
   * index last caught up), or `undefined` when the collection is searched exactly: too small,
   * index not built yet (a build is then started in the background), or a zero query vector.
   */
  candidates(
    collection: string,
    dimensions: number,
    vector: Float32Array,
    count: number,
  ): number[] | undefined;
  /**
   * Builds the collection's index (or waits for the build under way, here or in another
   * process), loads it and brings it up to date. Resolves to the number of vectors it holds; 0
   * when the collection is below `minimumSize` or no index can be had.
   */
  build(collection: string, dimensions: number): Promise<number>;
  /**
   * After a write of `written` records: applies the collection's logged changes to its loaded
   * index when they are few, and starts a background build when the collection has grown to
   * `minimumSize`.
   */
  afterWrite(collection: string, written: number): void;
  /** After the database is opened: starts builds of indexes that are missing or far behind. */
  opened(): void;
  /** SQL run inside `dropCollection`'s transaction: forgets the collection's index state. */
  dropState(collection: string): void;
  /** Drops the collection's index from memory and disk (after `dropCollection` committed). */
  forget(collection: string): void;
  /**
   * Saves every index with unsaved changes and asks background builds to stop; called on close.
   * Resolves once their threads have ended (within one page of work).
   */
  close(): Promise<void>;
}

const pageSize = 10_000;
/** Changes applied at once after a write or before a query; more are applied in the background. */
const eagerChanges = 100;
/** Most changed rows a query adds to the index's candidates while a catch-up runs. */
const unionLimit = 5_000;
/** Backlogs larger than this are applied to the saved file by a worker instead of in slices. */
const sliceLimit = 20_000;
/** Longest stretch of catch-up work between two turns of the event loop, in ms. */
const sliceMs = 20;
/** Lease of a background build: how long a crashed builder keeps others from building. */
const buildLeaseMs = 30_000;
/** After a failed build, how long until the next one is tried, in ms. */
const retryAfterMs = 60_000;
/**
 * Least time between two background catch-ups of a saved index, in ms: during a long bulk import
 * each one rewrites the whole file, so they are spaced out rather than run back to back.
 */
const catchUpEveryMs = 60_000;
/**
 * Least time between two counts of a saved index's backlog by writes of a process that has not
 * loaded it, in ms: the count walks up to `sliceLimit` logged changes, and writes come often.
 */
const backlogCountEveryMs = 1000;

/** The index file of a collection: beside the database, named by a hash of the collection. */
export function annIndexPath(databasePath: string, collection: string): string {
  const digest = createHash('sha256').update(collection).digest('hex').slice(0, 16);
  return `${databasePath}.${digest}.hnsw`;
}

const yieldToEventLoop = () => new Promise((resolve) => setImmediate(resolve));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The compiled worker script; under a TypeScript test runner, the package's built copy. */
function workerScript(): URL | undefined {
  for (const candidate of ['./sqlite-ann-worker.js', '../dist/sqlite-ann-worker.js']) {
    const url = new URL(candidate, import.meta.url);
    if (existsSync(fileURLToPath(url))) return url;
  }
  return undefined;
}

function flushDirectory(directory: string) {
  try {
    const descriptor = openSync(directory, 'r');
    try {
      fsyncSync(descriptor);
    } finally {
      closeSync(descriptor);
    }
  } catch {
    // Not every platform can open a directory; the rename itself is still atomic there.
  }
}

/** Vectors the index holds: the viewed file's, less the rows changed since, plus the changes. */
function sizeOf(entry: LoadedIndex): number {
  return (entry.base ? entry.base.size() - entry.shadowed.size : 0) + entry.index.size();
}

/** Row ids of about `count` nearest vectors of the index (of its file and its changes). */
function search(entry: LoadedIndex, vector: Float32Array, count: number): number[] {
  const rowIds: number[] = [];
  if (entry.base) {
    // Rows changed since the file was saved are found (with their new vectors) in `index`.
    const extra = Math.min(entry.shadowed.size, count);
    for (const key of entry.base.search(vector, count + extra, 1).keys) {
      const rowId = Number(key);
      if (!entry.shadowed.has(rowId)) rowIds.push(rowId);
    }
  }
  if (entry.index.size() > 0) {
    for (const key of entry.index.search(vector, count, 1).keys) rowIds.push(Number(key));
  }
  return entry.base ? [...new Set(rowIds)] : rowIds;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: unknown }).code === 'EPERM';
  }
}

/**
 * Creates the approximate index of a store: one HNSW index (from `usearch`) per collection of
 * `minimumSize` memories or more. It is built in the background (a worker thread with its own
 * read-only connection, one process at a time under a lease in `engram_ann_state`) once a
 * collection reaches that size, when a database is opened without it, or on `build`; until it
 * is ready, unscoped queries scan exactly. The built file is flushed to disk and moved into place
 * together with its mark, so a half-written file is never loaded. The index is kept in step with
 * the table through the change log that triggers write in the same transaction as the rows,
 * saved beside the database file (on close, after a build, and after many changes), and brought
 * up to date on load by replaying the changes logged after the save.
 */
export function createSqliteAnnIndex(settings: SqliteAnnIndexSettings): SqliteAnnIndex {
  const minimumSize = settings.minimumSize ?? 10_000;
  const candidatesPerQuery = settings.candidates ?? 64;
  const loaded = new Map<string, LoadedIndex>();
  const jobs = new Map<string, BuildJob>();
  const failedAt = new Map<string, number>();
  const finishedAt = new Map<string, number>();
  const backlogCountedAt = new Map<string, number>();
  const smallCollections = new Map<string, { counted: number; written: number }>();
  const owner = `${hostname()}:${process.pid}:${randomUUID()}`;
  let temporaries = 0;
  let closed = false;

  const database = () => settings.database();
  const statements = new WeakMap<SqliteDatabase, Map<string, Database.Statement>>();
  /** A statement of the current connection, prepared once: some run on every write. */
  function prepare(sql: string): Database.Statement {
    const connection = database();
    let prepared = statements.get(connection);
    if (!prepared) {
      prepared = new Map();
      statements.set(connection, prepared);
    }
    let statement = prepared.get(sql);
    if (!statement) {
      statement = connection.prepare(sql);
      prepared.set(sql, statement);
    }
    return statement;
  }

  function shape(dimensions: number): AnnIndexShape {
    return {
      dimensions,
      connectivity: settings.connectivity ?? 32,
      expansionAdd: settings.expansionAdd ?? 128,
      expansionSearch: candidatesPerQuery,
      quantization: settings.quantization ?? 'f16',
    };
  }

  function readState(collection: string): StateRow | undefined {
    return prepare(
      'SELECT saved_through, file_bytes, build_owner, build_expires_at FROM engram_ann_state WHERE collection = ?',
    ).get(collection) as StateRow | undefined;
  }

  /** Whether no live builder holds the collection's build lease. */
  function leaseFree(state: StateRow): boolean {
    if (state.build_owner === null || state.build_owner === owner) return true;
    if ((state.build_expires_at ?? 0) <= Date.now()) return true;
    // A builder on this machine that died (killed mid-build) frees the lease at once.
    const [host, pid] = state.build_owner.split(':');
    return host === hostname() && Number(pid) !== process.pid && !processAlive(Number(pid));
  }

  /** Takes the build lease (creating the state, so writes are logged from now on). */
  function takeLease(collection: string): { expected: number } | undefined {
    // Not now when another process writes: the next write or query tries again.
    return settings.writer.tryWrite(() => {
      const state = readState(collection);
      if (state && !leaseFree(state)) return undefined;
      const expires = Date.now() + buildLeaseMs;
      if (!state) {
        prepare(
          'INSERT INTO engram_ann_state (collection, saved_through, build_owner, build_expires_at) VALUES (?, -1, ?, ?)',
        ).run(collection, owner, expires);
        return { expected: -1 };
      }
      prepare(
        'UPDATE engram_ann_state SET build_owner = ?, build_expires_at = ? WHERE collection = ?',
      ).run(owner, expires, collection);
      return { expected: state.saved_through };
    })?.value;
  }

  function renewLease(collection: string) {
    prepare(
      'UPDATE engram_ann_state SET build_expires_at = ? WHERE collection = ? AND build_owner = ?',
    ).run(Date.now() + buildLeaseMs, collection, owner);
  }

  function releaseLease(collection: string) {
    prepare(
      'UPDATE engram_ann_state SET build_owner = NULL, build_expires_at = NULL WHERE collection = ? AND build_owner = ?',
    ).run(collection, owner);
  }

  function collectionSize(collection: string): number {
    return prepare(
      'SELECT count(*) FROM (SELECT 1 FROM engram_memories WHERE collection = ? LIMIT ?)',
    )
      .pluck()
      .get(collection, minimumSize) as number;
  }

  function backlog(collection: string, after: number, limit: number): number {
    return prepare(
      'SELECT count(*) FROM (SELECT 1 FROM engram_ann_changes WHERE collection = ? AND sequence > ? LIMIT ?)',
    )
      .pluck()
      .get(collection, after, limit) as number;
  }

  /** Whether the saved file of the collection is the one its state records. */
  function savedFileMatches(collection: string, state: StateRow | undefined): boolean {
    if (!settings.path || !state || state.saved_through < 0) return false;
    const file = annIndexPath(settings.path, collection);
    return statSync(file, { throwIfNoEntry: false })?.size === state.file_bytes;
  }

  /** The saved index of the collection, if its file loads and matches the collection. */
  function loadSaved(
    collection: string,
    dimensions: number,
    usearch: UsearchModule,
    state: StateRow,
  ): LoadedIndex | undefined {
    // Loading a damaged file can take the native reader many seconds before it fails.
    if (!settings.path || !savedFileMatches(collection, state)) return undefined;
    try {
      const base = newUsearchIndex(usearch, shape(dimensions));
      // A view maps the file instead of reading it (a load of a 1M index blocks for about a
      // second); the file is never written in place, only replaced by a rename.
      base.view(annIndexPath(settings.path, collection));
      if (base.dimensions() !== dimensions) return undefined;
      const mark = state.saved_through;
      return {
        base,
        shadowed: new Set(),
        index: newUsearchIndex(usearch, shape(dimensions)),
        dimensions,
        mark,
        savedMark: mark,
        unsaved: 0,
      };
    } catch {
      return undefined;
    }
  }

  /** The loaded index of the collection, loading its saved file when it has one. */
  function usable(collection: string, dimensions: number, state: StateRow | undefined) {
    const usearch = loadUsearch();
    if (!usearch || closed) return undefined;
    let entry = loaded.get(collection);
    // The state is gone (the collection was dropped), or a newer file was saved.
    if (
      entry &&
      (state === undefined ||
        (entry.base ? entry.savedMark : entry.mark) < state.saved_through ||
        entry.dimensions !== dimensions)
    ) {
      loaded.delete(collection);
      entry = undefined;
    }
    if (!entry && state && state.saved_through >= 0) {
      entry = loadSaved(collection, dimensions, usearch, state);
      if (entry) loaded.set(collection, entry);
    }
    return entry;
  }

  function catchUpNow(collection: string, entry: LoadedIndex) {
    const target = lastChange(database());
    const rowIds = changedRows(database(), collection, entry.mark, target);
    applyToEntry(collection, entry, rowIds);
    finishCatchUp(collection, entry, target, rowIds.length);
  }

  function applyToEntry(collection: string, entry: LoadedIndex, rowIds: readonly number[]) {
    applyRows(database(), collection, entry.index, rowIds);
    if (!entry.base) return;
    for (const rowId of rowIds) {
      if (entry.base.contains(BigInt(rowId))) entry.shadowed.add(rowId);
    }
  }

  function finishCatchUp(collection: string, entry: LoadedIndex, target: number, rows: number) {
    entry.mark = Math.max(entry.mark, target);
    entry.unsaved += rows;
    if (entry.unsaved < Math.max(pageSize, sizeOf(entry) / 10)) return;
    // A viewed file cannot take the changes: a worker writes a new file from it and the log.
    if (entry.base) startBuild(collection, entry.dimensions);
    else save(collection, entry);
  }

  /** Applies the logged changes in slices of a few ms, letting other work run in between. */
  function catchUpInBackground(collection: string, entry: LoadedIndex): Promise<void> {
    entry.catchUp ??= (async () => {
      const target = lastChange(database());
      const rowIds = changedRows(database(), collection, entry.mark, target);
      let sliceStart = performance.now();
      for (let start = 0; start < rowIds.length; start += 64) {
        if (performance.now() - sliceStart > sliceMs) {
          await yieldToEventLoop();
          if (closed || loaded.get(collection) !== entry) return;
          sliceStart = performance.now();
        }
        applyToEntry(collection, entry, rowIds.slice(start, start + 64));
      }
      finishCatchUp(collection, entry, target, rowIds.length);
    })().finally(() => {
      entry.catchUp = undefined;
    });
    return entry.catchUp;
  }

  /** Starts a background build unless one runs or another process holds the lease. */
  function startBuild(collection: string, dimensions: number, force = false): boolean {
    if (closed || jobs.has(collection) || !loadUsearch()) return false;
    if (!force && Date.now() - (failedAt.get(collection) ?? 0) < retryAfterMs) return false;
    const taken = takeLease(collection);
    if (!taken) return false;
    const state = readState(collection);
    const script = settings.path ? workerScript() : undefined;
    const job: BuildJob = { promise: Promise.resolve() };
    const renewal = setInterval(() => {
      if (!closed) renewLease(collection);
    }, buildLeaseMs / 3);
    renewal.unref();
    const run =
      script && settings.path
        ? buildInWorker(collection, dimensions, script, settings.path, taken.expected, state, job)
        : buildHere(collection, dimensions);
    job.promise = run
      .catch((error: unknown) => {
        job.error = error;
        failedAt.set(collection, Date.now());
      })
      .finally(() => {
        clearInterval(renewal);
        finishedAt.set(collection, Date.now());
        if (job.temporary) rmSync(job.temporary, { force: true });
        jobs.delete(collection);
        if (!closed) releaseLease(collection);
      });
    jobs.set(collection, job);
    return true;
  }

  async function buildInWorker(
    collection: string,
    dimensions: number,
    script: URL,
    path: string,
    expected: number,
    state: StateRow | undefined,
    job: BuildJob,
  ) {
    const file = annIndexPath(path, collection);
    // Leftovers of builders that died; this process holds the lease now.
    const prefix = `${basename(file)}.`;
    for (const name of readdirSync(dirname(file))) {
      if (name.startsWith(prefix) && name.endsWith('.tmp')) {
        rmSync(join(dirname(file), name), { force: true });
      }
    }
    job.temporary = `${file}.${process.pid}.${++temporaries}.tmp`;
    const work: AnnBuildJob = {
      path,
      collection,
      shape: shape(dimensions),
      temporary: job.temporary,
      busyTimeoutMs: settings.busyTimeoutMs ?? 5000,
      ...(savedFileMatches(collection, state) ? { base: { file, mark: expected } } : {}),
    };
    const stop = new SharedArrayBuffer(8);
    job.stop = new Int32Array(stop);
    Atomics.store(job.stop, 1, 1);
    const worker = new Worker(script, { workerData: { ...work, stop } });
    // A background build does not keep the process alive (a command that imported memories
    // exits at once; the next process takes the build over); one that is awaited does.
    worker.unref();
    job.worker = worker;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    const result = await new Promise<AnnBuildResult | { stopped: true }>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`The index build stopped (exit ${code}).`)));
    });
    // Never terminated: a thread stopped inside a native call can abort the whole process.
    await exited;
    if (closed || 'stopped' in result) return;
    const temporary = job.temporary;
    // Moved into place with its mark in one write transaction, unless the saved index changed
    // meanwhile (the collection was dropped, or another process saved a newer one).
    await settings.writer.write(() => {
      const current = readState(collection);
      if (!current || current.saved_through !== expected) return;
      renameSync(temporary, file);
      flushDirectory(dirname(file));
      prune(collection, result.mark, statSync(file).size);
    });
  }

  /** Builds on this thread in slices (a database in memory, which a worker cannot open). */
  async function buildHere(collection: string, dimensions: number) {
    const usearch = loadUsearch()!;
    // Pages may be read outside one transaction: a row changed after its page was read is
    // applied afterwards, by its logged change.
    const start = lastChange(database());
    const entry: LoadedIndex = {
      shadowed: new Set(),
      index: newUsearchIndex(usearch, shape(dimensions)),
      dimensions,
      mark: start,
      savedMark: -1,
      unsaved: 0,
    };
    const pages = new PageMarks();
    let sliceStart = performance.now();
    for (const page of rowPages(database(), collection, dimensions, 64)) {
      entry.index.add(page.keys, page.vectors, 1);
      pages.add(page);
      if (performance.now() - sliceStart > sliceMs) {
        await yieldToEventLoop();
        if (closed || !readState(collection)) return;
        sliceStart = performance.now();
      }
    }
    const through = lastChange(database());
    applyRows(
      database(),
      collection,
      entry.index,
      staleRows(database(), collection, start, through, pages),
    );
    entry.mark = through;
    entry.unsaved = entry.index.size();
    loaded.set(collection, entry);
    await catchUpInBackground(collection, entry);
    save(collection, entry);
  }

  /** Starts what the collection's index needs: a first build, a takeover, or a large catch-up. */
  function considerBuild(collection: string, dimensions: number, state: StateRow | undefined) {
    if (jobs.has(collection)) return;
    if (!state) {
      if (collectionSize(collection) >= minimumSize) startBuild(collection, dimensions);
    } else if (state.saved_through < 0 || !savedFileMatches(collection, state)) {
      if (leaseFree(state)) startBuild(collection, dimensions);
    } else if (
      Date.now() - (finishedAt.get(collection) ?? 0) >= catchUpEveryMs &&
      Date.now() - (backlogCountedAt.get(collection) ?? 0) >= backlogCountEveryMs &&
      leaseFree(state)
    ) {
      backlogCountedAt.set(collection, Date.now());
      if (backlog(collection, state.saved_through, sliceLimit + 1) > sliceLimit) {
        startBuild(collection, dimensions);
      }
    }
  }

  /**
   * Writes the index to a temporary file, flushes it, then, holding the write lock, moves it into
   * place and records its mark and prunes the log, unless another process saved a newer one.
   */
  function save(collection: string, entry: LoadedIndex) {
    if (entry.mark === entry.savedMark) return;
    if (!settings.path) {
      if (!settings.writer.tryWrite(() => prune(collection, entry.mark))) return;
      entry.savedMark = entry.mark;
      entry.unsaved = 0;
      return;
    }
    const file = annIndexPath(settings.path, collection);
    const temporary = `${file}.${process.pid}.${++temporaries}.tmp`;
    try {
      let index = entry.index;
      if (entry.base) {
        // Reached on close only (a worker writes a viewed index's changes otherwise): the file
        // and the changes are merged here, unless another process saved a newer file.
        const state = readState(collection);
        if (state?.saved_through !== entry.savedMark || !savedFileMatches(collection, state)) {
          return;
        }
        index = newUsearchIndex(loadUsearch()!, shape(entry.dimensions));
        index.load(file);
        const rowIds = changedRows(database(), collection, entry.savedMark, entry.mark);
        applyRows(database(), collection, index, rowIds);
      }
      index.save(temporary);
      chmodSync(temporary, 0o600);
      flushFile(temporary);
      // Another process writing: the log keeps the changes until a later save.
      const moved = settings.writer.tryWrite(() => {
        const current = readState(collection)?.saved_through;
        if (current === undefined || current >= entry.mark) return false;
        renameSync(temporary, file);
        flushDirectory(dirname(file));
        prune(collection, entry.mark, statSync(file).size);
        return true;
      });
      if (!moved) {
        rmSync(temporary, { force: true });
        return;
      }
      if (!moved.value) rmSync(temporary, { force: true });
      entry.savedMark = entry.mark;
      entry.unsaved = 0;
    } catch {
      // Not saved: the log keeps the changes, so the next open replays them.
      rmSync(temporary, { force: true });
    }
  }

  function prune(collection: string, mark: number, fileBytes: number | null = null) {
    prepare(
      'UPDATE engram_ann_state SET saved_through = ?, file_bytes = ? WHERE collection = ?',
    ).run(mark, fileBytes, collection);
    prepare('DELETE FROM engram_ann_changes WHERE collection = ? AND sequence <= ?').run(
      collection,
      mark,
    );
  }

  return {
    candidates(collection, dimensions, vector, count) {
      if (!vector.some((value) => value !== 0)) return undefined;
      const state = readState(collection);
      const entry = usable(collection, dimensions, state);
      if (!entry) {
        if (!closed && loadUsearch()) considerBuild(collection, dimensions, state);
        return undefined;
      }
      if (!entry.catchUp) {
        const pending = backlog(collection, entry.mark, sliceLimit + 1);
        if (pending > sliceLimit && savedFileMatches(collection, state)) {
          considerBuild(collection, dimensions, state);
        } else if (pending > eagerChanges) {
          catchUpInBackground(collection, entry).catch(() => undefined);
        } else if (pending > 0) {
          catchUpNow(collection, entry);
        }
      }
      if (sizeOf(entry) < minimumSize) return undefined;
      // Rows changed since the index's mark are scored exactly beside its candidates.
      const changed =
        backlog(collection, entry.mark, unionLimit + 1) === 0
          ? []
          : changedRows(database(), collection, entry.mark);
      if (changed.length > unionLimit) return undefined;
      const rowIds = search(entry, vector, Math.max(count, candidatesPerQuery));
      return changed.length === 0 ? rowIds : [...new Set([...rowIds, ...changed])];
    },

    async build(collection, dimensions) {
      for (;;) {
        if (closed || !loadUsearch()) return 0;
        const job = jobs.get(collection);
        if (job) {
          job.worker?.ref();
          // Waited for: the build takes every core (a background build inserts on one).
          if (job.stop) Atomics.store(job.stop, 1, availableParallelism());
          await job.promise;
          if (job.error !== undefined) throw job.error;
          continue;
        }
        const state = readState(collection);
        const entry = usable(collection, dimensions, state);
        if (entry) {
          while (backlog(collection, entry.mark, 1) > 0 && loaded.get(collection) === entry) {
            await catchUpInBackground(collection, entry);
          }
          if (loaded.get(collection) !== entry) continue;
          // A rewrite of the file with the caught-up changes runs: wait for it, so that other
          // stores on the file load an index that is current instead of scanning meanwhile.
          if (jobs.has(collection)) continue;
          const saved = readState(collection)?.saved_through ?? -1;
          if (
            entry.base &&
            backlog(collection, saved, unionLimit + 1) > unionLimit &&
            startBuild(collection, dimensions, true)
          ) {
            continue;
          }
          if (!entry.base) save(collection, entry);
          const size = sizeOf(entry);
          return size >= minimumSize ? size : 0;
        }
        if (!state && collectionSize(collection) < minimumSize) return 0;
        // Another process builds: its saved file is loaded once it is in place.
        if (!startBuild(collection, dimensions, true)) await sleep(100);
      }
    },

    afterWrite(collection, written) {
      if (closed || !loadUsearch()) return;
      const entry = loaded.get(collection);
      if (entry) {
        // Small writes (an add) are applied at once; a bulk import is applied by the next
        // unscoped query, in the background, so that ingest does not run at graph-insert speed.
        if (!entry.catchUp && backlog(collection, entry.mark, eagerChanges + 1) <= eagerChanges) {
          catchUpNow(collection, entry);
        }
        return;
      }
      if (jobs.has(collection)) return;
      const small = smallCollections.get(collection);
      if (small && small.counted + small.written + written < minimumSize) {
        small.written += written;
        return;
      }
      const state = readState(collection);
      if (!state) {
        const size = collectionSize(collection);
        if (size < minimumSize) {
          smallCollections.set(collection, { counted: size, written: 0 });
          return;
        }
      }
      smallCollections.delete(collection);
      const dimensions = prepare('SELECT dimensions FROM engram_collections WHERE name = ?')
        .pluck()
        .get(collection) as number | undefined;
      if (dimensions !== undefined) considerBuild(collection, dimensions, state);
    },

    opened() {
      setImmediate(() => {
        if (closed || !loadUsearch()) return;
        try {
          const collections = prepare('SELECT name, dimensions FROM engram_collections')
            .raw()
            .all() as [string, number][];
          for (const [collection, dimensions] of collections) {
            considerBuild(collection, dimensions, readState(collection));
          }
        } catch {
          // The store was closed meanwhile, or the file is busy: the next query or write retries.
        }
      });
    },

    dropState(collection) {
      prepare('DELETE FROM engram_ann_state WHERE collection = ?').run(collection);
      prepare('DELETE FROM engram_ann_changes WHERE collection = ?').run(collection);
    },

    forget(collection) {
      loaded.delete(collection);
      smallCollections.delete(collection);
      const job = jobs.get(collection);
      if (job?.stop) Atomics.store(job.stop, 0, 1);
      if (settings.path) rmSync(annIndexPath(settings.path, collection), { force: true });
    },

    close() {
      closed = true;
      const running: Promise<void>[] = [];
      for (const [collection, job] of jobs) {
        // The job removes its temporary file once its thread has ended; the thread keeps the
        // process alive until then, so that `await store.close()` returns.
        if (job.stop) Atomics.store(job.stop, 0, 1);
        job.worker?.ref();
        running.push(job.promise);
        try {
          releaseLease(collection);
        } catch {
          // The lease expires instead.
        }
      }
      for (const [collection, entry] of loaded) save(collection, entry);
      loaded.clear();
      return Promise.all(running).then(() => undefined);
    },
  };
}
