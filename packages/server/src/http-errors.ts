import {
  AbortedError,
  AdapterCallError,
  ClosedError,
  DimensionMismatchError,
  EngramError,
  InvalidArgumentError,
  LLMOutputError,
  NotFoundError,
  UnsupportedFunctionalityError,
} from '@engram/core';

/** Stable error codes of the HTTP API. */
export type ApiErrorCode =
  | 'invalid_argument'
  | 'unsupported_functionality'
  | 'not_found'
  | 'unauthorized'
  | 'forbidden'
  | 'payload_too_large'
  | 'rate_limited'
  | 'method_not_allowed'
  | 'unavailable'
  | 'upstream_error'
  | 'internal';

/** An error the API answers with a given status and code. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: ApiErrorCode;
  readonly headers: Record<string, string>;

  constructor(
    status: number,
    code: ApiErrorCode,
    message: string,
    headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.headers = headers;
  }
}

/** What the API answers for an error. */
export interface ErrorAnswer {
  status: number;
  code: ApiErrorCode;
  message: string;
  headers: Record<string, string>;
  /** Whether the error is the server's fault and worth logging as one. */
  serverFault: boolean;
}

/** Maps any thrown value to a status, a stable code and a message that says what to fix. */
export function answerForError(error: unknown): ErrorAnswer {
  if (error instanceof ApiError) {
    return {
      status: error.status,
      code: error.code,
      message: error.message,
      headers: error.headers,
      serverFault: error.status >= 500,
    };
  }
  const answer = (status: number, code: ApiErrorCode, serverFault = false): ErrorAnswer => ({
    status,
    code,
    message: (error as Error).message,
    headers: status === 503 ? { 'Retry-After': '1' } : {},
    serverFault,
  });
  if (InvalidArgumentError.isInstance(error)) return answer(400, 'invalid_argument');
  if (UnsupportedFunctionalityError.isInstance(error)) {
    return answer(422, 'unsupported_functionality');
  }
  if (NotFoundError.isInstance(error)) return answer(404, 'not_found');
  if (DimensionMismatchError.isInstance(error)) return answer(500, 'internal', true);
  if (AdapterCallError.isInstance(error)) {
    return error.isRetryable
      ? answer(503, 'unavailable', true)
      : answer(502, 'upstream_error', true);
  }
  if (LLMOutputError.isInstance(error)) return answer(502, 'upstream_error', true);
  if (ClosedError.isInstance(error) || AbortedError.isInstance(error)) {
    return answer(503, 'unavailable', true);
  }
  if (EngramError.isInstance(error)) return answer(500, 'internal', true);
  return {
    status: 500,
    code: 'internal',
    message: 'Internal error; the server log has the details (look up the request id).',
    headers: {},
    serverFault: true,
  };
}
