import { AdapterCallError, InvalidArgumentError } from '@engram/core';
import { describe, expect, it } from 'vitest';
import { isRetryableKuzuError, toKuzuError } from './kuzu-errors.js';

describe('Kuzu errors', () => {
  it.each([
    ['IO exception: Could not set lock on file : /data/kuzu-graph', true],
    ['Buffer manager exception: Unable to allocate memory!', true],
    ['Binder exception: Table Entity does not exist.', false],
    ['Parser exception: Invalid input', false],
  ])('%s -> retryable %s', (message, retryable) => {
    const wrapped = toKuzuError(new Error(message), 'list');
    expect(AdapterCallError.isInstance(wrapped)).toBe(true);
    expect((wrapped as AdapterCallError).isRetryable).toBe(retryable);
    expect(isRetryableKuzuError(new Error(message))).toBe(retryable);
    expect(wrapped.prefixedMessage).toBe(`[engram/kuzu] list failed: ${message}`);
    expect(wrapped.cause).toBeInstanceOf(Error);
  });

  it('passes Engram errors through', () => {
    const error = new InvalidArgumentError({ source: 'kuzu', message: 'no' });
    expect(toKuzuError(error, 'list')).toBe(error);
  });
});
