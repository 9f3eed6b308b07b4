import { isRetryableNetworkError, isRetryableStatus, toBackendError } from '@engram/adapter-kit';
import type { EngramError } from '@engram/core';

const source = 'databricks';

/** An error answer of the Databricks REST API (`{ error_code, message }`). */
export class DatabricksResponseError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'DatabricksResponseError';
  }
}

/** Whether a failed call may succeed when repeated: 429, 5xx, lost connections and timeouts. */
export function isRetryableDatabricksError(error: unknown): boolean {
  if (error instanceof DatabricksResponseError) {
    return isRetryableStatus(error.status) || error.errorCode === 'TEMPORARILY_UNAVAILABLE';
  }
  return isRetryableNetworkError(error);
}

/**
 * Turns anything a call throws into an Engram error: a missing index or endpoint into
 * `NotFoundError`, everything else into `AdapterCallError`.
 */
export function toDatabricksError(error: unknown, action: string): EngramError {
  const answered = error instanceof DatabricksResponseError ? error : undefined;
  return toBackendError(error, {
    source,
    action,
    ...(answered?.status === 404
      ? {
          notFound:
            'the Vector Search index or endpoint does not exist; check endpointName and the index name, then call ensureCollection.',
        }
      : {}),
    ...(answered
      ? { status: [answered.errorCode, `HTTP ${answered.status}`].filter(Boolean).join(', ') }
      : {}),
    isRetryable: isRetryableDatabricksError(error),
  });
}
