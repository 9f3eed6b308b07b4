import {
  portableFilterCases,
  portableFilterDocuments,
  portableFilterSampleBounds,
  portableFilterSampleFields,
  portableFilterSampleScalars,
  referenceIds,
  selectedIds,
  valuesAlongPath,
} from '@engram/adapter-kit/testing';
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
function sameValue(left: unknown, right: unknown): boolean {
  if (typeof left !== typeof right) return false;
  if (typeof left === 'number' && !Number.isInteger(left)) return false;
  return left === right;
}

function modelMatches(condition: QdrantCondition, payload: unknown): boolean {
  const node = condition as Record<string, unknown>;
  if ('key' in node) {
    const values = valuesAlongPath(payload, node.key as string);
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

describe('translateQdrantFilter', () => {
  it.each(portableFilterCases)('%s', (_name, filter, expected) => {
    expect(referenceIds(filter)).toEqual(expected);
    expect(selectedIds((metadata) => selects(filter, metadata))).toEqual(expected);
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
    const scalar = fc.oneof(fc.constantFrom(...portableFilterSampleScalars), fc.boolean());
    const field = fc.constantFrom(...portableFilterSampleFields);
    const leaf: fc.Arbitrary<FilterExpression> = fc.oneof(
      fc.record({ op: fc.constantFrom('eq' as const, 'ne' as const), field, value: scalar }),
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
