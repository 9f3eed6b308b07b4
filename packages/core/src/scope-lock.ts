import { randomUUID } from 'node:crypto';
import { AbortedError, AdapterCallError, ClosedError, throwIfAborted } from './errors.js';
import { type Scope, scopeKey, scopeOf } from './scope.js';

/** Options of {@link ScopeLock.withLocks}. */
export interface ScopeLockOptions {
  /** Keys to hold, `<namespace>|<scopeKey(scope)>` (see {@link scopeLockKey}); order does not matter. */
  keys: string[];
  /** Stops waiting for the keys; work that already started runs to its end. */
  abortSignal?: AbortSignal;
}

/**
 * Mutual exclusion per key across every process that shares a backend: while `work` runs, no
 * other holder of the same backend (in this process or another, on this machine or another)
 * runs work under any of the same keys. The engine takes it around the step that decides
 * whether a fact is new and writes it, so two processes adding one fact store it once.
 *
 * Guarantees every implementation gives:
 * - keys are acquired in sorted order, so two holders of overlapping key sets cannot deadlock;
 * - a holder that crashes releases its keys within a bounded time: when its session ends
 *   (a database connection) or when its lease expires (a lease renewed while the work runs);
 * - a holder whose lease could not be renewed in time (the process stalled longer than the
 *   lease) gets an `AdapterCallError` once its work ends, since another holder may have run.
 *
 * Locks are not reentrant: work must not take a key it already holds. The engine keeps its
 * in-process queue per key in front of this lock, so one process only asks the backend about
 * contention it cannot settle itself.
 */
export interface ScopeLock {
  /** Contract version. */
  readonly specificationVersion: 'v1';
  /** Backend name, e.g. `sqlite`, `pgvector`, `redis`. */
  readonly provider: string;
  /** Runs `work` while holding every key; releases them however `work` ends. */
  withLocks<T>(options: ScopeLockOptions, work: () => Promise<T>): Promise<T>;
  /** Refuses new `withLocks` calls and releases what the lock owns. Idempotent. */
  close(): Promise<void>;
}

/** The lock key of a scope in a namespace (a Memory's collection): `<namespace>|<scopeKey>`. */
export function scopeLockKey(namespace: string, scope: Scope): string {
  return `${namespace}|${scopeKey(scopeOf(scope))}`;
}

/** Sorted distinct keys: the order every implementation acquires them in. */
export function sortedLockKeys(keys: readonly string[]): string[] {
  return [...new Set(keys)].sort();
}

/** How a lease-based lock talks to its backend; each call is one short atomic step. */
export interface LeaseLockBackend {
  /** Takes `key` for `token` unless another token holds an unexpired lease; true when taken. */
  tryAcquire(key: string, token: string, leaseMs: number): Promise<boolean>;
  /**
   * Takes every key for `token` in one atomic step, or none of them; true when all were taken.
   * Optional: a lock over several keys (a bulk import's scopes) then costs one round trip
   * instead of one per key when nobody else holds them.
   */
  tryAcquireMany?(keys: readonly string[], token: string, leaseMs: number): Promise<boolean>;
  /** Extends the lease of `key` when `token` still holds it; false when it does not. */
  renew(key: string, token: string, leaseMs: number): Promise<boolean>;
  /** Gives `key` up when `token` holds it (and only then). */
  release(key: string, token: string): Promise<void>;
  /** Releases the backend's own resources. */
  close?(): Promise<void>;
}

/** Options of {@link createLeaseScopeLock}. */
export interface LeaseScopeLockOptions {
  /** Backend name reported as `provider` and in error messages. */
  provider: string;
  /** The backend's atomic steps. */
  backend: LeaseLockBackend;
  /**
   * How long a lease lasts without renewal: the longest a crashed holder keeps its keys. It is
   * renewed every third of this while the work runs. Default 10,000 ms.
   */
  leaseMs?: number;
  /** Longest pause between two attempts to take a busy key. Default 100 ms. */
  maxRetryDelayMs?: number;
}

function pause(milliseconds: number, abortSignal: AbortSignal | undefined, source: string) {
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(
        new AbortedError({
          source,
          message: 'Waiting for a scope lock was aborted.',
          cause: abortSignal?.reason,
        }),
      );
    };
    const timer = setTimeout(() => {
      abortSignal?.removeEventListener('abort', onAbort);
      resolve();
    }, milliseconds);
    abortSignal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * A {@link ScopeLock} over a backend that can store a key with an owner token and an expiry
 * (a database row, a Redis key): keys are taken in sorted order, retried with growing jittered
 * pauses while busy, renewed while the work runs and released by token, so a holder never frees
 * a lease that expired and went to someone else.
 */
export function createLeaseScopeLock(options: LeaseScopeLockOptions): ScopeLock {
  const { provider, backend } = options;
  const leaseMs = options.leaseMs ?? 10_000;
  const maxRetryDelayMs = options.maxRetryDelayMs ?? 100;
  let closed = false;

  async function acquire(key: string, token: string, abortSignal: AbortSignal | undefined) {
    for (let attempt = 0; ; attempt++) {
      throwIfAborted(abortSignal, provider);
      if (await backend.tryAcquire(key, token, leaseMs)) return;
      const ceiling = Math.min(maxRetryDelayMs, 2 ** Math.min(attempt, 10));
      await pause(ceiling / 2 + Math.random() * (ceiling / 2), abortSignal, provider);
    }
  }

  async function releaseAll(keys: readonly string[], token: string) {
    await Promise.allSettled(keys.map((key) => backend.release(key, token)));
  }

  return {
    specificationVersion: 'v1',
    provider,
    async withLocks({ keys, abortSignal }, work) {
      if (closed) {
        throw new ClosedError({
          source: provider,
          message: 'This scope lock was closed; create a new one.',
        });
      }
      const sorted = sortedLockKeys(keys);
      const token = randomUUID();
      const held: string[] = [];
      try {
        // All at once when they are free; else one by one in sorted order, holding nothing from
        // the failed attempt, so the no-deadlock order still holds.
        if (sorted.length > 1 && backend.tryAcquireMany) {
          throwIfAborted(abortSignal, provider);
          if (await backend.tryAcquireMany(sorted, token, leaseMs)) held.push(...sorted);
        }
        for (const key of held.length > 0 ? [] : sorted) {
          await acquire(key, token, abortSignal);
          held.push(key);
        }
      } catch (error) {
        await releaseAll(held, token);
        throw error;
      }
      let renewedAt = Date.now();
      let lost = false;
      const renewal = setInterval(
        () => {
          void Promise.all(held.map((key) => backend.renew(key, token, leaseMs))).then(
            (renewed) => {
              if (renewed.every(Boolean)) renewedAt = Date.now();
              else lost = true;
            },
            () => {
              // A failed renewal is retried on the next tick; the lease only counts as lost once
              // it has gone unrenewed for its whole length.
            },
          );
        },
        Math.max(1, Math.floor(leaseMs / 3)),
      );
      renewal.unref?.();
      try {
        const result = await work();
        if (lost || Date.now() - renewedAt > leaseMs) {
          throw new AdapterCallError({
            source: provider,
            isRetryable: true,
            message: `A scope lock lease (${leaseMs} ms) expired before the work under it ended, so another process may have written the same scope at the same time. The work was done; running it again is safe. If this repeats, give the lock a longer lease.`,
          });
        }
        return result;
      } finally {
        clearInterval(renewal);
        await releaseAll(held, token);
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await backend.close?.();
    },
  };
}
