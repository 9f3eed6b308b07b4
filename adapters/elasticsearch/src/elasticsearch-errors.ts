import {
  AbortedError,
  AdapterCallError,
  EngramError,
  InvalidArgumentError,
  NotFoundError,
} from '@engram/core';

export const source = 'elasticsearch';

interface ResponseErrorLike {
  name: string;
  message: string;
  statusCode?: number;
  body?: { error?: { type?: string; reason?: string; root_cause?: { reason?: string }[] } };
}

/** The error type and reason Elasticsearch answered with, when it answered. */
export function responseErrorOf(error: unknown): {
  status?: number;
  type?: string;
  reason?: string;
} {
  const response = error as ResponseErrorLike;
  if (response?.name !== 'ResponseError') return {};
  const body = response.body?.error;
  return {
    ...(response.statusCode !== undefined ? { status: response.statusCode } : {}),
    ...(body?.type !== undefined ? { type: body.type } : {}),
    ...(body?.reason !== undefined ? { reason: body.reason } : {}),
  };
}

const retryableNames = new Set(['ConnectionError', 'TimeoutError', 'NoLivingConnectionsError']);

/**
 * Turns whatever the client threw into an Engram error: a missing index is `NotFoundError`, an
 * aborted call `AbortedError`; everything else is `AdapterCallError`, retryable for lost
 * connections, timeouts, 429, 409 (a concurrent write) and 5xx.
 */
export function toEngramError(
  error: unknown,
  action: string,
  abortSignal?: AbortSignal,
): EngramError {
  if (EngramError.isInstance(error)) return error;
  const name = (error as { name?: string } | undefined)?.name;
  if (name === 'RequestAbortedError' || abortSignal?.aborted) {
    return new AbortedError({ source, message: `${action} was aborted.`, cause: error });
  }
  const { status, type, reason } = responseErrorOf(error);
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
  const isRetryable =
    (name !== undefined && retryableNames.has(name)) ||
    status === 429 ||
    status === 409 ||
    (status !== undefined && status >= 500);
  const detail = reason ?? (error instanceof Error ? error.message : String(error));
  return new AdapterCallError({
    source,
    message: `${action} failed${status !== undefined ? ` (HTTP ${status}${type ? ` ${type}` : ''})` : ''}: ${detail}`,
    cause: error,
    isRetryable,
  });
}
