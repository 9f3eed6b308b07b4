import {
  type FilterExpression,
  filterOperators,
  UnsupportedFunctionalityError,
} from '@engram/core';
import { describe, expect, it } from 'vitest';
import {
  metadataNullPaths,
  milvusFilterOperators,
  milvusJsonPath,
  milvusStringLiteral,
  translateMilvusFilter,
} from './milvus-filter.js';

const cases: [string, FilterExpression, string][] = [
  ['eq string', { op: 'eq', field: 'kind', value: 'food' }, 'metadata["kind"] == "food"'],
  ['eq integer', { op: 'eq', field: 'n', value: 5 }, 'metadata["n"] == 5'],
  [
    'eq numeric-looking string stays a string',
    { op: 'eq', field: 'n', value: '5' },
    'metadata["n"] == "5"',
  ],
  ['eq float', { op: 'eq', field: 'n', value: -1.5 }, 'metadata["n"] == -1.5'],
  [
    'eq tiny float keeps its exponent',
    { op: 'eq', field: 'n', value: 1e-7 },
    'metadata["n"] == 1e-7',
  ],
  ['eq boolean', { op: 'eq', field: 'b', value: true }, 'metadata["b"] == true'],
  [
    'eq nested field',
    { op: 'eq', field: 'address.city', value: 'Paris' },
    'metadata["address"]["city"] == "Paris"',
  ],
  ['eq field with a dash', { op: 'eq', field: 'k-d', value: 'x' }, 'metadata["k-d"] == "x"'],
  [
    'ne is the negation of eq, so it matches a missing field',
    { op: 'ne', field: 's', value: 'x' },
    'not (metadata["s"] == "x")',
  ],
  ['gt number', { op: 'gt', field: 'n', value: 3 }, 'metadata["n"] > 3'],
  ['gte string', { op: 'gte', field: 's', value: 'b' }, 'metadata["s"] >= "b"'],
  ['lt negative', { op: 'lt', field: 'n', value: -20 }, 'metadata["n"] < -20'],
  ['lte float', { op: 'lte', field: 'n', value: 0.25 }, 'metadata["n"] <= 0.25'],
  ['in empty matches nothing', { op: 'in', field: 'n', values: [] }, 'metadata["n"] in []'],
  ['in one type', { op: 'in', field: 's', values: ['a', 'b', 'a'] }, 'metadata["s"] in ["a", "b"]'],
  [
    'in mixed types is split by type',
    { op: 'in', field: 'm', values: [1, '1', 2.5, true, false] },
    '(metadata["m"] in [1]) or (metadata["m"] in [2.5]) or (metadata["m"] in ["1"]) or (metadata["m"] == true) or (metadata["m"] == false)',
  ],
  [
    'nin is the negation of in',
    { op: 'nin', field: 'n', values: [1, 2] },
    'not (metadata["n"] in [1, 2])',
  ],
  [
    'exists excludes null values through the null path list',
    { op: 'exists', field: 'a.b' },
    '(exists metadata["a"]["b"]) and (not json_contains(metadata_null_paths["paths"], "[\\"a\\",\\"b\\"]"))',
  ],
  [
    'and',
    {
      op: 'and',
      filters: [
        { op: 'eq', field: 'a', value: 1 },
        { op: 'gt', field: 'b', value: 2 },
      ],
    },
    '(metadata["a"] == 1) and (metadata["b"] > 2)',
  ],
  [
    'or',
    {
      op: 'or',
      filters: [
        { op: 'eq', field: 'a', value: 1 },
        { op: 'exists', field: 'c' },
      ],
    },
    '(metadata["a"] == 1) or ((exists metadata["c"]) and (not json_contains(metadata_null_paths["paths"], "[\\"c\\"]")))',
  ],
  [
    'and of one is the child',
    { op: 'and', filters: [{ op: 'eq', field: 'a', value: 1 }] },
    'metadata["a"] == 1',
  ],
  ['not', { op: 'not', filter: { op: 'lt', field: 'n', value: 0 } }, 'not (metadata["n"] < 0)'],
  [
    'quotes, backslashes and newlines cannot end the literal',
    { op: 'eq', field: 's', value: 'say "hi"\\ or \' and\nnew line" or id != "' },
    'metadata["s"] == "say \\"hi\\"\\\\ or \' and\\nnew line\\" or id != \\""',
  ],
  [
    'like wildcards are ordinary characters',
    { op: 'eq', field: 's', value: 'a%b_c*' },
    'metadata["s"] == "a%b_c*"',
  ],
  [
    'unicode stays as is',
    { op: 'eq', field: 's', value: '東京 ñandú 🧠' },
    'metadata["s"] == "東京 ñandú 🧠"',
  ],
];

describe('translateMilvusFilter', () => {
  it.each(cases)('%s', (_, filter, expected) => {
    expect(translateMilvusFilter(filter)).toBe(expected);
  });

  it('throws UnsupportedFunctionalityError for contains, at any depth', () => {
    const contains: FilterExpression = { op: 'contains', field: 'tags', value: 'red' };
    for (const filter of [
      contains,
      { op: 'not', filter: contains },
      { op: 'and', filters: [{ op: 'eq', field: 'a', value: 1 }, contains] },
    ] satisfies FilterExpression[]) {
      let error: unknown;
      try {
        translateMilvusFilter(filter);
      } catch (caught) {
        error = caught;
      }
      expect(UnsupportedFunctionalityError.isInstance(error), String(error)).toBe(true);
    }
  });

  it('declares every operator but contains', () => {
    expect([...milvusFilterOperators].sort()).toEqual(
      filterOperators.filter((operator) => operator !== 'contains').sort(),
    );
  });
});

describe('helpers', () => {
  it('quotes string literals as JSON strings', () => {
    expect(milvusStringLiteral('a"b\\c')).toBe('"a\\"b\\\\c"');
    expect(milvusStringLiteral('tab\tcontrol\u0001')).toBe('"tab\\tcontrol\\u0001"');
  });

  it('builds JSON paths from dotted fields', () => {
    expect(milvusJsonPath('a')).toBe('metadata["a"]');
    expect(milvusJsonPath('a.b.c')).toBe('metadata["a"]["b"]["c"]');
  });

  it('lists null paths through objects but not arrays', () => {
    expect(
      metadataNullPaths({
        top: null,
        kept: 1,
        nested: { inner: null, deeper: { leaf: null }, value: 'x' },
        list: [null, { a: null }],
        'dotted.key': null,
      }),
    ).toEqual(['["top"]', '["nested","inner"]', '["nested","deeper","leaf"]', '["dotted.key"]']);
  });

  it('stops at the depth a filter field can address', () => {
    let metadata: Record<string, unknown> = { leaf: null };
    for (let level = 0; level < 10; level++) metadata = { next: metadata };
    expect(metadataNullPaths(metadata)).toEqual([]);
  });
});
