import { AdapterCallError, InvalidArgumentError } from '@engram/core';
import { describe, expect, it } from 'vitest';
import { isRetryableAgeError, wrapAgeError } from './age-errors.js';

function failure(message: string, code?: string): Error {
  return Object.assign(new Error(message), code ? { code } : {});
}

describe('AGE errors', () => {
  it.each([
    [failure('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'), true],
    [failure('deadlock detected', '40P01'), true],
    [failure('too many connections', '53300'), true],
    [failure('the database system is starting up', '57P03'), true],
    [failure('Connection terminated unexpectedly'), true],
    [failure('timeout exceeded when trying to connect'), true],
    [failure('graph "engram" does not exist', '3F000'), false],
    [failure('syntax error at or near "MATCH"', '42601'), false],
  ])('%s -> retryable %s', (error, retryable) => {
    expect(isRetryableAgeError(error)).toBe(retryable);
    const wrapped = wrapAgeError(error, 'list');
    expect(AdapterCallError.isInstance(wrapped)).toBe(true);
    expect((wrapped as AdapterCallError).isRetryable).toBe(retryable);
    expect(wrapped.source).toBe('age');
    expect(wrapped.cause).toBe(error);
  });

  it('passes Engram errors through', () => {
    const error = new InvalidArgumentError({ source: 'age', message: 'no' });
    expect(wrapAgeError(error, 'list')).toBe(error);
  });
});
