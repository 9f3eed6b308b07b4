import {
  AbortedError,
  ClosedError,
  type ScopeLock,
  sortedLockKeys,
  throwIfAborted,
} from '@engram/core';
import type pg from 'pg';
import { sqlState, toPostgresError } from './postgres-errors.js';

/** Options of {@link createPgvectorScopeLock}. */
export interface PgvectorScopeLockOptions {
  /**
   * The pool lock sessions come from. Keep it apart from the pool the work queries through: a
   * held lock keeps its connection, and work waiting for a connection the locks hold would wait
   * forever.
   */
  pool: () => pg.Pool;
  /** Another pool, to cancel a wait that was aborted (the lock pool may be all waiting). */
  cancelPool: () => pg.Pool;
  /** Prefix of every key, so that installations with other schemas or table prefixes do not wait for each other. */
  prefix: string;
  /** The adapter, for errors and `provider`. Default `pgvector`. */
  source?: string;
}

/**
 * A scope lock from PostgreSQL session advisory locks: each `withLocks` takes one connection,
 * calls `pg_advisory_lock` for each key in sorted order, runs the work and unlocks. The locks
 * belong to the session, so a process that crashes (or loses its connection) releases them as
 * soon as PostgreSQL sees the connection end. It needs a real session: behind PgBouncer in
 * transaction mode, point the store at PostgreSQL itself or use another lock.
 */
export function createPgvectorScopeLock(options: PgvectorScopeLockOptions): ScopeLock {
  const source = options.source ?? 'pgvector';
  let closed = false;

  /** Waits for `key`; an abort cancels the waiting statement from another connection. */
  async function lockKey(client: pg.PoolClient, key: string, abortSignal?: AbortSignal) {
    throwIfAborted(abortSignal, source);
    const processId = (client as unknown as { processID: number }).processID;
    let aborted = false;
    const onAbort = () => {
      aborted = true;
      void options
        .cancelPool()
        .query('SELECT pg_cancel_backend($1)', [processId])
        .catch(() => {});
    };
    abortSignal?.addEventListener('abort', onAbort, { once: true });
    try {
      await client.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [
        `${options.prefix}${key}`,
      ]);
    } catch (error) {
      if (aborted && sqlState(error) === '57014') {
        throw new AbortedError({
          source,
          message: 'Waiting for a scope lock was aborted.',
          cause: abortSignal?.reason,
        });
      }
      throw toPostgresError(error, source, 'Taking a scope lock');
    } finally {
      abortSignal?.removeEventListener('abort', onAbort);
    }
  }

  return {
    specificationVersion: 'v1',
    provider: source,
    async withLocks({ keys, abortSignal }, work) {
      if (closed) {
        throw new ClosedError({ source, message: 'The store was closed; create a new one.' });
      }
      let client: pg.PoolClient;
      try {
        client = await options.pool().connect();
      } catch (error) {
        throw toPostgresError(error, source, 'Connecting for a scope lock');
      }
      let broken = false;
      try {
        for (const key of sortedLockKeys(keys)) await lockKey(client, key, abortSignal);
        return await work();
      } finally {
        try {
          await client.query('SELECT pg_advisory_unlock_all()');
        } catch {
          // Ending the session below releases whatever it still holds.
          broken = true;
        }
        client.release(broken);
      }
    },
    async close() {
      closed = true;
    },
  };
}
