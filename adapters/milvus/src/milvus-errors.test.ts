import { AdapterCallError, InvalidArgumentError, NotFoundError } from '@engram/core';
import { describe, expect, it } from 'vitest';
import { MilvusStatusError, toMilvusError } from './milvus-errors.js';

describe('toMilvusError', () => {
  it('turns a missing collection into NotFoundError', () => {
    const status = {
      error_code: 'CollectionNotExists',
      code: 100,
      reason: 'collection not found[database=default][collection=memories]',
    };
    const error = toMilvusError(new MilvusStatusError('query', status), 'query', 'memories');
    expect(NotFoundError.isInstance(error)).toBe(true);
    expect(error.source).toBe('milvus');
    expect(error.cause).toBeDefined();
    // the SDK sometimes throws the whole response object
    expect(NotFoundError.isInstance(toMilvusError({ status }, 'upsert', 'memories'))).toBe(true);
  });

  it.each([
    [
      'a lost connection (gRPC UNAVAILABLE)',
      Object.assign(new Error('14 UNAVAILABLE'), { code: 14 }),
      true,
    ],
    [
      'a deadline (gRPC DEADLINE_EXCEEDED)',
      Object.assign(new Error('4 DEADLINE_EXCEEDED'), { code: 4 }),
      true,
    ],
    [
      'a refused socket',
      Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
      true,
    ],
    [
      'a rate limit',
      new MilvusStatusError('upsert', {
        error_code: 'RateLimit',
        code: 8,
        reason: 'rate limit exceeded',
      }),
      true,
    ],
    [
      'a status marked retriable',
      new MilvusStatusError('search', {
        error_code: 'UnexpectedError',
        code: 65535,
        reason: 'busy',
        retriable: true,
      }),
      true,
    ],
    ['a programming error', new TypeError('boom'), false],
  ])('classifies %s (retryable: %s)', (_, thrown, retryable) => {
    const error = toMilvusError(thrown, 'call', 'memories');
    expect(AdapterCallError.isInstance(error)).toBe(true);
    expect((error as AdapterCallError).isRetryable).toBe(retryable);
    expect(error.prefixedMessage.startsWith('[engram/milvus] ')).toBe(true);
    expect(error.cause).toBe(thrown);
  });

  it('turns a rejected parameter into InvalidArgumentError', () => {
    const thrown = new MilvusStatusError('upsert', {
      error_code: 'IllegalArgument',
      code: 1100,
      reason: 'the length (70011) of json field (metadata) exceeds max length (65536)',
    });
    const error = toMilvusError(thrown, 'upsert', 'memories');
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    expect(error.message).toContain('65536');
    expect(error.cause).toBe(thrown);
  });
});
