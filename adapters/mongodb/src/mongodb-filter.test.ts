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
function valuesAt(document: unknown, path: string): unknown[] {
  let current: unknown[] = [document];
  for (const part of path.split('.')) {
    const next: unknown[] = [];
    for (const value of current) {
      const items = Array.isArray(value) ? value : [value];
      for (const item of items) {
        if (item != null && typeof item === 'object' && !Array.isArray(item) && part in item) {
          next.push((item as Record<string, unknown>)[part]);
        }
      }
    }
    current = next;
  }
  return current.flatMap((value) => (Array.isArray(value) ? [value, ...value] : [value]));
}

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
    const values = valuesAt(document, key);
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

const documents: Record<string, Record<string, JsonValue>> = {
  a: {
    n: 1,
    s: 'apple',
    b: true,
    tags: ['red', 'x'],
    nums: [2, 'x'],
    nested: { city: 'Paris', zip: 1001 },
  },
  b: { n: '1', s: 'Apple', b: false, tags: ['blue'], nested: { city: 'paris' }, mixed: null },
  c: { n: 2.5, s: 'apple pie', tags: [], nested: 'flat', mixed: 'true' },
  d: {},
  e: {
    n: true,
    s: 'red',
    tags: 'red',
    w: 'abc',
    nested: { city: null },
    list: [{ city: 'Paris' }],
  },
  f: {
    n: -3,
    s: '東京',
    w: 'xa.c*y',
    nums: '2',
    mixed: 3,
    'dash-key': 5,
    'a.b': 1,
    deep: { a: { b: { c: 'z' } } },
  },
};

const cases: [name: string, filter: FilterExpression, expected: string[]][] = [
  ['eq integer', { op: 'eq', field: 'n', value: 1 }, ['a']],
  ['eq numeric string is not the number', { op: 'eq', field: 'n', value: '1' }, ['b']],
  ['eq true is not 1', { op: 'eq', field: 'n', value: true }, ['e']],
  ['eq float', { op: 'eq', field: 'n', value: 2.5 }, ['c']],
  ['eq is case-sensitive', { op: 'eq', field: 's', value: 'apple' }, ['a']],
  ['eq matches a string, never an array element', { op: 'eq', field: 'tags', value: 'red' }, ['e']],
  ['eq nested', { op: 'eq', field: 'nested.city', value: 'Paris' }, ['a']],
  ['eq does not reach into arrays', { op: 'eq', field: 'list.city', value: 'Paris' }, []],
  ['eq deep', { op: 'eq', field: 'deep.a.b.c', value: 'z' }, ['f']],
  ['eq key with a dash', { op: 'eq', field: 'dash-key', value: 5 }, ['f']],
  ['eq does not see a dotted key', { op: 'eq', field: 'a.b', value: 1 }, []],
  ['ne matches missing fields', { op: 'ne', field: 'n', value: 1 }, ['b', 'c', 'd', 'e', 'f']],
  ['ne on an array field', { op: 'ne', field: 'tags', value: 'red' }, ['a', 'b', 'c', 'd', 'f']],
  ['gt number ignores strings', { op: 'gt', field: 'n', value: 0 }, ['a', 'c']],
  ['gte number', { op: 'gte', field: 'n', value: 1 }, ['a', 'c']],
  ['lt number', { op: 'lt', field: 'n', value: 1 }, ['f']],
  ['lte float', { op: 'lte', field: 'n', value: 2.5 }, ['a', 'c', 'f']],
  ['gt string', { op: 'gt', field: 's', value: 'apple' }, ['c', 'e', 'f']],
  ['gte string', { op: 'gte', field: 's', value: 'apple' }, ['a', 'c', 'e', 'f']],
  ['lt string ignores numbers', { op: 'lt', field: 'n', value: 'z' }, ['b']],
  ['lte string, case order', { op: 'lte', field: 's', value: 'Apple' }, ['b']],
  ['lt empty string', { op: 'lt', field: 's', value: '' }, []],
  [
    'gte empty string is every string',
    { op: 'gte', field: 's', value: '' },
    ['a', 'b', 'c', 'e', 'f'],
  ],
  ['in mixed types', { op: 'in', field: 'n', values: ['1', 2.5, -3] }, ['b', 'c', 'f']],
  ['in boolean', { op: 'in', field: 'n', values: [true] }, ['e']],
  ['in empty is nothing', { op: 'in', field: 'n', values: [] }, []],
  ['nin matches missing', { op: 'nin', field: 'n', values: [1, true] }, ['b', 'c', 'd', 'f']],
  [
    'nin empty is everything',
    { op: 'nin', field: 'n', values: [] },
    ['a', 'b', 'c', 'd', 'e', 'f'],
  ],
  ['contains array element', { op: 'contains', field: 'tags', value: 'red' }, ['a', 'e']],
  [
    'contains substring, case-sensitive',
    { op: 'contains', field: 's', value: 'pp' },
    ['a', 'b', 'c'],
  ],
  [
    'contains substring with regex characters',
    { op: 'contains', field: 'w', value: 'a.c*' },
    ['f'],
  ],
  ['contains number only in arrays', { op: 'contains', field: 'nums', value: 2 }, ['a']],
  ['contains number never in a string', { op: 'contains', field: 's', value: 1 }, []],
  ['contains empty string is any string', { op: 'contains', field: 'w', value: '' }, ['e', 'f']],
  ['exists', { op: 'exists', field: 'tags' }, ['a', 'b', 'c', 'e']],
  ['exists ignores null', { op: 'exists', field: 'mixed' }, ['c', 'f']],
  ['exists object', { op: 'exists', field: 'nested' }, ['a', 'b', 'c', 'e']],
  ['exists nested null', { op: 'exists', field: 'nested.city' }, ['a', 'b']],
  ['not exists', { op: 'not', filter: { op: 'exists', field: 'b' } }, ['c', 'd', 'e', 'f']],
  [
    'and',
    {
      op: 'and',
      filters: [
        { op: 'exists', field: 'tags' },
        { op: 'ne', field: 'b', value: false },
      ],
    },
    ['a', 'c', 'e'],
  ],
  [
    'or',
    {
      op: 'or',
      filters: [
        { op: 'eq', field: 'n', value: 1 },
        { op: 'eq', field: 'nested.city', value: 'paris' },
      ],
    },
    ['a', 'b'],
  ],
  [
    'not of or with an empty in',
    {
      op: 'not',
      filter: {
        op: 'or',
        filters: [
          { op: 'in', field: 'n', values: [] },
          { op: 'gt', field: 'n', value: 0 },
        ],
      },
    },
    ['b', 'd', 'e', 'f'],
  ],
];

describe('translateMongoDBFilter', () => {
  it.each(cases)('%s', (_name, filter, expected) => {
    const reference = Object.keys(documents).filter((id) => matchesFilter(filter, documents[id]!));
    expect(reference).toEqual(expected);
    const selected = Object.keys(documents).filter((id) => selects(filter, documents[id]!));
    expect(selected).toEqual(expected);
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
    const scalar = fc.oneof(
      fc.constantFrom(
        -3,
        0,
        1,
        2,
        2.5,
        1001,
        'apple',
        'Apple',
        'Paris',
        'red',
        '1',
        '',
        '東京',
        'a.c*',
      ),
      fc.boolean(),
    );
    const field = fc.constantFrom(
      'n',
      's',
      'b',
      'w',
      'tags',
      'nums',
      'nested.city',
      'mixed',
      'missing',
    );
    const leaf: fc.Arbitrary<FilterExpression> = fc.oneof(
      fc.record({
        op: fc.constantFrom('eq' as const, 'ne' as const, 'contains' as const),
        field,
        value: scalar,
      }),
      fc.record({
        op: fc.constantFrom('gt' as const, 'gte' as const, 'lt' as const, 'lte' as const),
        field,
        value: fc.constantFrom(-3, 0, 1, 2.5, 1001, 'apple', 'Apple', 'b', '', 'Paris', '東'),
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
        for (const metadata of Object.values(documents)) {
          expect(selects(expression, metadata)).toBe(matchesFilter(expression, metadata));
        }
      }),
      { numRuns: 400 },
    );
  });
});
