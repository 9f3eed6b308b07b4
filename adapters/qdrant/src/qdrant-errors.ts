import {
  isRetryableNetworkError,
  isRetryableStatus,
  toAdapterCallError,
} from '@engram/adapter-kit';
import { DimensionMismatchError, EngramError, NotFoundError } from '@engram/core';

const source = 'qdrant';

/** HTTP status of a failed REST call, when the error carries one. */
export function qdrantErrorStatus(error: unknown): number | undefined {
  if (error == null || typeof error !== 'object') return undefined;
  const status = (error as { status?: unknown }).status;
  if (typeof status === 'number') return status;
  // QdrantClientUnexpectedResponseError only has the status in its message.
  const match = /^Unexpected Response: (\d{3})/.exec((error as Error).message ?? '');
  return match ? Number(match[1]) : undefined;
}

function serverMessage(error: unknown): string {
  const text = (error as { data?: { status?: { error?: unknown } } }).data?.status?.error;
  if (typeof text === 'string') return text;
  return error instanceof Error ? error.message : String(error);
}

/** Whether a failed call may succeed when repeated: timeouts, lost connections, 408, 429, 5xx. */
export function isRetryableQdrantError(error: unknown): boolean {
  const constructorName = (error as object | null)?.constructor?.name;
  if (
    constructorName === 'QdrantClientTimeoutError' ||
    constructorName === 'QdrantClientResourceExhaustedError'
  ) {
    return true;
  }
  const status = qdrantErrorStatus(error);
  return status === undefined ? isRetryableNetworkError(error) : isRetryableStatus(status);
}

/**
 * Turns anything the Qdrant client throws into an Engram error: a missing collection into
 * `NotFoundError`, Qdrant's vector length complaint into `DimensionMismatchError`, everything else
 * into `AdapterCallError` (retryable for timeouts, lost connections, 408, 429 and 5xx). Without
 * `collection`, the message names the collection Qdrant's 404 answer names.
 */
export function toQdrantError(error: unknown, action: string, collection?: string): EngramError {
  if (EngramError.isInstance(error)) return error;
  const status = qdrantErrorStatus(error);
  const message = serverMessage(error);
  if (status === 404) {
    const missing = collection ?? /Collection `([^`]+)` doesn't exist/.exec(message)?.[1];
    return new NotFoundError({
      source,
      message: `Collection "${missing ?? '?'}" does not exist; call ensureCollection first.`,
      cause: error,
    });
  }
  const dimension = /expected dim: (\d+), got (\d+)/.exec(message);
  if (status === 400 && dimension) {
    return new DimensionMismatchError({
      source,
      expected: Number(dimension[1]),
      actual: Number(dimension[2]),
      message: `A vector has ${dimension[2]} dimensions; ${collection === undefined ? 'the collection' : `collection "${collection}"`} holds ${dimension[1]}.`,
      cause: error,
    });
  }
  return toAdapterCallError(error, {
    source,
    action,
    detail: message,
    ...(status === undefined ? {} : { status: `HTTP ${status}` }),
    isRetryable: isRetryableQdrantError(error),
  });
}
