import {
  decodeCursor,
  EngramError,
  encodeCursor,
  InvalidArgumentError,
  NotFoundError,
} from '@engram/core';
import { type AdapterCallErrorContext, toAdapterCallError } from './call-error.js';

/** An HTTP answer whose body was read as JSON (`{}` when empty). */
export interface RestAnswer {
  /** Whether the status is 2xx. */
  ok: boolean;
  /** The HTTP status. */
  status: number;
  /** The HTTP status text. */
  statusText: string;
  /** The body parsed as JSON, `{}` when it is empty. */
  body: Record<string, unknown>;
}

/** One JSON request of {@link restJson}. */
export interface RestJsonRequest {
  /** The full URL. */
  url: string;
  /** Default: `GET`. */
  method?: string;
  /** Request headers; `content-type: application/json` is added when there is a body. */
  headers?: Record<string, string>;
  /** Sent as JSON when given. */
  body?: unknown;
  /** Aborts the request. */
  signal?: AbortSignal | undefined;
  /** The `fetch` to use. Default: the global one. */
  fetch?: typeof globalThis.fetch | undefined;
  /**
   * The error to throw for an answer, or `undefined` when it is a success: reads the backend's
   * own error shape (e.g. `{ error_code, message }`) into the adapter's response error.
   */
  failure: (answer: RestAnswer) => Error | undefined;
}

/**
 * Sends one JSON request and reads the JSON answer: the body when `failure` finds none, else
 * throws what `failure` made of it (the adapter's `toError` then maps it to an Engram error).
 */
export async function restJson<T>(request: RestJsonRequest): Promise<T> {
  const hasBody = request.body !== undefined;
  const response = await (request.fetch ?? fetch)(request.url, {
    method: request.method ?? 'GET',
    headers: {
      ...request.headers,
      ...(hasBody ? { 'content-type': 'application/json' } : {}),
    },
    ...(hasBody ? { body: JSON.stringify(request.body) } : {}),
    ...(request.signal ? { signal: request.signal } : {}),
  });
  const text = await response.text();
  const answer: RestAnswer = {
    ok: response.ok,
    status: response.status,
    statusText: response.statusText,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
  const failure = request.failure(answer);
  if (failure) throw failure;
  return answer.body as T;
}

/** What {@link toBackendError} needs besides {@link AdapterCallErrorContext}. */
export interface BackendErrorContext extends AdapterCallErrorContext {
  /**
   * Set when the error means a missing collection, index, table or graph: the result is then a
   * `NotFoundError` with the message `<action>: <notFound>` (say what to create or check).
   */
  notFound?: string | undefined;
}

/**
 * Wraps anything a backend call threw into an Engram error (an Engram error passes through): a
 * missing resource (`notFound` set) into `NotFoundError`, everything else into
 * `AdapterCallError` as {@link toAdapterCallError} does, showing `HTTP <httpStatus>` when no
 * other `status` is given.
 */
export function toBackendError(error: unknown, context: BackendErrorContext): EngramError {
  if (EngramError.isInstance(error)) return error;
  const { notFound, ...callContext } = context;
  if (notFound !== undefined) {
    return new NotFoundError({
      source: context.source,
      message: `${context.action}: ${notFound}`,
      cause: error,
    });
  }
  if (callContext.status === undefined && callContext.httpStatus !== undefined) {
    callContext.status = `HTTP ${callContext.httpStatus}`;
  }
  return toAdapterCallError(error, callContext);
}

/** One page of a backend's list or scan: its items and the token of the next page, if any. */
export interface ScanPage<T, Token> {
  /** The items of this page. */
  items: readonly T[];
  /** The next page's token; `undefined`, `null` or `''` when this was the last page. */
  next?: Token | null | undefined;
}

/** Where {@link pagedScan} starts and when it stops early. */
export interface PagedScanOptions<T, Token> {
  /** The token of the first page. Default: none (the start). */
  start?: Token | undefined;
  /** Stops after a page once this holds for everything collected so far (e.g. a full page). */
  until?: (items: readonly T[]) => boolean;
}

/** What {@link pagedScan} collected, and the token to continue from (when it stopped early). */
export interface PagedScanResult<T, Token> {
  /** Every item of every page read. */
  items: T[];
  /** The token of the page after the last one read; `undefined` at the end. */
  next: Token | undefined;
}

/**
 * Reads pages until the backend gives no next token (or `until` holds), following its tokens:
 * the one loop behind `list`, `count` and `deleteAll` over a paged API, so none of them stops
 * silently after one page. `fetchPage` also sees what was collected so far (e.g. to size the
 * next page to what is still wanted).
 */
export async function pagedScan<T, Token>(
  fetchPage: (token: Token | undefined, collected: readonly T[]) => Promise<ScanPage<T, Token>>,
  options: PagedScanOptions<T, Token> = {},
): Promise<PagedScanResult<T, Token>> {
  const items: T[] = [];
  let token = options.start;
  do {
    const page = await fetchPage(token, items);
    items.push(...page.items);
    token = page.next || undefined;
  } while (token !== undefined && !options.until?.(items));
  return { items, next: token };
}

/** A list position: the backend's own page token, or the last id of a page filtered here. */
export type TokenCursor = { token: string } | { after: string };

/** Encodes a {@link TokenCursor} as an opaque `nextCursor` (`t:<token>` or `a:<id>`, encoded). */
export function encodeTokenCursor(cursor: TokenCursor): string {
  return encodeCursor('token' in cursor ? `t:${cursor.token}` : `a:${cursor.after}`);
}

/** Decodes {@link encodeTokenCursor}; `InvalidArgumentError` (from `source`) for anything else. */
export function decodeTokenCursor(
  cursor: string | undefined,
  source: string,
): TokenCursor | undefined {
  const position = decodeCursor(cursor, source);
  if (position === undefined) return undefined;
  if (position.startsWith('t:')) return { token: position.slice(2) };
  if (position.startsWith('a:')) return { after: position.slice(2) };
  throw new InvalidArgumentError({
    source,
    message: 'cursor is not valid; pass the nextCursor of a previous page unchanged.',
  });
}

/**
 * The last id of a filtered listing's cursor; `InvalidArgumentError` when the cursor holds a
 * backend page token instead (it came from an unfiltered listing).
 */
export function filteredCursorAfter(
  cursor: { after: string } | object | undefined,
  source: string,
): string | undefined {
  if (cursor === undefined) return undefined;
  if (!('after' in cursor) || typeof cursor.after !== 'string') {
    throw new InvalidArgumentError({
      source,
      message: 'cursor belongs to an unfiltered listing; pass it with the same scope and filter.',
    });
  }
  return cursor.after;
}

/** One page of a listing filtered by enumerating ids. */
export interface IdPage {
  /** The ids of the page, in order. */
  ids: string[];
  /** The last id of the page when more ids follow: the next page's position. */
  nextAfter: string | undefined;
}

/** The ids after `after` in sorted order, at most `limit`, and where the next page starts. */
export function pageOfIds(
  ids: readonly string[],
  after: string | undefined,
  limit: number,
): IdPage {
  const remaining = [...ids].sort().filter((id) => after === undefined || id > after);
  const page = remaining.slice(0, limit);
  return { ids: page, nextAfter: remaining.length > limit ? page.at(-1) : undefined };
}
