import { toAdapterCallError } from '@engram/adapter-kit';
import { ClosedError, createLeaseScopeLock, type ScopeLock } from '@engram/core';
import type Database from 'better-sqlite3';

const source = 'sqlite';

/** Options of {@link createSqliteScopeLock}. */
export interface SqliteScopeLockOptions {
  /** The open database (opened on first use), or `undefined` once its store is closed. */
  database: () => Database.Database | undefined;
  /** How long a crashed holder keeps its keys. Default 10,000 ms. */
  leaseMs?: number;
  /**
   * Runs a write transaction for the lock (the store's writer, which waits for another
   * process's write lock without blocking the event loop). Default: `BEGIN IMMEDIATE` on
   * `database()`, waiting in SQLite's busy handler.
   */
  write?: <T>(work: (database: Database.Database) => T) => Promise<T>;
}

const tableSql = `CREATE TABLE IF NOT EXISTS engram_locks (
  key TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  expires_at INTEGER NOT NULL
)`;

// One statement is one write transaction: it takes the key when it is free, expired, or already
// this owner's, and changes nothing otherwise.
const acquireSql = `INSERT INTO engram_locks (key, owner, expires_at) VALUES (?, ?, ?)
  ON CONFLICT (key) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
  WHERE engram_locks.expires_at <= ? OR engram_locks.owner = excluded.owner`;

interface Release {
  key: string;
  token: string;
  resolve: () => void;
  reject: (error: unknown) => void;
}

interface Acquire {
  key: string;
  token: string;
  leaseMs: number;
  resolve: (taken: boolean) => void;
  reject: (error: unknown) => void;
}

/** Thrown inside the transaction that takes several keys when one is held: rolls it back. */
const busyKey = new Error('A scope lock key is held by another owner.');

const isBusy = (error: unknown) =>
  /^SQLITE_(BUSY|LOCKED)/.test(String((error as { code?: unknown } | null)?.code ?? ''));

/**
 * A scope lock every process sharing one database file respects: a key is a row of
 * `engram_locks` with its owner's token and a lease, taken by one write statement (SQLite runs
 * one writer at a time, so two processes cannot both take it), renewed while the work runs and
 * deleted by its owner. A holder that crashes leaves its row behind; once the lease has passed,
 * the next process takes it over. Leases compare wall-clock times of the processes, which share
 * the machine since they share the file.
 */
export function createSqliteScopeLock(options: SqliteScopeLockOptions): ScopeLock {
  let prepared: Database.Database | undefined;
  let releases: Release[] | undefined;
  let acquires: Acquire[] | undefined;

  let statements = new Map<string, Database.Statement>();

  function ready(): Database.Database {
    const database = options.database();
    if (!database) {
      throw new ClosedError({ source, message: 'The store was closed; create a new one.' });
    }
    if (prepared !== database) {
      database.exec(tableSql);
      prepared = database;
      statements = new Map();
    }
    return database;
  }

  /** A statement of the connection, prepared once: locks are taken and released on every add. */
  function statement(database: Database.Database, sql: string): Database.Statement {
    let found = statements.get(sql);
    if (!found) {
      found = database.prepare(sql);
      statements.set(sql, found);
    }
    return found;
  }

  /** Runs `work` in a write transaction. */
  async function run<T>(action: string, work: (database: Database.Database) => T): Promise<T> {
    try {
      const database = ready();
      return options.write
        ? await options.write(work)
        : database.transaction(() => work(database)).immediate();
    } catch (error) {
      if (ClosedError.isInstance(error)) throw error;
      throw toAdapterCallError(error, { source, action, isRetryable: isBusy(error) });
    }
  }

  // Releases asked for in one turn of the event loop (a lock releases all its keys at once)
  // share one write transaction instead of one each.
  async function releaseQueued() {
    const batch = releases ?? [];
    releases = undefined;
    // A closed store cannot delete its rows; their leases expire instead.
    if (!options.database()) {
      for (const release of batch) release.resolve();
      return;
    }
    try {
      await run('Releasing scope locks', (database) => {
        const remove = statement(database, 'DELETE FROM engram_locks WHERE key = ? AND owner = ?');
        for (const release of batch) remove.run(release.key, release.token);
      });
      for (const release of batch) release.resolve();
    } catch (error) {
      for (const release of batch) release.reject(error);
    }
  }

  // Keys asked for in one turn of the event loop (concurrent adds of different scopes) are taken
  // in one write transaction; each still succeeds or fails on its own.
  async function acquireQueued() {
    const batch = acquires ?? [];
    acquires = undefined;
    try {
      const taken = await run('Taking scope locks', (database) => {
        const acquire = statement(database, acquireSql);
        const now = Date.now();
        return batch.map(
          ({ key, token, leaseMs }) => acquire.run(key, token, now + leaseMs, now).changes === 1,
        );
      });
      for (const [index, request] of batch.entries()) request.resolve(taken[index]!);
    } catch (error) {
      // Another process writing for longer than the busy timeout: the keys are busy too.
      const busy = isBusy((error as { cause?: unknown }).cause);
      for (const request of batch) {
        if (busy) request.resolve(false);
        else request.reject(error);
      }
    }
  }

  return createLeaseScopeLock({
    provider: source,
    ...(options.leaseMs === undefined ? {} : { leaseMs: options.leaseMs }),
    backend: {
      tryAcquire(key, token, leaseMs) {
        return new Promise<boolean>((resolve, reject) => {
          if (!acquires) {
            acquires = [];
            setImmediate(() => void acquireQueued());
          }
          acquires.push({ key, token, leaseMs, resolve, reject });
        });
      },
      async tryAcquireMany(keys, token, leaseMs) {
        try {
          return await run('Taking scope locks', (database) => {
            const acquire = statement(database, acquireSql);
            const now = Date.now();
            // A savepoint, so that a held key takes back the keys taken before it.
            const taken = database.transaction(() => {
              for (const key of keys) {
                if (acquire.run(key, token, now + leaseMs, now).changes !== 1) {
                  throw busyKey;
                }
              }
            });
            try {
              taken();
              return true;
            } catch (error) {
              if (error === busyKey) return false;
              throw error;
            }
          });
        } catch (error) {
          if (isBusy((error as { cause?: unknown }).cause)) return false;
          throw error;
        }
      },
      async renew(key, token, leaseMs) {
        return run(
          'Renewing a scope lock',
          (database) =>
            database
              .prepare('UPDATE engram_locks SET expires_at = ? WHERE key = ? AND owner = ?')
              .run(Date.now() + leaseMs, key, token).changes === 1,
        );
      },
      async release(key, token) {
        // A closed store cannot delete its rows; their leases expire instead.
        if (!options.database()) return;
        await new Promise<void>((resolve, reject) => {
          if (!releases) {
            releases = [];
            queueMicrotask(() => void releaseQueued());
          }
          releases.push({ key, token, resolve, reject });
        });
      },
    },
  });
}
