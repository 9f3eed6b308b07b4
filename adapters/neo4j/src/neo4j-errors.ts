import { AdapterCallError, EngramError } from '@engram/core';

const source = 'neo4j';

const retryableNetworkCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND',
]);

/** The Neo4j status code of a driver error (`Neo.ClientError...`, `ServiceUnavailable`), if any. */
export function neo4jErrorCode(error: unknown): string | undefined {
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
 * (`ServiceUnavailable`, `SessionExpired`, socket errors), or the error is transient (deadlocks,
 * lock timeouts, `Neo.TransientError.*`).
 */
export function isRetryableNeo4jError(error: unknown): boolean {
  if ((error as { retriable?: unknown })?.retriable === true) return true;
  const code = neo4jErrorCode(error);
  if (code === undefined) return false;
  return (
    code === 'ServiceUnavailable' ||
    code === 'SessionExpired' ||
    code.startsWith('Neo.TransientError.') ||
    retryableNetworkCodes.has(code)
  );
}

/** Turns anything the driver throws into an Engram `AdapterCallError` (Engram errors pass through). */
export function toNeo4jError(error: unknown, action: string): EngramError {
  if (EngramError.isInstance(error)) return error;
  const code = neo4jErrorCode(error);
  const message = error instanceof Error ? error.message : String(error);
  return new AdapterCallError({
    source,
    message: `${action} failed${code ? ` (${code})` : ''}: ${message}`,
    isRetryable: isRetryableNeo4jError(error),
    cause: error,
  });
}
