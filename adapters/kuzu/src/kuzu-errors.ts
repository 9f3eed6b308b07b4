import { toAdapterCallError } from '@engram/adapter-kit';
import type { EngramError } from '@engram/core';

const source = 'kuzu';

// Failures after which the same call may succeed: another process holds the database's lock
// (it may close it), a full buffer pool or a transient I/O error, a query timeout, a write
// transaction of another connection of the same database.
const retryablePatterns = [
  /could not set lock/i,
  /lock on file/i,
  /buffer manager exception/i,
  /IO exception/i,
  /interrupted/i,
  /timeout/i,
  /cannot start a new write transaction/i,
];

/** Whether a failed Kuzu call may succeed when retried. */
export function isRetryableKuzuError(error: unknown): boolean {
  const message = error instanceof Error ? error.message : String(error);
  return retryablePatterns.some((pattern) => pattern.test(message));
}

/** Turns an engine error into an `AdapterCallError`; Engram errors pass through unchanged. */
export function toKuzuError(error: unknown, action: string): EngramError {
  return toAdapterCallError(error, { source, action, isRetryable: isRetryableKuzuError(error) });
}
