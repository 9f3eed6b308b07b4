import {
  type FilterExpression,
  type JsonValue,
  matchesFilter,
  UnsupportedFunctionalityError,
} from '@engram/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type QdrantCondition,
  qdrantFilterFields,
  stringOrderChunks,
  stringOrderKey,
  translateQdrantFilter,
} from './qdrant-filter.js';

// A model of Qdrant's documented condition semantics, NOT a Qdrant server: `match.value` and
// `match.any` compare strings, integers and booleans by type and value, `range` compares
// numbers only, a condition on an array matches when any element does, a missing key matches
// nothing, `must` is all, `should` is any, `must_not` is none. It lets the table below check
// what the translated filters select, not only their shape.
function valuesAt(payload: unknown, key: string): unknown[] {
  let current: unknown[] = [payload];
  for (const part of key.split('.')) {
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
  return current.flatMap((value) => (Array.isArray(value) ? value : [value]));
}

function sameValue(left: unknown, right: unknown): boolean {
  if (typeof left !== typeof right) return false;
  if (typeof left === 'number' && !Number.isInteger(left)) return false;
  return left === right;
}

function modelMatches(condition: QdrantCondition, payload: unknown): boolean {
  const node = condition as Record<string, unknown>;
  if ('key' in node) {
    const values = valuesAt(payload, node.key as string);
    const match = node.match as { value?: unknown; any?: unknown[] } | undefined;
    if (match && 'value' in match) return values.some((value) => sameValue(value, match.value));
    if (match && 'any' in match)
      return values.some((value) => match.any!.some((option) => sameValue(value, option)));
    const range = node.range as Partial<Record<'gt' | 'gte' | 'lt' | 'lte', number>>;
    return values.some(
      (value) =>
        typeof value === 'number' &&
        (range.gt === undefined || value > range.gt) &&
        (range.gte === undefined || value >= range.gte) &&
        (range.lt === undefined || value < range.lt) &&
        (range.lte === undefined || value <= range.lte),
    );
  }
  const filter = node as {
    must?: QdrantCondition[];
    should?: QdrantCondition[];
    must_not?: QdrantCondition[];
  };
  return (
    (filter.must ?? []).every((child) => modelMatches(child, payload)) &&
    (filter.should === undefined || filter.should.some((child) => modelMatches(child, payload))) &&
    (filter.must_not ?? []).every((child) => !modelMatches(child, payload))
  );
}

function selects(filter: FilterExpression, metadata: Record<string, JsonValue>): boolean {
  const translated = translateQdrantFilter(filter);
  if (typeof translated === 'boolean') return translated;
  return modelMatches(translated, { _filter: qdrantFilterFields(metadata) });
}

const documents: Record<string, Record<string, JsonValue>> = {
  a: { n: 1, s: 'apple', b: true, tags: ['red', 'x'], nested: { city: 'Paris', zip: 1001 } },
  b: { n: '1', s: 'Apple', b: false, tags: ['blue'], nested: { city: 'paris' }, mixed: null },
  c: { n: 2.5, s: 'apple pie', tags: [], nested: 'flat', mixed: 'true' },
  d: {},
  e: { n: true, s: 'red', tags: 'red', nested: { city: null }, list: [{ city: 'Paris' }] },
  f: { n: -3, s: '東京', mixed: 3, 'dash-key': 5, 'a.b': 1, deep: { a: { b: { c: 'z' } } } },
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

describe('translateQdrantFilter', () => {
  it.each(cases)('%s', (_name, filter, expected) => {
    const reference = Object.keys(documents).filter((id) => matchesFilter(filter, documents[id]!));
    expect(reference).toEqual(expected);
    const selected = Object.keys(documents).filter((id) => selects(filter, documents[id]!));
    expect(selected).toEqual(expected);
  });

  it('builds the documented condition shapes', () => {
    expect(translateQdrantFilter({ op: 'eq', field: 'nested.city', value: 'Paris' })).toEqual({
      key: '_filter.values.nested.city',
      match: { value: 'Paris' },
    });
    expect(translateQdrantFilter({ op: 'eq', field: 'price', value: 9.5 })).toEqual({
      key: '_filter.values.price',
      range: { gte: 9.5, lte: 9.5 },
    });
    expect(translateQdrantFilter({ op: 'ne', field: 'k', value: 3 })).toEqual({
      must_not: [{ key: '_filter.values.k', match: { value: 3 } }],
    });
    expect(translateQdrantFilter({ op: 'in', field: 'k', values: ['a', 1, 'b', 2, true] })).toEqual(
      {
        should: [
          { key: '_filter.values.k', match: { any: ['a', 'b'] } },
          { key: '_filter.values.k', match: { any: [1, 2] } },
          { key: '_filter.values.k', match: { value: true } },
        ],
      },
    );
    expect(translateQdrantFilter({ op: 'gte', field: 'age', value: 30 })).toEqual({
      key: '_filter.values.age',
      range: { gte: 30 },
    });
    expect(translateQdrantFilter({ op: 'exists', field: 'a.b' })).toEqual({
      key: '_filter.paths',
      match: { value: 'a.b' },
    });
    expect(translateQdrantFilter({ op: 'in', field: 'k', values: [] })).toBe(false);
    expect(translateQdrantFilter({ op: 'nin', field: 'k', values: [] })).toBe(true);
    const [first, second] = stringOrderKey('abcd');
    expect(translateQdrantFilter({ op: 'gt', field: 's', value: 'abcd' })).toEqual({
      should: [
        { key: '_filter.strings.s.c0', range: { gt: first } },
        {
          must: [
            { key: '_filter.strings.s.c0', match: { value: first } },
            { key: '_filter.strings.s.c1', range: { gt: second } },
          ],
        },
      ],
    });
  });

  it('declares contains unsupported, and string comparisons past the stored order keys', () => {
    expect(() => translateQdrantFilter({ op: 'contains', field: 'tags', value: 'x' })).toThrow(
      UnsupportedFunctionalityError,
    );
    const long = 'x'.repeat(3 * stringOrderChunks);
    expect(() => translateQdrantFilter({ op: 'gt', field: 's', value: long })).toThrow(
      UnsupportedFunctionalityError,
    );
    expect(() =>
      translateQdrantFilter({ op: 'gt', field: 's', value: long.slice(1) }),
    ).not.toThrow();
  });

  it('string order keys keep JavaScript string order', () => {
    const text = fc.string({ unit: 'binary', maxLength: 12 });
    fc.assert(
      fc.property(text, text, (left, right) => {
        const a = stringOrderKey(left);
        const b = stringOrderKey(right);
        let order = 0;
        for (let index = 0; index < Math.max(a.length, b.length) && order === 0; index++) {
          order = Math.sign((a[index] ?? 0) - (b[index] ?? 0));
        }
        expect(order).toBe(left < right ? -1 : left > right ? 1 : 0);
        for (const value of a) expect(Number.isSafeInteger(value)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('random nested filters select what matchesFilter selects (against the model)', () => {
    const scalar = fc.oneof(
      fc.constantFrom(-3, 0, 1, 2.5, 1001, 'apple', 'Apple', 'Paris', 'red', '1', '', '東京'),
      fc.boolean(),
    );
    const field = fc.constantFrom(
      'n',
      's',
      'b',
      'tags',
      'nested.city',
      'nested.zip',
      'mixed',
      'missing',
    );
    const leaf: fc.Arbitrary<FilterExpression> = fc.oneof(
      fc.record({ op: fc.constantFrom('eq' as const, 'ne' as const), field, value: scalar }),
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
