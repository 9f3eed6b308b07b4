import { AdapterCallError, DimensionMismatchError, EngramError, NotFoundError } from '@engram/core';

const source = 'qdrant';

const retryableCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
]);

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
  const data = (error as { data?: { status?: { error?: unknown } } }).data;
  const text = data?.status?.error;
  if (typeof text === 'string') return text;
  return error instanceof Error ? error.message : String(error);
}

function networkCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current != null && typeof current === 'object'; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Whether a failed call may succeed when repeated: timeouts, lost connections, 408, 429, 5xx. */
export function isRetryableQdrantError(error: unknown): boolean {
  const name = (error as { name?: unknown })?.name;
  const constructorName = (error as object)?.constructor?.name;
  if (
    constructorName === 'QdrantClientTimeoutError' ||
    constructorName === 'QdrantClientResourceExhaustedError' ||
    name === 'AbortError' ||
    name === 'TimeoutError'
  ) {
    return true;
  }
  const status = qdrantErrorStatus(error);
  if (status !== undefined) return status === 408 || status === 429 || status >= 500;
  const code = networkCode(error);
  if (code && retryableCodes.has(code)) return true;
  return error instanceof TypeError && /fetch failed/i.test(error.message);
}

/**
 * Turns anything the Qdrant client throws into an Engram error: a missing collection into
 * `NotFoundError`, Qdrant's vector length complaint into `DimensionMismatchError`, everything else
 * into `AdapterCallError` (retryable for timeouts, lost connections, 408, 429 and 5xx).
 */
export function toQdrantError(error: unknown, action: string, collection?: string): EngramError {
  if (EngramError.isInstance(error)) return error;
  const status = qdrantErrorStatus(error);
  const message = serverMessage(error);
  if (status === 404 && collection !== undefined) {
    return new NotFoundError({
      source,
      message: `Collection "${collection}" does not exist; call ensureCollection first.`,
      cause: error,
    });
  }
  const dimension = /expected dim: (\d+), got (\d+)/.exec(message);
  if (status === 400 && dimension) {
    return new DimensionMismatchError({
      source,
      expected: Number(dimension[1]),
      actual: Number(dimension[2]),
      message: `A vector has ${dimension[2]} dimensions; collection "${collection}" holds ${dimension[1]}.`,
      cause: error,
    });
  }
  return new AdapterCallError({
    source,
    message: `${action} failed${status === undefined ? '' : ` (HTTP ${status})`}: ${message}`,
    isRetryable: isRetryableQdrantError(error),
    cause: error,
  });
}
