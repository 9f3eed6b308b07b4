import { isRetryableNetworkError, toBackendError } from '@engram/adapter-kit';
import type { EngramError } from '@engram/core';

const source = 'vertex-ai';

// google.rpc.Code values the client reports in `code` (gRPC and REST fallback alike).
const notFound = 5;
const retryableCodes = new Set([4, 8, 10, 14]); // DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, ABORTED, UNAVAILABLE
const httpStatusOfCode: Record<number, number> = {
  3: 400,
  5: 404,
  7: 403,
  8: 429,
  14: 503,
  16: 401,
};

/** The HTTP status of a Vertex AI client error, when the service answered. */
export function vertexAiErrorStatus(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'number') return undefined;
  return code >= 100 ? code : httpStatusOfCode[code];
}

/** Whether a failed call may succeed when repeated: lost connections, timeouts, throttling, 5xx. */
export function isRetryableVertexAiError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'number' && code < 100 && retryableCodes.has(code)) return true;
  return isRetryableNetworkError(error, vertexAiErrorStatus(error));
}

/**
 * Turns anything the Vertex AI client throws into an Engram error: a missing index or
 * endpoint into `NotFoundError`, everything else into `AdapterCallError`.
 */
export function toVertexAiError(error: unknown, action: string): EngramError {
  const status = vertexAiErrorStatus(error);
  return toBackendError(error, {
    source,
    action,
    ...(status === 404 || (error as { code?: unknown } | null)?.code === notFound
      ? {
          notFound:
            'the Vertex AI index, index endpoint or deployed index does not exist; check indexId, indexEndpointId and deployedIndexId (the index must be deployed with streaming updates).',
        }
      : {}),
    ...(status === undefined ? {} : { httpStatus: status }),
    isRetryable: isRetryableVertexAiError(error),
  });
}
