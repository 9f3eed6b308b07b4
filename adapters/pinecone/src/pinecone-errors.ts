import {
  isRetryableNetworkError,
  isRetryableStatus,
  toAdapterCallError,
} from '@engram/adapter-kit';
import { EngramError, NotFoundError } from '@engram/core';

const source = 'pinecone';

/** Client errors whose request may succeed when repeated (the client maps HTTP status to names). */
const retryableNames = new Set([
  'PineconeInternalServerError', // 500
  'PineconeUnavailableError', // 503
  'PineconeMaxRetriesExceededError', // 5xx after the client's own retries
  'PineconeConnectionError', // no HTTP response at all
  'PineconeRequestError',
  'PineconeTimeoutError',
]);

/** The HTTP status each named client error stands for. */
const statusByName: Record<string, number> = {
  PineconeBadRequestError: 400,
  PineconeAuthorizationError: 401,
  PineconeNotFoundError: 404,
  PineconeMethodNotAllowedError: 405,
  PineconeConflictError: 409,
  PineconeUnprocessableEntityError: 422,
  PineconeInternalServerError: 500,
  PineconeNotImplementedError: 501,
  PineconeUnavailableError: 503,
};

/** The HTTP status a Pinecone client error stands for, when it can be told. */
export function pineconeErrorStatus(error: unknown): number | undefined {
  const name = (error as { name?: unknown } | null)?.name;
  if (typeof name === 'string' && statusByName[name] !== undefined) return statusByName[name];
  const status = (error as { status?: unknown } | null)?.status;
  if (typeof status === 'number') return status;
  // PineconeUnmappedHttpError (429, 502, 504, ...) only carries the status in its message.
  const match = /Status: (\d{3})/.exec((error as Error | null)?.message ?? '');
  return match ? Number(match[1]) : undefined;
}

/** Whether a failed call may succeed when repeated: lost connections, timeouts, 408, 429, 5xx. */
export function isRetryablePineconeError(error: unknown): boolean {
  const name = (error as { name?: unknown } | null)?.name;
  if (typeof name === 'string' && retryableNames.has(name)) return true;
  const status = pineconeErrorStatus(error);
  return status === undefined ? isRetryableNetworkError(error) : isRetryableStatus(status);
}

/**
 * Turns anything the Pinecone client throws into an Engram error: a missing index into
 * `NotFoundError`, everything else into `AdapterCallError`.
 */
export function toPineconeError(error: unknown, action: string, collection?: string): EngramError {
  if (EngramError.isInstance(error)) return error;
  const status = pineconeErrorStatus(error);
  if (status === 404) {
    return new NotFoundError({
      source,
      message: `Collection "${collection ?? '?'}" (a Pinecone index) does not exist; call ensureCollection first.`,
      cause: error,
    });
  }
  return toAdapterCallError(error, {
    source,
    action,
    ...(status === undefined ? {} : { status: `HTTP ${status}` }),
    isRetryable: isRetryablePineconeError(error),
  });
}
