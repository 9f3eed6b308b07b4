import { networkErrorCode, toAdapterCallError } from '@engram/adapter-kit';
import { AdapterCallError, EngramError, InvalidArgumentError, NotFoundError } from '@engram/core';

export const source = 'milvus';

/** The status object Milvus returns with every response (`error_code`, `code`, `reason`). */
export interface MilvusStatus {
  error_code?: string | number;
  code?: number;
  reason?: string;
  detail?: string;
  retriable?: boolean;
}

// gRPC status codes that mean "try again": DEADLINE_EXCEEDED,
// RESOURCE_EXHAUSTED, ABORTED, UNAVAILABLE.
const retryableGrpcCodes = new Set([4, 8, 10, 14]);

// Milvus error codes (merr) of transient server conditions: not ready, unavailable, memory or
// request limits, rate limited, timeout.
const retryableMilvusCodes = new Set([1, 2, 3, 4, 8, 9]);
const retryableErrorCodes = new Set(['RateLimit', 'NotReadyServe', 'ServerNotReady']);

function isSuccess(status: MilvusStatus | undefined): boolean {
  if (!status) return true;
  if (
    status.error_code !== undefined &&
    status.error_code !== 'Success' &&
    status.error_code !== 0
  ) {
    return false;
  }
  return status.code === undefined || status.code === 0;
}

function statusMessage(status: MilvusStatus): string {
  return status.reason || status.detail || String(status.error_code ?? status.code ?? 'unknown');
}

/** Whether a Milvus status says the collection does not exist. */
export function isCollectionMissing(status: MilvusStatus | undefined): boolean {
  if (!status) return false;
  if (status.code === 100 || status.error_code === 'CollectionNotExists') return true;
  const text = `${status.reason ?? ''} ${status.detail ?? ''}`;
  return /collection not found|can't find collection|collection .* does not exist/i.test(text);
}

/** Whether a Milvus status says the collection is not loaded into memory. */
export function isCollectionNotLoaded(status: MilvusStatus | undefined): boolean {
  if (!status) return false;
  if (status.code === 101) return true;
  return /collection not loaded|not loaded into memory/i.test(
    `${status.reason ?? ''} ${status.detail ?? ''}`,
  );
}

/** A failure the server reported in a status, carried as an exception until it is classified. */
export class MilvusStatusError extends Error {
  readonly status: MilvusStatus;
  constructor(action: string, status: MilvusStatus) {
    super(`${action} failed: ${statusMessage(status)}`);
    this.name = 'MilvusStatusError';
    this.status = status;
  }
}

/** Throws {@link MilvusStatusError} when a Milvus status is not a success. */
export function checkStatus(action: string, status: MilvusStatus | undefined): void {
  if (!isSuccess(status)) throw new MilvusStatusError(action, status!);
}

function statusOf(error: unknown): MilvusStatus | undefined {
  if (error instanceof MilvusStatusError) return error.status;
  // The SDK sometimes throws the response object itself (e.g. when describing the collection
  // before an insert fails).
  if (error != null && typeof error === 'object' && 'status' in error) {
    const status = (error as { status: unknown }).status;
    if (status != null && typeof status === 'object' && 'error_code' in status) {
      return status as MilvusStatus;
    }
  }
  if (
    error != null &&
    typeof error === 'object' &&
    'error_code' in error &&
    'reason' in error &&
    !(error instanceof Error)
  ) {
    return error as MilvusStatus;
  }
  return undefined;
}

/** Whether an error says the collection does not exist. */
export function errorIsCollectionMissing(error: unknown): boolean {
  return isCollectionMissing(statusOf(error));
}

/** Whether an error says the collection is not loaded. */
export function errorIsCollectionNotLoaded(error: unknown): boolean {
  return isCollectionNotLoaded(statusOf(error));
}

/**
 * Turns anything the Milvus client threw into an Engram error: a missing collection becomes
 * `NotFoundError`, a rejected parameter `InvalidArgumentError`, everything else `AdapterCallError`, retryable for lost connections, timeouts,
 * rate limits and servers that are not ready.
 */
export function toMilvusError(error: unknown, action: string, collection?: string): EngramError {
  if (EngramError.isInstance(error)) return error;
  const status = statusOf(error);
  if (status) {
    if (isCollectionMissing(status)) {
      return new NotFoundError({
        source,
        message: `Collection "${collection ?? '?'}" does not exist; call ensureCollection first.`,
        cause: error,
      });
    }
    // 1100: the server rejected a parameter, e.g. metadata over the JSON field's 64 KiB.
    if (status.code === 1100) {
      return new InvalidArgumentError({
        source,
        message: `Milvus rejected the ${action}: ${statusMessage(status)}`,
        cause: error,
      });
    }
    return new AdapterCallError({
      source,
      message: `Milvus ${action} failed: ${statusMessage(status)}`,
      isRetryable:
        status.retriable === true ||
        (typeof status.code === 'number' && retryableMilvusCodes.has(status.code)) ||
        (typeof status.error_code === 'string' && retryableErrorCodes.has(status.error_code)),
      cause: error,
    });
  }
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  return toAdapterCallError(error, {
    source,
    action: `Milvus ${action}`,
    detail: message.split('\n')[0]!,
    isRetryable:
      (typeof code === 'number' && retryableGrpcCodes.has(code)) ||
      networkErrorCode(error) !== undefined,
  });
}
