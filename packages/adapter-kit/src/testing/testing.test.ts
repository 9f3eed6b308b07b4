import { filterOperators, filterOperatorsUsed, validateFilter } from '@engram/core';
import { describe, expect, it } from 'vitest';
import {
  portableContainsCases,
  portableFilterCases,
  randomPortableFilters,
  referenceIds,
  valuesAlongPath,
} from './index.js';

describe('portable filter test data', () => {
  it.each([...portableFilterCases, ...portableContainsCases])(
    '%s selects what matchesFilter selects',
    (_name, filter, expected) => {
      expect(referenceIds(filter)).toEqual(expected);
    },
  );

  it('walks paths through arrays like document stores do', () => {
    const document = { a: [{ b: 1 }, { b: [2, 3] }], c: [4] };
    expect(valuesAlongPath(document, 'a.b')).toEqual([1, 2, 3]);
    expect(valuesAlongPath(document, 'c', { keepArrays: true })).toEqual([[4], 4]);
    expect(valuesAlongPath(document, 'missing')).toEqual([]);
  });
});

describe('randomPortableFilters', () => {
  it('is deterministic per seed, valid, and covers every operator but contains', () => {
    const filters = randomPortableFilters(400);
    expect(randomPortableFilters(400)).toEqual(filters);
    expect(randomPortableFilters(20, 2)).not.toEqual(randomPortableFilters(20, 1));
    const operators = new Set<string>();
    for (const filter of filters) {
      expect(validateFilter(filter)).toEqual(filter);
      for (const operator of filterOperatorsUsed(filter)) operators.add(operator);
    }
    expect([...operators].sort()).toEqual(
      filterOperators.filter((operator) => operator !== 'contains').sort(),
    );
    const selected = filters.map((filter) => referenceIds(filter).length);
    expect(selected.some((count) => count === 0)).toBe(true);
    expect(selected.some((count) => count > 0 && count < 6)).toBe(true);
  });
});
