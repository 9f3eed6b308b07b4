import { describe, expect, it } from 'vitest';
import {
  AdapterCallError,
  DimensionMismatchError,
  EngramError,
  InvalidArgumentError,
  NotFoundError,
} from './errors.js';

describe('errors', () => {
  it('keep the message as written, prefix it on demand, keep the cause and are recognised by marker', () => {
    const cause = new Error('socket hang up');
    const error = new AdapterCallError({
      source: 'qdrant',
      message: 'upsert failed',
      cause,
      isRetryable: true,
    });
    expect(error.message).toBe('upsert failed');
    expect(error.prefixedMessage).toBe('[engram/qdrant] upsert failed');
    expect(String(error)).toBe('AdapterCallError: [engram/qdrant] upsert failed');
    expect(error.cause).toBe(cause);
    expect(error.isRetryable).toBe(true);
    expect(error.code).toBe('adapter_call');
    expect(AdapterCallError.isInstance(error)).toBe(true);
    expect(EngramError.isInstance(error)).toBe(true);
    expect(InvalidArgumentError.isInstance(error)).toBe(false);
  });

  it('are recognised across copies of the package (by Symbol.for marker, not by class)', () => {
    const foreign = Object.assign(new Error('x'), {
      [Symbol.for('engram.error.engram')]: true,
      [Symbol.for('engram.error.not_found')]: true,
    });
    expect(NotFoundError.isInstance(foreign)).toBe(true);
    expect(EngramError.isInstance(new Error('plain'))).toBe(false);
    expect(EngramError.isInstance(null)).toBe(false);
  });

  it('carry dimensions', () => {
    const error = new DimensionMismatchError({ message: 'bad', expected: 384, actual: 1536 });
    expect([error.expected, error.actual, error.name]).toEqual([
      384,
      1536,
      'DimensionMismatchError',
    ]);
  });
});
