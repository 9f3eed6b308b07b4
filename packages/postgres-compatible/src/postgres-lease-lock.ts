import { createLeaseScopeLock, type ScopeLock } from '@engram/core';
import type pg from 'pg';

/** Options of {@link createPostgresLeaseScopeLock}. */
export interface PostgresLeaseScopeLockOptions {
  /** The pool the lease statements go through (a transaction pooler is fine). */
  pool: () => pg.Pool;
  /** Schema-qualified, quoted name of the lease table. */
  table: string;
  /** Creates the lease table once, before the first statement. */
  ready: () => Promise<void>;
  /** The adapter, reported as the lock's `provider`. */
  source: string;
  /** How long a lease lasts without renewal (a crashed holder's keys free up after it). */
  leaseMs?: number;
}

/** The lease table: one row per held key, with its holder's token and the lease's end. */
export function leaseTableSql(table: string): string {
  return `CREATE TABLE IF NOT EXISTS ${table} (
  key text COLLATE "C" PRIMARY KEY,
  token text NOT NULL,
  expires_at timestamptz NOT NULL
)`;
}

/**
 * A scope lock from leased rows: taking a key is one `INSERT ... ON CONFLICT DO UPDATE ... WHERE
 * expired`, renewing and releasing one statement each, all timed by the server's clock. No
 * statement depends on the session, so it works through a transaction pooler (PgBouncer,
 * Supavisor), where session advisory locks cannot; a process that dies holds its keys until the
 * lease ends (10 s by default).
 */
export function createPostgresLeaseScopeLock(options: PostgresLeaseScopeLockOptions): ScopeLock {
  const { table } = options;
  const until = (parameter: string) =>
    `clock_timestamp() + ${parameter} * interval '1 millisecond'`;
  async function changed(sql: string, parameters: unknown[]) {
    await options.ready();
    const result = await options.pool().query(sql, parameters);
    return (result.rowCount ?? 0) > 0;
  }
  return createLeaseScopeLock({
    provider: options.source,
    ...(options.leaseMs === undefined ? {} : { leaseMs: options.leaseMs }),
    backend: {
      tryAcquire: (key, token, leaseMs) =>
        changed(
          `INSERT INTO ${table} AS lease (key, token, expires_at) VALUES ($1, $2, ${until('$3')})
           ON CONFLICT (key) DO UPDATE SET token = excluded.token, expires_at = excluded.expires_at
           WHERE lease.expires_at < clock_timestamp()`,
          [key, token, leaseMs],
        ),
      renew: (key, token, leaseMs) =>
        changed(`UPDATE ${table} SET expires_at = ${until('$3')} WHERE key = $1 AND token = $2`, [
          key,
          token,
          leaseMs,
        ]),
      async release(key, token) {
        await changed(`DELETE FROM ${table} WHERE key = $1 AND token = $2`, [key, token]);
      },
    },
  });
}
