import { AbortedError, AdapterCallError, NotFoundError } from '@engram/core';
import { describe, expect, it } from 'vitest';
import { toElasticsearchCompatibleError } from './elasticsearch-compatible-errors.js';

function responseError(statusCode: number, type: string) {
  return {
    name: 'ResponseError',
    message: type,
    statusCode,
    body: { error: { type, reason: type } },
  };
}

describe.each(['elasticsearch', 'opensearch'])('errors of %s', (source) => {
  it.each([
    ['a missing index', responseError(404, 'index_not_found_exception'), 'not_found', false],
    ['too many requests', responseError(429, 'rejected_execution_exception'), 'adapter_call', true],
    ['a server error', responseError(503, 'unavailable_shards_exception'), 'adapter_call', true],
    [
      'a version conflict',
      responseError(409, 'version_conflict_engine_exception'),
      'adapter_call',
      true,
    ],
    ['a bad request', responseError(400, 'mapper_parsing_exception'), 'adapter_call', false],
    [
      'a bad index name',
      responseError(400, 'invalid_index_name_exception'),
      'invalid_argument',
      false,
    ],
    ['a timeout', { name: 'TimeoutError', message: 'Request timed out' }, 'adapter_call', true],
    ['no connection', { name: 'ConnectionError', message: 'ECONNREFUSED' }, 'adapter_call', true],
    ['no living node', { name: 'NoLivingConnectionsError', message: 'none' }, 'adapter_call', true],
    ['an aborted request', { name: 'RequestAbortedError', message: 'aborted' }, 'aborted', false],
  ])('maps %s', (_, raw, code, retryable) => {
    const error = toElasticsearchCompatibleError(raw, { source, action: 'Doing it' });
    expect(error.code).toBe(code);
    expect(error.source).toBe(source);
    expect(error.cause).toBe(raw);
    expect(error.prefixedMessage.startsWith(`[engram/${source}] Doing it`)).toBe(true);
    if (AdapterCallError.isInstance(error)) expect(error.isRetryable).toBe(retryable);
  });

  it('says the status, type and reason', () => {
    const error = toElasticsearchCompatibleError(responseError(400, 'mapper_parsing_exception'), {
      source,
      action: 'Upserting records',
    });
    expect(error.message).toBe(
      'Upserting records failed (HTTP 400 mapper_parsing_exception): mapper_parsing_exception',
    );
  });

  it('keeps Engram errors and reports an aborted signal as AbortedError', () => {
    const original = new NotFoundError({ source, message: 'gone' });
    expect(toElasticsearchCompatibleError(original, { source, action: 'x' })).toBe(original);
    const controller = new AbortController();
    controller.abort();
    const error = toElasticsearchCompatibleError(new Error('socket'), {
      source,
      action: 'x',
      abortSignal: controller.signal,
    });
    expect(AbortedError.isInstance(error)).toBe(true);
  });

  it('reads the answer the way the client exposes it', () => {
    const error = toElasticsearchCompatibleError(
      { meta: { statusCode: 404, body: { error: { type: 'index_not_found_exception' } } } },
      {
        source,
        action: 'Counting records',
        readResponse: (raw) => {
          const meta = (raw as { meta: { statusCode: number; body: { error: { type: string } } } })
            .meta;
          return { status: meta.statusCode, type: meta.body.error.type };
        },
      },
    );
    expect(NotFoundError.isInstance(error)).toBe(true);
  });
});
