import { isRetryableNetworkError, isRetryableStatus, toBackendError } from '@engram/adapter-kit';
import type { EngramError } from '@engram/core';

const source = 'baidu';

/** Mochow's codes for a missing database or table. */
export const baiduNotFoundCodes: ReadonlySet<number> = new Set([50, 69]);
/** Mochow's code for a table that already exists. */
export const baiduTableExistsCode = 70;

/** An error answer of the Mochow HTTP API (`{ code, msg }`). */
export class BaiduResponseError extends Error {
  constructor(
    readonly status: number,
    readonly code: number | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'BaiduResponseError';
  }
}

/** Whether a failed call may succeed when repeated: 429, 5xx, lost connections and timeouts. */
export function isRetryableBaiduError(error: unknown): boolean {
  if (error instanceof BaiduResponseError) return isRetryableStatus(error.status);
  return isRetryableNetworkError(error);
}

/**
 * Turns anything a call throws into an Engram error: a missing database or table into
 * `NotFoundError`, everything else into `AdapterCallError`.
 */
export function toBaiduError(error: unknown, action: string): EngramError {
  const answered = error instanceof BaiduResponseError ? error : undefined;
  return toBackendError(error, {
    source,
    action,
    ...(answered && baiduNotFoundCodes.has(answered.code ?? -1)
      ? {
          notFound: `the Baidu VectorDB database or table does not exist (${answered.message}); create the database first, then call ensureCollection.`,
        }
      : {}),
    ...(answered ? { status: `code ${answered.code ?? '?'}, HTTP ${answered.status}` } : {}),
    isRetryable: isRetryableBaiduError(error),
  });
}
