import type { EngramError } from '@engram/core';
import { isRetryableBoltError, toBoltError } from '@engram/cypher-compatible';

/**
 * Whether the same call may succeed when repeated: the server is unreachable or restarting
 * (`ServiceUnavailable`, `SessionExpired`, socket errors), or the error is transient (Memgraph's
 * conflicting-transaction errors, `*.TransientError.*`).
 */
export function isRetryableMemgraphError(error: unknown): boolean {
  return isRetryableBoltError(error);
}

/** Turns anything the driver throws into an Engram `AdapterCallError` (Engram errors pass through). */
export function toMemgraphError(error: unknown, action: string): EngramError {
  return toBoltError(error, action, 'memgraph');
}
