import { isRetryableNetworkError, toBackendError } from '@engram/adapter-kit';
import type { EngramError } from '@engram/core';

const source = 's3-vectors';

/** The HTTP status of an AWS SDK error, when the service answered. */
export function s3VectorsErrorStatus(error: unknown): number | undefined {
  const status = (error as { $metadata?: { httpStatusCode?: unknown } } | null)?.$metadata
    ?.httpStatusCode;
  if (typeof status === 'number') return status;
  const name = (error as { name?: unknown } | null)?.name;
  if (name === 'NotFoundException') return 404;
  if (name === 'ConflictException') return 409;
  return undefined;
}

/** Whether a failed call may succeed when repeated: lost connections, timeouts, 408, 429, 5xx. */
export function isRetryableS3VectorsError(error: unknown): boolean {
  if ((error as { $retryable?: unknown } | null)?.$retryable) return true;
  const name = (error as { name?: unknown } | null)?.name;
  if (name === 'TooManyRequestsException' || name === 'ServiceUnavailableException') return true;
  return isRetryableNetworkError(error, s3VectorsErrorStatus(error));
}

/**
 * Turns anything the S3 Vectors client throws into an Engram error: a missing index or bucket
 * into `NotFoundError`, everything else into `AdapterCallError`.
 */
export function toS3VectorsError(error: unknown, action: string): EngramError {
  const status = s3VectorsErrorStatus(error);
  return toBackendError(error, {
    source,
    action,
    ...(status === 404
      ? {
          notFound:
            'the S3 Vectors index (or its vector bucket) does not exist; create the bucket, then call ensureCollection.',
        }
      : {}),
    ...(status === undefined ? {} : { httpStatus: status }),
    isRetryable: isRetryableS3VectorsError(error),
  });
}
