import { InvalidArgumentError } from '@engram/core';
import { describe, expect, it } from 'vitest';
import { parseDecimal, parseInteger, parseJsonObject, scopeFromFlags } from './parse-options.js';

function messageOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    return (error as Error).message;
  }
  throw new Error('expected an error');
}

describe('parseJsonObject', () => {
  it('accepts an object', () => {
    expect(parseJsonObject('--metadata', '{"topic":"food"}')).toEqual({ topic: 'food' });
  });

  it.each(['[1]', '"text"', '3', 'null', '{topic: food}'])(
    'rejects %s with an example',
    (value) => {
      expect(messageOf(() => parseJsonObject('--metadata', value))).toContain(
        `--metadata must be a JSON object, e.g. '{"topic":"food"}'`,
      );
    },
  );
});

describe('numbers', () => {
  it.each([
    ['10', 10],
    ['1', 1],
    ['1000', 1000],
  ])('parseInteger(%s)', (value, expected) => {
    expect(parseInteger('--limit', value, 1, 1000)).toBe(expected);
  });

  it.each(['0', '1001', '2.5', 'ten', ''])('parseInteger rejects %s', (value) => {
    expect(messageOf(() => parseInteger('--limit', value, 1, 1000))).toContain(
      '--limit must be a whole number from 1 to 1000',
    );
  });

  it('parseDecimal', () => {
    expect(parseDecimal('--threshold', '0.3')).toBe(0.3);
    expect(messageOf(() => parseDecimal('--threshold', 'high'))).toContain(
      '--threshold must be a number',
    );
  });
});

describe('scopeFromFlags', () => {
  it('maps flags to scope fields', () => {
    expect(scopeFromFlags({ user: 'alice', run: 'r1' }, { required: true })).toEqual({
      userId: 'alice',
      runId: 'r1',
    });
  });

  it('demands a scope when required', () => {
    expect(messageOf(() => scopeFromFlags({}, { required: true }))).toContain('--user');
    expect(scopeFromFlags({}, { required: false })).toEqual({});
  });

  it('rejects blank ids', () => {
    expect(messageOf(() => scopeFromFlags({ user: ' ' }, { required: true }))).toContain('userId');
  });
});
