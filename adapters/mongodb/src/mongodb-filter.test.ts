import {
  portableContainsCases,
  portableFilterCases,
  portableFilterDocuments,
  portableFilterSampleBounds,
  portableFilterSampleFields,
  portableFilterSampleScalars,
  referenceIds,
  selectedIds,
  valuesAlongPath,
} from '@engram/adapter-kit/testing';
import { type FilterExpression, type JsonValue, matchesFilter } from '@engram/core';
import fc from 'fast-check';
import type { Document } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { literalRegex, mongoDBFilterFields, translateMongoDBFilter } from './mongodb-filter.js';

// A model of MQL's documented query semantics, NOT a MongoDB server: a condition on a path
// matches when the value there, or any element of an array there, satisfies it; comparisons
// ($eq, $gt, ...) only hold between values of the same BSON type class (numbers with numbers);
// $ne and $nin are the negations of $eq and $in, so they match missing fields; $regex only
// matches strings. It lets the table below check what the translated queries select.
function compare(left: unknown, right: unknown): number | undefined {
  if (typeof left !== typeof right || Array.isArray(left) || left === null) return undefined;
  if (typeof left === 'number' || typeof left === 'string' || typeof left === 'boolean') {
    return left < (right as typeof left) ? -1 : left > (right as typeof left) ? 1 : 0;
  }
  return undefined;
}

function operatorHolds(values: unknown[], operator: string, operand: unknown): boolean {
  switch (operator) {
    case '$eq':
      return values.some((value) => compare(value, operand) === 0);
    case '$ne':
      return !operatorHolds(values, '$eq', operand);
    case '$in':
      return (operand as unknown[]).some((option) => operatorHolds(values, '$eq', option));
    case '$nin':
      return !operatorHolds(values, '$in', operand);
    case '$gt':
      return values.some((value) => (compare(value, operand) ?? 0) > 0);
    case '$gte':
      return values.some(
        (value) => compare(value, operand) !== undefined && compare(value, operand)! >= 0,
      );
    case '$lt':
      return values.some((value) => (compare(value, operand) ?? 0) < 0);
    case '$lte':
      return values.some(
        (value) => compare(value, operand) !== undefined && compare(value, operand)! <= 0,
      );
    case '$regex':
      return values.some(
        (value) => typeof value === 'string' && new RegExp(operand as string, 'u').test(value),
      );
    default:
      throw new Error(`model: unknown operator ${operator}`);
  }
}

function modelMatches(query: Document, document: unknown): boolean {
  return Object.entries(query).every(([key, condition]) => {
    if (key === '$and')
      return (condition as Document[]).every((child) => modelMatches(child, document));
    if (key === '$or')
      return (condition as Document[]).some((child) => modelMatches(child, document));
    if (key === '$nor')
      return !(condition as Document[]).some((child) => modelMatches(child, document));
    const values = valuesAlongPath(document, key, { keepArrays: true });
    return Object.entries(condition as Document).every(([operator, operand]) =>
      operatorHolds(values, operator, operand),
    );
  });
}

function selects(filter: FilterExpression, metadata: Record<string, JsonValue>): boolean {
  const translated = translateMongoDBFilter(filter);
  if (typeof translated === 'boolean') return translated;
  return modelMatches(translated, { _filter: mongoDBFilterFields(metadata) });
}

describe('translateMongoDBFilter', () => {
  it.each([...portableFilterCases, ...portableContainsCases])('%s', (_name, filter, expected) => {
    expect(referenceIds(filter)).toEqual(expected);
    expect(selectedIds((metadata) => selects(filter, metadata))).toEqual(expected);
  });

  it('builds the documented MQL shapes', () => {
    expect(translateMongoDBFilter({ op: 'eq', field: 'nested.city', value: 'Paris' })).toEqual({
      '_filter.values.nested.city': { $eq: 'Paris' },
    });
    expect(translateMongoDBFilter({ op: 'nin', field: 'k', values: [1, 'a'] })).toEqual({
      '_filter.values.k': { $nin: [1, 'a'] },
    });
    expect(translateMongoDBFilter({ op: 'gte', field: 'age', value: 30 })).toEqual({
      '_filter.values.age': { $gte: 30 },
    });
    expect(translateMongoDBFilter({ op: 'contains', field: 'tags', value: 'a+b' })).toEqual({
      $or: [
        { '_filter.arrays.tags': { $eq: 'a+b' } },
        { '_filter.values.tags': { $regex: 'a\\+b' } },
      ],
    });
    expect(translateMongoDBFilter({ op: 'contains', field: 'tags', value: 3 })).toEqual({
      '_filter.arrays.tags': { $eq: 3 },
    });
    expect(translateMongoDBFilter({ op: 'exists', field: 'a.b' })).toEqual({
      '_filter.paths': { $eq: 'a.b' },
    });
    expect(translateMongoDBFilter({ op: 'not', filter: { op: 'exists', field: 'a' } })).toEqual({
      $nor: [{ '_filter.paths': { $eq: 'a' } }],
    });
    expect(translateMongoDBFilter({ op: 'in', field: 'k', values: [] })).toBe(false);
    expect(translateMongoDBFilter({ op: 'nin', field: 'k', values: [] })).toBe(true);
  });

  it('escapes every regular expression character', () => {
    const special = 'a.b*c+d?e^f$g{h}i(j)k|l[m]n\\o/p';
    expect(new RegExp(literalRegex(special), 'u').test(`x${special}y`)).toBe(true);
    expect(new RegExp(literalRegex('a.c'), 'u').test('abc')).toBe(false);
  });

  it('random nested filters select what matchesFilter selects (against the model)', () => {
    const scalar = fc.oneof(fc.constantFrom(...portableFilterSampleScalars), fc.boolean());
    const field = fc.constantFrom(...portableFilterSampleFields);
    const leaf: fc.Arbitrary<FilterExpression> = fc.oneof(
      fc.record({
        op: fc.constantFrom('eq' as const, 'ne' as const, 'contains' as const),
        field,
        value: scalar,
      }),
      fc.record({
        op: fc.constantFrom('gt' as const, 'gte' as const, 'lt' as const, 'lte' as const),
        field,
        value: fc.constantFrom(...portableFilterSampleBounds),
      }),
      fc.record({
        op: fc.constantFrom('in' as const, 'nin' as const),
        field,
        values: fc.array(scalar, { maxLength: 4 }),
      }),
      fc.record({ op: fc.constant('exists' as const), field }),
    );
    const filter = fc.letrec<{ node: FilterExpression }>((tie) => ({
      node: fc.oneof(
        { depthSize: 'small' },
        leaf,
        fc.record({ op: fc.constant('not' as const), filter: tie('node') }),
        fc.record({
          op: fc.constantFrom('and' as const, 'or' as const),
          filters: fc.array(tie('node'), { minLength: 1, maxLength: 3 }),
        }),
      ),
    })).node;
    fc.assert(
      fc.property(filter, (expression) => {
        for (const metadata of Object.values(portableFilterDocuments)) {
          expect(selects(expression, metadata)).toBe(matchesFilter(expression, metadata));
        }
      }),
      { numRuns: 400 },
    );
  });
});
