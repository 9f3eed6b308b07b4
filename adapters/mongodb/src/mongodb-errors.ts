import { AdapterCallError, EngramError } from '@engram/core';

const source = 'mongodb';

/** Server error codes that mean "try again": elections, shutdowns, timeouts, overload. */
const retryableCodes = new Set([
  6, // HostUnreachable
  7, // HostNotFound
  50, // MaxTimeMSExpired
  89, // NetworkTimeout
  91, // ShutdownInProgress
  134, // ReadConcernMajorityNotAvailableYet
  189, // PrimarySteppedDown
  262, // ExceededTimeLimit
  9001, // SocketException
  10107, // NotWritablePrimary
  11600, // InterruptedAtShutdown
  11602, // InterruptedDueToReplStateChange
  13435, // NotPrimaryNoSecondaryOk
  13436, // NotPrimaryOrSecondary
  16500, // request rate too large (429) on Cosmos DB's MongoDB API
]);

const retryableNames = new Set([
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoServerSelectionError',
  'MongoOperationTimeoutError',
  'MongoTopologyClosedError',
  'MongoPoolClearedError',
  'MongoServerClosedError',
]);

const retryableLabels = [
  'RetryableWriteError',
  'TransientTransactionError',
  'ResetPool',
  'RetryableError',
  'SystemOverloadedError',
];

/** The server's numeric error code, when there is one. */
export function mongoDBErrorCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

/**
 * Whether a failed call may succeed when repeated: lost connections, server selection timeouts,
 * elections and shutdowns, time limits, overload (the MongoDB counterparts of HTTP 429 and 5xx).
 * Other server errors (bad queries, duplicate keys, auth: the counterparts of 4xx) are not.
 */
export function isRetryableMongoDBError(error: unknown): boolean {
  if (error == null || typeof error !== 'object') return false;
  const candidate = error as { name?: unknown; hasErrorLabel?: (label: string) => boolean };
  if (typeof candidate.name === 'string' && retryableNames.has(candidate.name)) return true;
  if (typeof candidate.hasErrorLabel === 'function') {
    for (const label of retryableLabels) if (candidate.hasErrorLabel(label)) return true;
  }
  const code = mongoDBErrorCode(error);
  return code !== undefined && retryableCodes.has(code);
}

/** Wraps anything the driver throws as an Engram `AdapterCallError` (or passes Engram errors on). */
export function toMongoDBError(error: unknown, action: string): EngramError {
  if (EngramError.isInstance(error)) return error;
  const code = mongoDBErrorCode(error);
  const message = error instanceof Error ? error.message : String(error);
  return new AdapterCallError({
    source,
    message: `${action} failed${code === undefined ? '' : ` (code ${code})`}: ${message}`,
    isRetryable: isRetryableMongoDBError(error),
    cause: error,
  });
}
