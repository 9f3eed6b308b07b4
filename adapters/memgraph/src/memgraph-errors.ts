import { AdapterCallError, EngramError } from '@engram/core';

const source = 'memgraph';

const retryableNetworkCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND',
]);

/** The status code of a driver error (`Memgraph.ClientError...`, `ServiceUnavailable`), if any. */
export function memgraphErrorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current != null && typeof current === 'object'; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * Whether the same call may succeed when repeated: the server is unreachable or restarting
 * (`ServiceUnavailable`, `SessionExpired`, socket errors), or the error is transient (Memgraph's
 * conflicting-transaction errors, `*.TransientError.*`).
 */
export function isRetryableMemgraphError(error: unknown): boolean {
  if ((error as { retriable?: unknown })?.retriable === true) return true;
  const code = memgraphErrorCode(error);
  if (code === undefined) return false;
  return (
    code === 'ServiceUnavailable' ||
    code === 'SessionExpired' ||
    code.includes('.TransientError.') ||
    retryableNetworkCodes.has(code)
  );
}

/** Turns anything the driver throws into an Engram `AdapterCallError` (Engram errors pass through). */
export function toMemgraphError(error: unknown, action: string): EngramError {
  if (EngramError.isInstance(error)) return error;
  const code = memgraphErrorCode(error);
  const message = error instanceof Error ? error.message : String(error);
  return new AdapterCallError({
    source,
    message: `${action} failed${code ? ` (${code})` : ''}: ${message}`,
    isRetryable: isRetryableMemgraphError(error),
    cause: error,
  });
}
