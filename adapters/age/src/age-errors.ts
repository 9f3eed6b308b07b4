import { AdapterCallError, EngramError } from '@engram/core';

const source = 'age';

// SQLSTATE codes after which the same call may succeed: serialization failures and deadlocks,
// lock and statement timeouts, a server shutting down or starting up, I/O errors; and the
// classes of connection failures and of insufficient resources (too many connections).
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
const retryableClasses = new Set(['08', '53']);
const retryableNetworkCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** Whether a failed node-postgres call may succeed when retried. */
export function isRetryableAgeError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string') {
    if (retryableCodes.has(code) || retryableNetworkCodes.has(code)) return true;
    if (/^[0-9A-Z]{5}$/.test(code) && retryableClasses.has(code.slice(0, 2))) return true;
  }
  const message = error instanceof Error ? error.message : '';
  // node-postgres reports pool timeouts and dropped connections without a code.
  return /timeout|Connection terminated|connection ended|Client has encountered a connection error/i.test(
    message,
  );
}

/** Turns a driver error into an `AdapterCallError`; Engram errors pass through unchanged. */
export function wrapAgeError(error: unknown, action: string): EngramError {
  if (EngramError.isInstance(error)) return error;
  const code = (error as { code?: unknown } | null)?.code;
  const detail = error instanceof Error ? error.message : String(error);
  return new AdapterCallError({
    source,
    message: `${action} failed${typeof code === 'string' ? ` (${code})` : ''}: ${detail}`,
    isRetryable: isRetryableAgeError(error),
    cause: error,
  });
}
