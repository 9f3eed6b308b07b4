import { orderedHex } from '@engram/adapter-kit';
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
  azureAiSearchFilterFields,
  maxFilterStringLength,
  odataString,
  scalarToken,
  translateAzureAiSearchFilter,
} from './azure-ai-search-filter.js';
import { odataFilterSelects } from './azure-ai-search-model.test-support.js';

// The translated OData is evaluated by a model of Azure AI Search's filter language (not the
// service) on the fields this adapter stores, and compared with core's matchesFilter.
function selects(filter: FilterExpression, metadata: Record<string, JsonValue>): boolean {
  const translated = translateAzureAiSearchFilter(filter);
  if (typeof translated === 'boolean') return translated;
  return odataFilterSelects(translated, { ...azureAiSearchFilterFields(metadata) });
}

describe('translateAzureAiSearchFilter', () => {
  it.each(portableFilterCases)('%s', (_name, filter, expected) => {
    expect(referenceIds(filter)).toEqual(expected);
    expect(selectedIds((metadata) => selects(filter, metadata))).toEqual(expected);
  });

  it('projects metadata onto typed tokens, present paths, numbers and order-encoded strings', () => {
    expect(
      azureAiSearchFilterFields({
        n: 1,
        s: "it's",
        b: false,
        tags: ['x'],
        nested: { c: 2.5 },
        gone: null,
        'a.b': 1,
      }),
    ).toEqual({
      filterTokens: ['n=n:1', "s=s:it's", 'b=b:false', 'nested.c=n:2.5'],
      filterPaths: ['n', 's', 'b', 'tags', 'nested', 'nested.c'],
      filterNumbers: [
        { path: 'n', value: 1 },
        { path: 'nested.c', value: 2.5 },
      ],
      filterStrings: [{ path: 's', value: orderedHex("it's") }],
    });
    expect(scalarToken(1)).not.toBe(scalarToken('1'));
    expect(scalarToken(true)).not.toBe(scalarToken('true'));
    expect(scalarToken('x'.repeat(maxFilterStringLength + 1))).toMatch(/^h:[0-9a-f]{64}$/);
  });

  it('builds the OData shapes of the reference: any() over collections, not, quoted literals', () => {
    expect(translateAzureAiSearchFilter({ op: 'eq', field: 'nested.city', value: "O'Hare" })).toBe(
      "filterTokens/any(t: t eq 'nested.city=s:O''Hare')",
    );
    expect(translateAzureAiSearchFilter({ op: 'nin', field: 'k', values: ['a', 1] })).toBe(
      "not (filterTokens/any(t: t eq 'k=s:a' or t eq 'k=n:1'))",
    );
    expect(translateAzureAiSearchFilter({ op: 'gte', field: 'age', value: 30 })).toBe(
      "filterNumbers/any(x: x/path eq 'age' and x/value ge 30)",
    );
    expect(translateAzureAiSearchFilter({ op: 'lt', field: 's', value: 'b' })).toBe(
      `filterStrings/any(x: x/path eq 's' and x/value lt ${odataString(orderedHex('b'))})`,
    );
    expect(translateAzureAiSearchFilter({ op: 'exists', field: 'a' })).toBe(
      "filterPaths/any(p: p eq 'a')",
    );
    expect(translateAzureAiSearchFilter({ op: 'in', field: 'k', values: [] })).toBe(false);
    expect(translateAzureAiSearchFilter({ op: 'nin', field: 'k', values: [] })).toBe(true);
  });

  it('orders strings by UTF-16 code units whatever collation compares the hex', () => {
    const values = ['', 'a', 'ab', 'B', '\uffff', '😀', '東京', 'a\u0000'];
    const sorted = [...values].sort();
    expect([...values].map(orderedHex).sort()).toEqual(sorted.map(orderedHex));
  });

  it('declares contains unsupported, and string ranges past the stored prefix', () => {
    expect(() =>
      translateAzureAiSearchFilter({ op: 'contains', field: 'tags', value: 'x' }),
    ).toThrow(UnsupportedFunctionalityError);
    expect(() =>
      translateAzureAiSearchFilter({
        op: 'gt',
        field: 's',
        value: 'x'.repeat(maxFilterStringLength),
      }),
    ).toThrow(UnsupportedFunctionalityError);
  });

  it('compares long stored strings exactly against shorter bounds', () => {
    const long = `m${'z'.repeat(maxFilterStringLength + 10)}`;
    const documents = { long: { s: long }, short: { s: 'm' } };
    for (const bound of ['m', 'mz', 'n', 'l']) {
      for (const op of ['gt', 'gte', 'lt', 'lte'] as const) {
        const filter: FilterExpression = { op, field: 's', value: bound };
        expect(selectedIds((metadata) => selects(filter, metadata), documents)).toEqual(
          referenceIds(filter, documents),
        );
      }
    }
    const eq: FilterExpression = { op: 'eq', field: 's', value: long };
    expect(selectedIds((metadata) => selects(eq, metadata), documents)).toEqual(['long']);
  });

  it('random nested filters select what matchesFilter selects (against the model)', () => {
    for (const expression of randomPortableFilters(400)) {
      for (const metadata of Object.values(portableFilterDocuments)) {
        expect(selects(expression, metadata), JSON.stringify(expression)).toBe(
          matchesFilter(expression, metadata),
        );
      }
    }
  });
});
