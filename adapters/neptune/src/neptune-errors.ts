import { isRetryableNetworkError, toAdapterCallError } from '@engram/adapter-kit';
import type { EngramError } from '@engram/core';

const retryableNames = new Set([
  'ThrottlingException',
  'ConcurrentModificationException',
  'TimeLimitExceededException',
  'ClientTimeoutException',
  'MemoryLimitExceededException',
  'ServiceUnavailableException',
  'InternalFailureException',
  'TooManyRequestsException',
  'TimeoutError',
  'RequestTimeout',
]);

interface AwsErrorShape {
  name?: unknown;
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: unknown };
}

/** HTTP status of a failed call, when the SDK error carries one. */
export function neptuneErrorStatus(error: unknown): number | undefined {
  const status = (error as AwsErrorShape | undefined)?.$metadata?.httpStatusCode;
  return typeof status === 'number' ? status : undefined;
}

/**
 * Whether the same call may succeed when repeated: throttling, concurrent modification (Neptune's
 * answer to conflicting writes), time and memory limits, 429 and 5xx, lost connections.
 */
export function isRetryableNeptuneError(error: unknown): boolean {
  if (error == null || typeof error !== 'object') return false;
  const shape = error as AwsErrorShape;
  if (shape.$retryable) return true;
  if (typeof shape.name === 'string' && retryableNames.has(shape.name)) return true;
  return isRetryableNetworkError(error, neptuneErrorStatus(error));
}

/** Turns anything the Neptune client throws into an Engram `AdapterCallError` (Engram errors pass through). */
export function toNeptuneError(error: unknown, action: string): EngramError {
  const name = (error as AwsErrorShape | undefined)?.name;
  const status = neptuneErrorStatus(error);
  const detail = [typeof name === 'string' ? name : undefined, status && `HTTP ${status}`]
    .filter(Boolean)
    .join(', ');
  return toAdapterCallError(error, {
    source: 'neptune',
    action,
    ...(detail ? { status: detail } : {}),
    isRetryable: isRetryableNeptuneError(error),
  });
}
