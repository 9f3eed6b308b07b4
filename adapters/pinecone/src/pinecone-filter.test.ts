import {
  portableFilterCases,
  portableFilterDocuments,
  portableFilterSampleBounds,
  portableFilterSampleFields,
  portableFilterSampleScalars,
  referenceIds,
  selectedIds,
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
  type PineconeFilter,
  pineconeFilterFields,
  scalarToken,
  stringOrderChunks,
  stringOrderKey,
  translatePineconeFilter,
} from './pinecone-filter.js';

// A model of Pinecone's documented metadata filter language, NOT a Pinecone server: flat keys;
// $eq/$in on a list of strings match when an element does; $gt..$lte compare numbers only;
// $exists tests the key. Pinecone's documentation does not say whether $ne and $nin match
// records without the key, so the model runs both ways and the translation must not care.
type Semantics = { negationsMatchMissing: boolean };

function equalsAny(stored: unknown, operand: unknown): boolean {
  return Array.isArray(stored) ? stored.includes(operand) : stored === operand;
}

function modelMatches(
  filter: PineconeFilter,
  metadata: Record<string, unknown>,
  semantics: Semantics,
): boolean {
  return Object.entries(filter).every(([key, condition]) => {
    if (key === '$and')
      return (condition as PineconeFilter[]).every((child) =>
        modelMatches(child, metadata, semantics),
      );
    if (key === '$or')
      return (condition as PineconeFilter[]).some((child) =>
        modelMatches(child, metadata, semantics),
      );
    const stored = metadata[key];
    return Object.entries(condition as Record<string, unknown>).every(([operator, operand]) => {
      if (operator === '$exists') return (stored !== undefined) === operand;
      if (stored === undefined) {
        return (operator === '$ne' || operator === '$nin') && semantics.negationsMatchMissing;
      }
      switch (operator) {
        case '$eq':
          return equalsAny(stored, operand);
        case '$ne':
          return !equalsAny(stored, operand);
        case '$in':
          return (operand as unknown[]).some((option) => equalsAny(stored, option));
        case '$nin':
          return !(operand as unknown[]).some((option) => equalsAny(stored, option));
        case '$gt':
          return typeof stored === 'number' && stored > (operand as number);
        case '$gte':
          return typeof stored === 'number' && stored >= (operand as number);
        case '$lt':
          return typeof stored === 'number' && stored < (operand as number);
        case '$lte':
          return typeof stored === 'number' && stored <= (operand as number);
        default:
          throw new Error(`model: unknown operator ${operator}`);
      }
    });
  });
}

function selects(
  filter: FilterExpression,
  metadata: Record<string, JsonValue>,
  semantics: Semantics,
): boolean {
  const translated = translatePineconeFilter(filter);
  if (typeof translated === 'boolean') return translated;
  return modelMatches(translated, pineconeFilterFields(metadata), semantics);
}

const semanticsVariants: Semantics[] = [
  { negationsMatchMissing: true },
  { negationsMatchMissing: false },
];

describe('translatePineconeFilter', () => {
  it.each(portableFilterCases)('%s', (_name, filter, expected) => {
    expect(referenceIds(filter)).toEqual(expected);
    for (const semantics of semanticsVariants) {
      const selected = selectedIds((metadata) => selects(filter, metadata, semantics));
      expect(selected, JSON.stringify(semantics)).toEqual(expected);
    }
  });

  it('flattens metadata into typed tokens, numbers, string order keys and present paths', () => {
    expect(
      pineconeFilterFields({
        n: 1,
        s: 'ab',
        b: false,
        tags: ['x'],
        nested: { c: 2.5 },
        gone: null,
        'a.b': 1,
      }),
    ).toEqual({
      '_v.n': 'n:1',
      '_n.n': 1,
      '_v.s': 's:ab',
      '_s.s.0': stringOrderKey('ab')[0],
      '_v.b': 'b:false',
      '_v.nested.c': 'n:2.5',
      '_n.nested.c': 2.5,
      _p: ['n', 's', 'b', 'tags', 'nested', 'nested.c'],
    });
    expect(pineconeFilterFields({})).toEqual({});
    expect(scalarToken(1)).not.toBe(scalarToken('1'));
    expect(scalarToken(true)).not.toBe(scalarToken('true'));
  });

  it('builds the documented filter shapes, with no $not', () => {
    expect(translatePineconeFilter({ op: 'eq', field: 'nested.city', value: 'Paris' })).toEqual({
      '_v.nested.city': { $eq: 's:Paris' },
    });
    expect(translatePineconeFilter({ op: 'ne', field: 'k', value: 3 })).toEqual({
      $or: [{ '_v.k': { $exists: false } }, { '_v.k': { $ne: 'n:3' } }],
    });
    expect(translatePineconeFilter({ op: 'in', field: 'k', values: ['a', 1, true] })).toEqual({
      '_v.k': { $in: ['s:a', 'n:1', 'b:true'] },
    });
    expect(translatePineconeFilter({ op: 'gte', field: 'age', value: 30 })).toEqual({
      '_n.age': { $gte: 30 },
    });
    expect(
      translatePineconeFilter({ op: 'not', filter: { op: 'gte', field: 'age', value: 30 } }),
    ).toEqual({
      $or: [{ '_n.age': { $exists: false } }, { '_n.age': { $lt: 30 } }],
    });
    expect(translatePineconeFilter({ op: 'exists', field: 'a.b' })).toEqual({
      _p: { $in: ['a.b'] },
    });
    expect(translatePineconeFilter({ op: 'in', field: 'k', values: [] })).toBe(false);
    expect(translatePineconeFilter({ op: 'nin', field: 'k', values: [] })).toBe(true);
    const serialized = JSON.stringify(
      translatePineconeFilter({
        op: 'not',
        filter: {
          op: 'or',
          filters: [
            { op: 'exists', field: 'x' },
            { op: 'lt', field: 's', value: 'abc' },
          ],
        },
      }),
    );
    expect(serialized).not.toContain('$not');
  });

  it('declares contains unsupported, and string comparisons past the stored order keys', () => {
    expect(() => translatePineconeFilter({ op: 'contains', field: 'tags', value: 'x' })).toThrow(
      UnsupportedFunctionalityError,
    );
    const long = 'x'.repeat(3 * stringOrderChunks);
    expect(() => translatePineconeFilter({ op: 'lt', field: 's', value: long })).toThrow(
      UnsupportedFunctionalityError,
    );
  });

  it('random nested filters select what matchesFilter selects (against the model, both $ne readings)', () => {
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
          for (const semantics of semanticsVariants) {
            expect(selects(expression, metadata, semantics)).toBe(
              matchesFilter(expression, metadata),
            );
          }
        }
      }),
      { numRuns: 400 },
    );
  });
});
