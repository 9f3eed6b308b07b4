import { isRetryableNetworkError, toAdapterCallError } from '@engram/adapter-kit';
import { AbortedError, EngramError, InvalidArgumentError, NotFoundError } from '@engram/core';

/** What the engine answered when a request failed: HTTP status and its error type and reason. */
export interface ElasticsearchCompatibleResponse {
  /** HTTP status. */
  status?: number;
  /** The engine's error type, e.g. `index_not_found_exception`. */
  type?: string;
  /** The engine's explanation. */
  reason?: string;
}

/** Reads the answer out of a client's error; `undefined` when the request got no answer. */
export type ResponseReader = (error: unknown) => ElasticsearchCompatibleResponse | undefined;

interface ResponseErrorLike {
  name?: string;
  statusCode?: number;
  body?: { error?: { type?: string; reason?: string } };
}

/**
 * Reads the `ResponseError` that both official clients throw: `statusCode` and the
 * `{ error: { type, reason } }` body.
 */
export const readResponseError: ResponseReader = (error) => {
  const response = error as ResponseErrorLike | undefined;
  if (response?.name !== 'ResponseError') return undefined;
  const body = response.body?.error;
  return {
    ...(response.statusCode !== undefined ? { status: response.statusCode } : {}),
    ...(body?.type !== undefined ? { type: body.type } : {}),
    ...(body?.reason !== undefined ? { reason: body.reason } : {}),
  };
};

/** What {@link toElasticsearchCompatibleError} needs besides the error. */
export interface ElasticsearchCompatibleErrorContext {
  /** The adapter, e.g. `elasticsearch`. */
  source: string;
  /** What failed, e.g. `Upserting records`; the message starts with it. */
  action: string;
  /** The call's signal: once it fired, any failure is reported as `AbortedError`. */
  abortSignal?: AbortSignal;
  /** The answer, when it is known already (a failed item of a bulk request). */
  response?: ElasticsearchCompatibleResponse;
  /** How the client exposes the answer; default {@link readResponseError}. */
  readResponse?: ResponseReader;
}

// The clients' own names for transport failures, which carry no network error code.
const retryableNames = new Set(['ConnectionError', 'TimeoutError', 'NoLivingConnectionsError']);

/**
 * Turns whatever the client threw into an Engram error: a missing index is `NotFoundError`, an
 * aborted call `AbortedError`, an invalid index name `InvalidArgumentError`; everything else is
 * `AdapterCallError`, retryable for lost connections, timeouts, 408, 409 (a concurrent write),
 * 429 and 5xx.
 */
export function toElasticsearchCompatibleError(
  error: unknown,
  context: ElasticsearchCompatibleErrorContext,
): EngramError {
  if (EngramError.isInstance(error)) return error;
  const { source, action } = context;
  const name = (error as { name?: unknown } | undefined)?.name;
  if (name === 'RequestAbortedError' || context.abortSignal?.aborted) {
    return new AbortedError({ source, message: `${action} was aborted.`, cause: error });
  }
  const { status, type, reason } =
    context.response ?? (context.readResponse ?? readResponseError)(error) ?? {};
  if (type === 'index_not_found_exception') {
    return new NotFoundError({
      source,
      message: `${action}: the collection does not exist; call ensureCollection first.`,
      cause: error,
    });
  }
  if (type === 'invalid_index_name_exception') {
    return new InvalidArgumentError({
      source,
      message: `${action}: ${reason ?? 'invalid index name'}.`,
      cause: error,
    });
  }
  return toAdapterCallError(error, {
    source,
    action,
    ...(reason !== undefined ? { detail: reason } : {}),
    ...(status !== undefined ? { status: `HTTP ${status}${type ? ` ${type}` : ''}` } : {}),
    isRetryable:
      (typeof name === 'string' && retryableNames.has(name)) ||
      status === 409 ||
      isRetryableNetworkError(error, status),
  });
}
