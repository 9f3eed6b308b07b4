import type Database from 'better-sqlite3';

type SqliteDatabase = Database.Database;
type Statement = Database.Statement<unknown[], unknown>;

/** Options of {@link createSqliteWriter}. */
export interface SqliteWriterOptions {
  /** The open database (opened on first use), or `undefined` once its store is closed. */
  database: () => SqliteDatabase | undefined;
  /** How long a write waits for another connection's write lock before failing, in ms. */
  busyTimeoutMs: number;
  /** Longest pause between two attempts to take the write lock, in ms. Default 8. */
  maxRetryDelayMs?: number;
  /** Called after every commit (to drop what was cached from the database). */
  onCommit?: () => void;
  /** The error a write waiting when the store closes fails with. */
  closedError: () => Error;
}

/** Write transactions of one connection that wait for the write lock without blocking. */
export interface SqliteWriter {
  /**
   * Runs `work` in a write transaction (`BEGIN IMMEDIATE`) and commits it. While another
   * connection holds the write lock, the attempt is retried after short jittered pauses, so this
   * process keeps serving other requests; after `busyTimeoutMs` it fails with `SQLITE_BUSY`.
   * Writes of this connection run in call order; those that waited for the lock together share
   * one transaction (each in its own savepoint, so one that throws takes back only its changes).
   */
  write<T>(work: (database: SqliteDatabase) => T): Promise<T>;
  /**
   * Runs `work` in a write transaction only when the lock is free now; `undefined` when another
   * connection holds it or a write of this connection is waiting.
   */
  tryWrite<T>(work: (database: SqliteDatabase) => T): { value: T } | undefined;
}

interface Pending {
  work: (database: SqliteDatabase) => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  enqueuedAt: number;
}

/** Whether an error is SQLite's "another connection holds the lock". */
export const isSqliteBusy = (error: unknown) =>
  /^SQLITE_(BUSY|LOCKED)/.test(String((error as { code?: unknown } | null)?.code ?? ''));

/** Most writes that share one transaction after waiting for the lock together. */
const maxBatch = 256;

function busyError(busyTimeoutMs: number): Error {
  return Object.assign(
    new Error(
      `database is locked: another process held the write lock for more than ${busyTimeoutMs} ms; retry, or give the store a longer busyTimeoutMs`,
    ),
    { code: 'SQLITE_BUSY' },
  );
}

/**
 * Creates the writer of one connection. SQLite's own busy handler would sleep on the event loop
 * while another process writes, so a waiting process would answer nothing: here the lock is
 * tried with a zero busy timeout and the wait happens between turns of the event loop.
 */
export function createSqliteWriter(options: SqliteWriterOptions): SqliteWriter {
  const { busyTimeoutMs } = options;
  const maxRetryDelayMs = options.maxRetryDelayMs ?? 8;
  const queue: Pending[] = [];
  let waiting = false;
  const restoreSql = `PRAGMA busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`;
  let prepared: { database: SqliteDatabase; begin: Statement } | undefined;

  /** Takes the write lock when it is free; false when another connection holds it. */
  function tryBegin(database: SqliteDatabase): boolean {
    if (prepared?.database !== database) {
      prepared = { database, begin: database.prepare('BEGIN IMMEDIATE') };
    }
    // Only the attempt runs without the busy handler: reads keep it (a checkpoint may hold them).
    // Run with exec, not as prepared statements: a freshly prepared PRAGMA statement's first run
    // was seen to leave the setting as it was.
    database.exec('PRAGMA busy_timeout = 0');
    try {
      prepared.begin.run();
      return true;
    } catch (error) {
      if (isSqliteBusy(error)) return false;
      throw error;
    } finally {
      database.exec(restoreSql);
    }
  }

  /** Runs `batch` in the transaction just begun and commits; settles each write. */
  function runBatch(database: SqliteDatabase, batch: readonly Pending[]) {
    const outcomes: { value?: unknown; error?: unknown; failed: boolean }[] = [];
    try {
      for (const pending of batch) {
        try {
          const value =
            batch.length === 1
              ? pending.work(database)
              : database.transaction(() => pending.work(database))();
          outcomes.push({ value, failed: false });
        } catch (error) {
          // Some errors (a full disk, an I/O error) end the whole transaction.
          if (batch.length === 1 || !database.inTransaction) throw error;
          outcomes.push({ error, failed: true });
        }
      }
      database.exec('COMMIT');
    } catch (error) {
      try {
        if (database.inTransaction) database.exec('ROLLBACK');
      } catch {
        // The connection has already ended the transaction; the writes fail with the first error.
      }
      options.onCommit?.();
      for (const pending of batch) pending.reject(error);
      return;
    }
    options.onCommit?.();
    for (const [index, pending] of batch.entries()) {
      const outcome = outcomes[index]!;
      if (outcome.failed) pending.reject(outcome.error);
      else pending.resolve(outcome.value);
    }
  }

  function failAll(error: unknown) {
    for (const pending of queue.splice(0)) pending.reject(error);
  }

  const pause = (attempt: number) => {
    const ceiling = Math.min(maxRetryDelayMs, 2 ** Math.min(attempt, 10));
    return new Promise((resolve) =>
      setTimeout(resolve, ceiling / 2 + Math.random() * (ceiling / 2)),
    );
  };

  /** Takes the lock for the queued writes, waiting between attempts; runs them when it has it. */
  async function drain() {
    waiting = true;
    try {
      let attempt = 0;
      while (queue.length > 0) {
        let database: SqliteDatabase | undefined;
        let begun: boolean;
        try {
          database = options.database();
          if (!database) throw options.closedError();
          begun = tryBegin(database);
        } catch (error) {
          failAll(error);
          return;
        }
        if (begun) {
          attempt = 0;
          runBatch(database, queue.splice(0, maxBatch));
          continue;
        }
        const now = performance.now();
        while (queue.length > 0 && now - queue[0]!.enqueuedAt >= busyTimeoutMs) {
          queue.shift()!.reject(busyError(busyTimeoutMs));
        }
        if (queue.length > 0) await pause(attempt++);
      }
    } finally {
      waiting = false;
    }
  }

  return {
    write<T>(work: (database: SqliteDatabase) => T): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        queue.push({
          work,
          resolve: resolve as (value: unknown) => void,
          reject,
          enqueuedAt: performance.now(),
        });
        // The first attempt runs now: with the lock free, the write is done before this returns.
        if (!waiting) void drain();
      });
    },
    tryWrite(work) {
      const database = options.database();
      if (!database) throw options.closedError();
      if (waiting || !tryBegin(database)) return undefined;
      let value: ReturnType<typeof work>;
      try {
        value = work(database);
        database.exec('COMMIT');
      } catch (error) {
        if (database.inTransaction) database.exec('ROLLBACK');
        options.onCommit?.();
        throw error;
      }
      options.onCommit?.();
      return { value };
    },
  };
}
