import { isRetryableNetworkError, toBackendError } from '@engram/adapter-kit';
import type { EngramError } from '@engram/core';

const source = 'neptune-analytics';

const retryableNames = new Set([
  'ThrottlingException',
  'ConflictException',
  'ServiceQuotaExceededException',
  'InternalServerException',
  'ServiceUnavailableException',
  'TimeoutError',
]);

interface AwsErrorShape {
  name?: unknown;
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: unknown };
}

/** The HTTP status of a Neptune Analytics SDK error, when the service answered. */
export function neptuneAnalyticsErrorStatus(error: unknown): number | undefined {
  const status = (error as AwsErrorShape | null)?.$metadata?.httpStatusCode;
  if (typeof status === 'number') return status;
  return (error as AwsErrorShape | null)?.name === 'ResourceNotFoundException' ? 404 : undefined;
}

/** Whether a failed call may succeed when repeated: throttling, conflicts, 5xx, lost connections. */
export function isRetryableNeptuneAnalyticsError(error: unknown): boolean {
  if (error == null || typeof error !== 'object') return false;
  const shape = error as AwsErrorShape;
  if (shape.$retryable) return true;
  if (typeof shape.name === 'string' && retryableNames.has(shape.name)) return true;
  return isRetryableNetworkError(error, neptuneAnalyticsErrorStatus(error));
}

/**
 * Turns anything the Neptune Analytics client throws into an Engram error: a missing graph into
 * `NotFoundError`, everything else into `AdapterCallError`.
 */
export function toNeptuneAnalyticsError(error: unknown, action: string): EngramError {
  const status = neptuneAnalyticsErrorStatus(error);
  const name = (error as AwsErrorShape | null)?.name;
  const detail = [typeof name === 'string' ? name : undefined, status && `HTTP ${status}`]
    .filter(Boolean)
    .join(', ');
  return toBackendError(error, {
    source,
    action,
    ...(status === 404
      ? {
          notFound:
            'the Neptune Analytics graph does not exist or is not reachable; check graphIdentifier (NEPTUNE_ANALYTICS_GRAPH_ID) and the region.',
        }
      : {}),
    ...(detail ? { status: detail } : {}),
    isRetryable: isRetryableNeptuneAnalyticsError(error),
  });
}
