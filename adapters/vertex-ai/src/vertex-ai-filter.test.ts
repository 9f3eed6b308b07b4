import {
  portableFilterCases,
  portableFilterDocuments,
  randomPortableFilters,
  referenceIds,
  selectedIds,
} from '@engram/adapter-kit/testing';
import {
  type FilterExpression,
  type JsonValue,
  matchesFilter,
  UnsupportedFunctionalityError,
} from '@engram/core';
import { describe, expect, it } from 'vitest';
import {
  translateVertexAiFilter,
  vertexAiFilterRestricts,
  vertexAiScalarToken,
} from './vertex-ai-filter.js';
import { vertexAiFilterSelects } from './vertex-ai-model.test-support.js';

function selects(filter: FilterExpression, metadata: Record<string, JsonValue>): boolean {
  const translated = translateVertexAiFilter(filter);
  if (translated === false) return false;
  return vertexAiFilterSelects(translated, vertexAiFilterRestricts(metadata));
}

/** Whether `filter` needs what Vector Search cannot express: or, not, contains, a string range. */
function refused(filter: FilterExpression): boolean {
  switch (filter.op) {
    case 'and':
      return filter.filters.some(refused);
    case 'or':
    case 'not':
    case 'contains':
      return true;
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
      return typeof filter.value !== 'number';
    default:
      return false;
  }
}

describe('translateVertexAiFilter', () => {
  it.each(portableFilterCases)('%s', (_name, filter, expected) => {
    expect(referenceIds(filter)).toEqual(expected);
    if (refused(filter)) {
      expect(() => translateVertexAiFilter(filter)).toThrow(UnsupportedFunctionalityError);
      return;
    }
    expect(selectedIds((metadata) => selects(filter, metadata))).toEqual(expected);
  });

  it('writes typed tokens, presence tokens and numeric values per path', () => {
    const { restricts, numericRestricts } = vertexAiFilterRestricts({
      n: 1,
      nested: { c: true },
      tags: ['x'],
      gone: null,
    });
    expect(restricts).toContainEqual({
      namespace: 'v',
      allowList: ['*', '?n', 'n=n:1', '?nested', '?nested.c', 'nested.c=b:true', '?tags'],
    });
    expect(restricts).toContainEqual({ namespace: 'f/nested.c', allowList: ['b:true'] });
    expect(restricts).toContainEqual({ namespace: 'e/tags', allowList: ['1'] });
    expect(numericRestricts).toEqual([{ namespace: 'n/n', valueDouble: 1 }]);
    expect(vertexAiScalarToken('x'.repeat(49))).toMatch(/^h:[\w-]{22}$/);
    expect(vertexAiScalarToken(1)).not.toBe(vertexAiScalarToken('1'));
  });

  it('builds the documented shapes and refuses what restricts cannot say', () => {
    expect(
      translateVertexAiFilter({
        op: 'and',
        filters: [
          { op: 'in', field: 'city', values: ['Paris', 'Oslo'] },
          { op: 'ne', field: 'k', value: 3 },
          { op: 'gte', field: 'age', value: 30 },
        ],
      }),
    ).toEqual({
      restricts: [
        { namespace: 'f/city', allowList: ['s:Paris', 's:Oslo'] },
        { namespace: 'v', allowList: ['*'], denyList: ['k=n:3'] },
      ],
      numericRestricts: [{ namespace: 'n/age', valueDouble: 30, op: 'GREATER_EQUAL' }],
    });
    expect(translateVertexAiFilter({ op: 'in', field: 'k', values: [] })).toBe(false);
    expect(
      translateVertexAiFilter({
        op: 'and',
        filters: [
          { op: 'eq', field: 'k', value: 1 },
          { op: 'eq', field: 'k', value: 2 },
        ],
      }),
    ).toBe(false);
    for (const filter of [
      { op: 'or', filters: [{ op: 'eq', field: 'k', value: 1 }] },
      { op: 'not', filter: { op: 'eq', field: 'k', value: 1 } },
      { op: 'contains', field: 'tags', value: 'x' },
      { op: 'lt', field: 's', value: 'm' },
    ] as FilterExpression[]) {
      expect(() => translateVertexAiFilter(filter)).toThrow(UnsupportedFunctionalityError);
    }
  });

  it('random nested filters select what matchesFilter selects, or are refused (against the model)', () => {
    let translated = 0;
    for (const expression of randomPortableFilters(600)) {
      if (refused(expression)) {
        expect(() => translateVertexAiFilter(expression)).toThrow(UnsupportedFunctionalityError);
        continue;
      }
      translated += 1;
      for (const metadata of Object.values(portableFilterDocuments)) {
        expect(selects(expression, metadata), JSON.stringify(expression)).toBe(
          matchesFilter(expression, metadata),
        );
      }
    }
    expect(translated).toBeGreaterThan(50);
  });
});
