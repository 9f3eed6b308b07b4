import { AdapterCallError, EngramError } from '@engram/core';

const source = 'neptune';

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

const retryableNetworkCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND',
]);

interface AwsErrorShape {
  name?: unknown;
  code?: unknown;
  cause?: unknown;
  $retryable?: unknown;
  $fault?: unknown;
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
  const status = neptuneErrorStatus(error);
  if (status !== undefined && (status === 429 || status >= 500)) return true;
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current != null && typeof current === 'object'; depth++) {
    const code = (current as AwsErrorShape).code;
    if (typeof code === 'string' && retryableNetworkCodes.has(code)) return true;
    current = (current as AwsErrorShape).cause;
  }
  return false;
}

/** Turns anything the Neptune client throws into an Engram `AdapterCallError` (Engram errors pass through). */
export function toNeptuneError(error: unknown, action: string): EngramError {
  if (EngramError.isInstance(error)) return error;
  const name = (error as AwsErrorShape | undefined)?.name;
  const status = neptuneErrorStatus(error);
  const message = error instanceof Error ? error.message : String(error);
  const detail = [typeof name === 'string' ? name : undefined, status && `HTTP ${status}`]
    .filter(Boolean)
    .join(', ');
  return new AdapterCallError({
    source,
    message: `${action} failed${detail ? ` (${detail})` : ''}: ${message}`,
    isRetryable: isRetryableNeptuneError(error),
    cause: error,
  });
}
