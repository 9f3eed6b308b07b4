import { randomBytes } from 'node:crypto';

/** An error body in the shape the OpenAI API uses. */
export interface OpenAIErrorBody {
  error: {
    message: string;
    type: string;
    param: string | null;
    code: string | null;
  };
}

/** A tool call in the answer of a chat completion. */
export interface FakeToolCall {
  /** Name of the called function. */
  name: string;
  /** Arguments: an object is serialized to JSON, a string is sent as is. */
  arguments: unknown;
  /** Call id; generated when omitted. */
  id?: string;
}

const toolCallsMarker = Symbol.for('engram.fake-openai.tool-calls');

/** An answer that calls tools instead of (or beside) returning text. Build it with {@link toolCallsAnswer}. */
export interface FakeToolCallsAnswer {
  readonly [toolCallsMarker]: true;
  /** The calls the model makes. */
  readonly toolCalls: FakeToolCall[];
  /** Optional text beside the calls. */
  readonly content?: string;
}

/** Makes a chat handler answer with tool calls; `finish_reason` becomes `tool_calls`. */
export function toolCallsAnswer(toolCalls: FakeToolCall[], content?: string): FakeToolCallsAnswer {
  return content === undefined
    ? { [toolCallsMarker]: true, toolCalls }
    : { [toolCallsMarker]: true, toolCalls, content };
}

export function isToolCallsAnswer(value: unknown): value is FakeToolCallsAnswer {
  return (
    value != null &&
    typeof value === 'object' &&
    (value as Record<symbol, unknown>)[toolCallsMarker] === true
  );
}

export function randomId(prefix: string, length = 24): string {
  return `${prefix}${randomBytes(length).toString('base64url').slice(0, length)}`;
}

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/**
 * A rough token count (about four characters per token, as OpenAI's own rule of thumb), enough
 * for usage numbers that grow with the input.
 */
export function estimateTokens(text: string): number {
  if (text.length === 0) return 0;
  return Math.max(1, Math.ceil(text.length / 4));
}

/** Concatenated text of chat messages, whatever shape their `content` takes. */
export function messagesText(messages: unknown): string {
  if (!Array.isArray(messages)) return '';
  const parts: string[] = [];
  for (const message of messages) {
    if (message == null || typeof message !== 'object') continue;
    parts.push(contentText((message as { content?: unknown }).content));
  }
  return parts.join('\n');
}

/** Text of a message `content`: a string, or an array of parts with `text` fields. */
export function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((part) =>
      part != null &&
      typeof part === 'object' &&
      typeof (part as { text?: unknown }).text === 'string'
        ? (part as { text: string }).text
        : '',
    )
    .join('');
}

const errorTypes: Record<number, { type: string; code: string | null; message: string }> = {
  400: { type: 'invalid_request_error', code: null, message: 'Bad request.' },
  401: {
    type: 'invalid_request_error',
    code: 'invalid_api_key',
    message: 'Incorrect API key provided.',
  },
  403: {
    type: 'invalid_request_error',
    code: 'unsupported_country_region_territory',
    message: 'Forbidden.',
  },
  404: { type: 'invalid_request_error', code: null, message: 'Not found.' },
  408: { type: 'timeout', code: null, message: 'Request timed out.' },
  409: { type: 'invalid_request_error', code: null, message: 'Conflict.' },
  429: {
    type: 'requests',
    code: 'rate_limit_exceeded',
    message: 'Rate limit reached for requests. Please try again later.',
  },
  500: {
    type: 'server_error',
    code: null,
    message: 'The server had an error while processing your request.',
  },
  502: { type: 'server_error', code: null, message: 'Bad gateway.' },
  503: {
    type: 'server_error',
    code: null,
    message: 'The engine is currently overloaded, please try again later.',
  },
};

export function errorBody(
  status: number,
  message?: string,
  param: string | null = null,
): OpenAIErrorBody {
  const known = errorTypes[status] ?? {
    type: status >= 500 ? 'server_error' : 'invalid_request_error',
    code: null,
    message: `Request failed with status ${status}.`,
  };
  return {
    error: { message: message ?? known.message, type: known.type, param, code: known.code },
  };
}

/** A float vector as OpenAI's `encoding_format: base64`: little-endian float32 bytes in base64. */
export function float32Base64(vector: readonly number[]): string {
  const array = new Float32Array(vector);
  return Buffer.from(array.buffer, array.byteOffset, array.byteLength).toString('base64');
}
