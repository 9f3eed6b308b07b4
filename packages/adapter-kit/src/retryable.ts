/** Network error codes (Node.js sockets and undici) after which the same call may succeed. */
export const retryableNetworkCodes: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
]);

/** The first string `code` found on the error or the chain of its causes. */
export function networkErrorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current != null && typeof current === 'object'; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && retryableNetworkCodes.has(code)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Whether an HTTP status says the same request may succeed later: 408, 429 or any 5xx. */
export function isRetryableStatus(status: number | undefined): boolean {
  return status !== undefined && (status === 408 || status === 429 || status >= 500);
}

/**
 * Whether a failure is one of the transient kinds every backend shares: a timeout, a lost or
 * refused connection, `fetch failed`, or (when `status` is given) 408, 429 or 5xx.
 */
export function isRetryableNetworkError(error: unknown, status?: number): boolean {
  if (isRetryableStatus(status)) return true;
  const name = (error as { name?: unknown } | null)?.name;
  if (name === 'TimeoutError' || name === 'AbortError' || name === 'ConnectTimeoutError') {
    return true;
  }
  if (networkErrorCode(error) !== undefined) return true;
  return error instanceof TypeError && /fetch failed/i.test(error.message);
}
