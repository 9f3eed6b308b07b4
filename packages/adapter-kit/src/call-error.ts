import { AdapterCallError, EngramError } from '@engram/core';
import { isRetryableNetworkError } from './retryable.js';

/** What {@link toAdapterCallError} needs to describe a failed call. */
export interface AdapterCallErrorContext {
  /** The adapter, e.g. `qdrant`. */
  source: string;
  /** The call that failed, e.g. `upsert`; the message starts with it. */
  action: string;
  /** The backend's own words, when the error carries a clearer text than its `message`. */
  detail?: string;
  /** A status or error code to show in brackets after the action, e.g. `HTTP 503` or `53300`. */
  status?: string;
  /** Overrides the classification; by default network failures and 408/429/5xx are retryable. */
  isRetryable?: boolean;
  /** Numeric HTTP status used by the default classification. */
  httpStatus?: number;
}

/**
 * Wraps anything a backend client threw into `AdapterCallError` (an Engram error passes through
 * unchanged): `<action> failed (<status>): <detail>`, `cause` set, retryability worked out from
 * the cause unless given.
 */
export function toAdapterCallError(error: unknown, context: AdapterCallErrorContext): EngramError {
  if (EngramError.isInstance(error)) return error;
  const detail = context.detail ?? (error instanceof Error ? error.message : String(error));
  const status = context.status === undefined ? '' : ` (${context.status})`;
  return new AdapterCallError({
    source: context.source,
    message: `${context.action} failed${status}: ${detail}`,
    isRetryable: context.isRetryable ?? isRetryableNetworkError(error, context.httpStatus),
    cause: error,
  });
}
