import { isRetryableNetworkError, toAdapterCallError } from '@engram/adapter-kit';
import { EngramError } from '@engram/core';

const source = 'upstash-vector';

/**
 * Whether a failed call may succeed when repeated. The client retries lost connections itself
 * and reports HTTP failures as `UpstashError` with the service's message only (no status), so
 * throttling and unavailability are recognised by their message.
 */
export function isRetryableUpstashVectorError(error: unknown): boolean {
  if (isRetryableNetworkError(error)) return true;
  const message = error instanceof Error ? error.message : String(error);
  return /rate limit|too many requests|\b429\b|\b50[234]\b|unavailable|timed? ?out/i.test(message);
}

/** Turns anything the Upstash client throws into an Engram error (`AdapterCallError`). */
export function toUpstashVectorError(error: unknown, action: string): EngramError {
  if (EngramError.isInstance(error)) return error;
  return toAdapterCallError(error, {
    source,
    action,
    isRetryable: isRetryableUpstashVectorError(error),
  });
}
