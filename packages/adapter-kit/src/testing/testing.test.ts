import { describe, expect, it } from 'vitest';
import {
  portableContainsCases,
  portableFilterCases,
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
