import type { FilterExpression } from '@engram/core';
import { describe, expect, it } from 'vitest';
import { translateCassandraFilter } from './cassandra-filter.js';

describe('translateCassandraFilter', () => {
  it.each<[FilterExpression, unknown]>([
    // [{ op: 'eq', field: 'category', value: 'food' }, <the native filter>],
  ])('%j', (filter, expected) => {
    expect(translateCassandraFilter(filter)).toEqual(expected);
  });

  it('rejects what it cannot translate exactly', () => {
    expect(() => translateCassandraFilter({ op: 'eq', field: 'a', value: 1 })).toThrow(
      'not translated',
    );
  });
});
