import { networkErrorCode, toAdapterCallError } from '@engram/adapter-kit';
import type { EngramError } from '@engram/core';

// SQLSTATE codes after which the same call may succeed: serialization failures and deadlocks,
// lock and statement timeouts, a server shutting down or starting up, I/O errors.
const retryableCodes = new Set([
  '40001',
  '40P01',
  '55P03',
  '57014',
  '57P01',
  '57P02',
  '57P03',
  '58000',
  '58030',
]);
// Connection exceptions and insufficient resources (too many connections, disk full).
const retryableClasses = new Set(['08', '53']);

/** The SQLSTATE a node-postgres error carries (`42P01`, ...), or undefined for any other failure. */
export function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** Whether a failed node-postgres call may succeed when retried. */
export function isRetryablePostgresError(error: unknown): boolean {
  const state = sqlState(error);
  if (
    state !== undefined &&
    (retryableCodes.has(state) || retryableClasses.has(state.slice(0, 2)))
  ) {
    return true;
  }
  if (networkErrorCode(error) !== undefined) return true;
  const message = error instanceof Error ? error.message : '';
  // node-postgres reports pool and connection timeouts and dropped connections without a code.
  return /timeout|Connection terminated|connection ended|Client has encountered a connection error/i.test(
    message,
  );
}

/**
 * Turns a node-postgres error into an `AdapterCallError` of `source`: `<action> failed
 * (<code>): <message>`, retryable by {@link isRetryablePostgresError}. Engram errors pass through.
 */
export function toPostgresError(error: unknown, source: string, action: string): EngramError {
  const code = (error as { code?: unknown } | null)?.code;
  return toAdapterCallError(error, {
    source,
    action,
    ...(typeof code === 'string' ? { status: code } : {}),
    isRetryable: isRetryablePostgresError(error),
  });
}

/** The error mapper of a Postgres-based store, for `defineVectorStore` and `defineGraphStore`. */
export function postgresErrorMapper(
  source: string,
): (error: unknown, action: string) => EngramError {
  return (error, action) => toPostgresError(error, source, action);
}

/** Whether the error is SQLSTATE 42P01, a table that does not exist (dropped behind our back). */
export function isUndefinedTable(error: unknown): boolean {
  return sqlState(error) === '42P01';
}
