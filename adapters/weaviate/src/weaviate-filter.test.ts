import type { FilterExpression } from '@engram/core';
import { UnsupportedFunctionalityError } from '@engram/core';
import { describe, expect, it } from 'vitest';
import type { FilterValue } from 'weaviate-client';
import {
  indexMetadata,
  translateWeaviateFilter,
  unwrapExact,
  type WeaviateFilter,
  wrapExact,
} from './weaviate-filter.js';

const M = '\u001f';
const everything = { hasProperty: () => true };
const nothing = { hasProperty: () => false };
const eq = (property: string, value: unknown): FilterValue => ({
  operator: 'Equal',
  target: { property },
  value,
});

const cases: [string, FilterExpression, WeaviateFilter][] = [
  ['eq on a string', { op: 'eq', field: 'city', value: 'Paris' }, eq('ms_city', `${M}Paris${M}`)],
  ['eq on a number', { op: 'eq', field: 'n', value: 5 }, eq('mn_n', 5)],
  ['eq on -0 is eq on 0', { op: 'eq', field: 'n', value: -0 }, eq('mn_n', 0)],
  ['eq on a boolean', { op: 'eq', field: 'b', value: true }, eq('mb_b', true)],
  ['eq on an empty string', { op: 'eq', field: 's', value: '' }, eq('ms_s', `${M}${M}`)],
  [
    'nested keys, "_" and "-" are encoded without collisions',
    { op: 'eq', field: 'a_b.c-d', value: 1 },
    eq('mn_a__b_dc_hd', 1),
  ],
  [
    'ne negates, so records without the key match',
    { op: 'ne', field: 's', value: 'x' },
    { operator: 'Not', filters: [eq('ms_s', `${M}x${M}`)], value: null },
  ],
  [
    'in is an OR of typed equalities',
    { op: 'in', field: 'v', values: ['1', 1, true] },
    {
      operator: 'Or',
      filters: [eq('ms_v', `${M}1${M}`), eq('mn_v', 1), eq('mb_v', true)],
      value: null,
    },
  ],
  ['in with no values matches nothing', { op: 'in', field: 'v', values: [] }, false],
  ['nin with no values matches everything', { op: 'nin', field: 'v', values: [] }, true],
  [
    'nin with one value',
    { op: 'nin', field: 'v', values: ['a'] },
    { operator: 'Not', filters: [eq('ms_v', `${M}a${M}`)], value: null },
  ],
  [
    'gt on a number',
    { op: 'gt', field: 'n', value: 3 },
    { operator: 'GreaterThan', target: { property: 'mn_n' }, value: 3 },
  ],
  [
    'lte on a string compares the marked text',
    { op: 'lte', field: 's', value: 'b' },
    { operator: 'LessThanEqual', target: { property: 'ms_s' }, value: `${M}b${M}` },
  ],
  [
    'contains a string: substring or array element',
    { op: 'contains', field: 'tags', value: 'red' },
    {
      operator: 'Or',
      filters: [
        { operator: 'Like', target: { property: 'ms_tags' }, value: `${M}*red*${M}` },
        eq('ma_tags', `sred${M}`),
      ],
      value: null,
    },
  ],
  [
    'contains a number: array elements only',
    { op: 'contains', field: 'tags', value: 2 },
    eq('ma_tags', 'n2'),
  ],
  ['exists', { op: 'exists', field: 'nested.city' }, eq('metaPaths', 'nested.city')],
  [
    'and, or, not nest',
    {
      op: 'and',
      filters: [
        { op: 'or', filters: [{ op: 'eq', field: 'a', value: 1 }] },
        { op: 'not', filter: { op: 'exists', field: 'b' } },
      ],
    },
    {
      operator: 'And',
      filters: [eq('mn_a', 1), { operator: 'Not', filters: [eq('metaPaths', 'b')], value: null }],
      value: null,
    },
  ],
];

describe('translateWeaviateFilter', () => {
  it.each(cases)('%s', (_, filter, expected) => {
    expect(translateWeaviateFilter(filter, everything)).toEqual(expected);
  });

  it.each<[string, FilterExpression, WeaviateFilter]>([
    ['eq on a key no record has', { op: 'eq', field: 'x', value: 1 }, false],
    ['ne on a key no record has', { op: 'ne', field: 'x', value: 1 }, true],
    ['exists before any metadata', { op: 'exists', field: 'x' }, false],
    ['not exists before any metadata', { op: 'not', filter: { op: 'exists', field: 'x' } }, true],
    [
      'or with a missing key',
      {
        op: 'or',
        filters: [
          { op: 'eq', field: 'x', value: 1 },
          { op: 'gt', field: 'x', value: 'a' },
        ],
      },
      false,
    ],
  ])('folds to a constant when %s', (_, filter, expected) => {
    expect(translateWeaviateFilter(filter, nothing)).toEqual(expected);
  });

  it('refuses contains values holding Like wildcards', () => {
    for (const value of ['a*b', 'what?']) {
      expect(() =>
        translateWeaviateFilter({ op: 'contains', field: 's', value }, everything),
      ).toThrow(UnsupportedFunctionalityError);
    }
  });

  it('keeps newlines matchable by Like', () => {
    expect(
      translateWeaviateFilter({ op: 'contains', field: 's', value: 'a\nb' }, everything),
    ).toEqual({
      operator: 'Or',
      filters: [
        { operator: 'Like', target: { property: 'ms_s' }, value: `${M}*a\u0000b*${M}` },
        eq('ma_s', `sa\u0000b${M}`),
      ],
      value: null,
    });
  });
});

describe('indexMetadata', () => {
  it('writes one typed property per addressable path', () => {
    const { properties, types } = indexMetadata({
      s: ' padded ',
      n: 1.5,
      b: false,
      tags: ['x', 1, true, null, { a: 1 }, 'x'],
      nested: { city: 'Paris', deeper: { zip: 1000 } },
      empty: [],
      nothing: null,
      'dotted.key': 'skipped',
    });
    expect(properties).toEqual({
      ms_s: `${M} padded ${M}`,
      mn_n: 1.5,
      mb_b: false,
      ma_tags: [`sx${M}`, 'n1', 'btrue'],
      ms_nested_dcity: `${M}Paris${M}`,
      mn_nested_ddeeper_dzip: 1000,
      metaPaths: [
        's',
        'n',
        'b',
        'tags',
        'nested',
        'nested.city',
        'nested.deeper',
        'nested.deeper.zip',
        'empty',
      ],
    });
    expect(types.get('ma_tags')).toBe('text[]');
    expect(types.get('mn_n')).toBe('number');
  });

  it('round trips marked strings', () => {
    for (const value of ['', ' a ', 'x y']) expect(unwrapExact(wrapExact(value))).toBe(value);
  });
});
