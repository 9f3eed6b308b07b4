import { AdapterCallError, InvalidArgumentError, NotFoundError } from '@engram/core';
import { describe, expect, it } from 'vitest';
import {
  decodeTokenCursor,
  encodeTokenCursor,
  filteredCursorAfter,
  pagedScan,
  pageOfIds,
  restJson,
  toBackendError,
} from './rest.js';
import { startHttpModel } from './testing/http-model.js';

class TeapotError extends Error {
  constructor(readonly status: number) {
    super(`status ${status}`);
  }
}

describe('restJson', () => {
  it('sends JSON with the headers and returns the parsed answer, or throws what failure makes', async () => {
    const server = await startHttpModel((request) =>
      request.path === '/fail'
        ? { status: 418, body: { reason: 'teapot' } }
        : {
            status: 200,
            body: {
              method: request.method,
              got: request.body,
              auth: request.headers.authorization,
            },
          },
    );
    try {
      const failure = (answer: { ok: boolean; status: number }) =>
        answer.ok ? undefined : new TeapotError(answer.status);
      expect(
        await restJson({
          url: `${server.url}/items`,
          method: 'POST',
          headers: { authorization: 'Bearer t' },
          body: { id: 1 },
          failure,
        }),
      ).toEqual({ method: 'POST', got: { id: 1 }, auth: 'Bearer t' });
      expect(await restJson({ url: `${server.url}/items`, failure })).toEqual({
        method: 'GET',
        got: {},
      });
      await expect(restJson({ url: `${server.url}/fail`, failure })).rejects.toEqual(
        new TeapotError(418),
      );
    } finally {
      await server.close();
    }
  });
});

describe('toBackendError', () => {
  it('maps a missing resource to NotFoundError and the rest to AdapterCallError', () => {
    const cause = new Error('gone');
    const missing = toBackendError(cause, {
      source: 'test',
      action: 'count',
      notFound: 'the index does not exist; call ensureCollection first.',
    });
    expect(NotFoundError.isInstance(missing)).toBe(true);
    expect(missing.message).toContain('count: the index does not exist');
    expect(missing.cause).toBe(cause);
    const throttled = toBackendError(cause, { source: 'test', action: 'upsert', httpStatus: 429 });
    expect(AdapterCallError.isInstance(throttled)).toBe(true);
    expect(throttled.message).toContain('upsert failed (HTTP 429): gone');
    expect((throttled as AdapterCallError).isRetryable).toBe(true);
    const named = toBackendError(cause, {
      source: 'test',
      action: 'upsert',
      status: 'code 7',
      isRetryable: false,
    });
    expect(named.message).toContain('upsert failed (code 7): gone');
    expect(toBackendError(missing, { source: 'other', action: 'x', notFound: 'y' })).toBe(missing);
  });
});

describe('pagedScan', () => {
  const pages: Record<string, { items: number[]; next?: string }> = {
    start: { items: [1, 2], next: 'b' },
    b: { items: [3], next: 'c' },
    c: { items: [4, 5], next: '' },
  };

  it('follows tokens until there is none, or until enough is collected', async () => {
    const seen: (string | undefined)[] = [];
    const fetchPage = async (token: string | undefined) => {
      seen.push(token);
      return pages[token ?? 'start']!;
    };
    expect(await pagedScan(fetchPage)).toEqual({ items: [1, 2, 3, 4, 5], next: undefined });
    expect(seen).toEqual([undefined, 'b', 'c']);
    expect(await pagedScan(fetchPage, { until: (items) => items.length >= 3 })).toEqual({
      items: [1, 2, 3],
      next: 'c',
    });
    expect(await pagedScan(fetchPage, { start: 'c' })).toEqual({ items: [4, 5], next: undefined });
  });
});

describe('token cursors', () => {
  it('round-trip page tokens and last ids, and refuse anything else', () => {
    for (const cursor of [{ token: 'abc:1' }, { after: 'memory-9' }]) {
      expect(decodeTokenCursor(encodeTokenCursor(cursor), 'test')).toEqual(cursor);
    }
    expect(decodeTokenCursor(undefined, 'test')).toBeUndefined();
    expect(() => decodeTokenCursor('not a cursor', 'test')).toThrow(InvalidArgumentError);
  });
});

describe('filtered listings', () => {
  it('pages sorted ids after a position, and refuses a page token as a position', () => {
    const ids = ['d', 'b', 'a', 'c', 'e'];
    expect(pageOfIds(ids, undefined, 2)).toEqual({ ids: ['a', 'b'], nextAfter: 'b' });
    expect(pageOfIds(ids, 'b', 3)).toEqual({ ids: ['c', 'd', 'e'], nextAfter: undefined });
    expect(ids).toEqual(['d', 'b', 'a', 'c', 'e']);
    expect(filteredCursorAfter({ after: 'b' }, 'test')).toBe('b');
    expect(filteredCursorAfter(undefined, 'test')).toBeUndefined();
    expect(() => filteredCursorAfter({ token: 't' }, 'test')).toThrow(InvalidArgumentError);
  });
});
