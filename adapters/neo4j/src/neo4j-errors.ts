import type { EngramError } from '@engram/core';
import { isRetryableBoltError, toBoltError } from '@engram/cypher-compatible';

/**
 * Whether the same call may succeed when repeated: the server is unreachable or restarting
 * (`ServiceUnavailable`, `SessionExpired`, socket errors), or the error is transient (deadlocks,
 * lock timeouts, `Neo.TransientError.*`).
 */
export function isRetryableNeo4jError(error: unknown): boolean {
  return isRetryableBoltError(error);
}

/** Turns anything the driver throws into an Engram `AdapterCallError` (Engram errors pass through). */
export function toNeo4jError(error: unknown, action: string): EngramError {
  return toBoltError(error, action, 'neo4j');
}
