import type { FilterExpression } from '@engram/core';
import { describe, expect, it } from 'vitest';
import {
  hex,
  metadataTags,
  needsValueTags,
  type RedisFilter,
  scalarTag,
  translateRedisFilter,
} from './redis-compatible-filter.js';

const s = (path: string, value: string) => `${hex(path)}zs${hex(value)}`;
const n = (path: string, value: number) => `${hex(path)}zn${hex(String(value))}`;
const valueTags = [
  s('s', 'apple'),
  s('s', 'apple pie'),
  s('s', 'Banana'),
  n('n', -3),
  n('n', 5),
  n('n', 10.5),
  s('n', '5'),
  `${hex('b')}zt`,
  s('nested.city', 'Paris'),
];

const cases: [string, FilterExpression, RedisFilter][] = [
  ['eq on a string', { op: 'eq', field: 's', value: 'apple' }, `@m_values:{${s('s', 'apple')}}`],
  ['eq on a number', { op: 'eq', field: 'n', value: 5 }, `@m_values:{${n('n', 5)}}`],
  ['eq on -0 is eq on 0', { op: 'eq', field: 'n', value: -0 }, `@m_values:{${n('n', 0)}}`],
  ['eq on a boolean', { op: 'eq', field: 'b', value: false }, `@m_values:{${hex('b')}zf}`],
  [
    'ne negates, so records without the key match',
    { op: 'ne', field: 's', value: 'x' },
    `-(@m_values:{${s('s', 'x')}})`,
  ],
  [
    'in keeps types apart',
    { op: 'in', field: 'v', values: ['1', 1, true] },
    `@m_values:{${s('v', '1')} | ${n('v', 1)} | ${hex('v')}zt}`,
  ],
  ['in with no values matches nothing', { op: 'in', field: 'v', values: [] }, false],
  ['nin with no values matches everything', { op: 'nin', field: 'v', values: [] }, true],
  ['nin', { op: 'nin', field: 'v', values: [2] }, `-(@m_values:{${n('v', 2)}})`],
  [
    'gt on numbers picks the larger numbers only',
    { op: 'gt', field: 'n', value: 0 },
    `@m_values:{${n('n', 5)} | ${n('n', 10.5)}}`,
  ],
  ['gte on numbers', { op: 'gte', field: 'n', value: 10.5 }, `@m_values:{${n('n', 10.5)}}`],
  ['lt with nothing below', { op: 'lt', field: 'n', value: -3 }, false],
  [
    'lte on strings compares like JavaScript',
    { op: 'lte', field: 's', value: 'apple' },
    `@m_values:{${s('s', 'apple')} | ${s('s', 'Banana')}}`,
  ],
  [
    'contains a string: substrings of string values or array elements',
    { op: 'contains', field: 's', value: 'pie' },
    `(@m_values:{${s('s', 'apple pie')}} | @m_elements:{${s('s', 'pie')}})`,
  ],
  [
    'contains a number: array elements only',
    { op: 'contains', field: 'tags', value: 3 },
    `@m_elements:{${n('tags', 3)}}`,
  ],
  ['exists', { op: 'exists', field: 'nested.city' }, `@m_paths:{${hex('nested.city')}}`],
  [
    'and, or, not nest',
    {
      op: 'and',
      filters: [
        {
          op: 'or',
          filters: [
            { op: 'eq', field: 'a', value: 1 },
            { op: 'exists', field: 'b' },
          ],
        },
        { op: 'not', filter: { op: 'eq', field: 'c', value: 'x' } },
      ],
    },
    `((@m_values:{${n('a', 1)}} | @m_paths:{${hex('b')}}) -(@m_values:{${s('c', 'x')}}))`,
  ],
  [
    'not of nothing is everything',
    { op: 'not', filter: { op: 'in', field: 'a', values: [] } },
    true,
  ],
];

describe('translateRedisFilter', () => {
  it.each(cases)('%s', (_, filter, expected) => {
    expect(translateRedisFilter(filter, { valueTags })).toEqual(expected);
  });

  it('tags use lowercase letters and digits only, so nothing needs escaping', () => {
    for (const tag of [scalarTag('a-b_c.d', "O'Brien, {x} | y*"), scalarTag('k', 1e21)]) {
      expect(tag).toMatch(/^[0-9a-z]+$/);
    }
  });

  it('asks for the value tags only for ranges and substrings', () => {
    expect(needsValueTags({ op: 'eq', field: 'a', value: 1 })).toBe(false);
    expect(needsValueTags({ op: 'contains', field: 'a', value: 1 })).toBe(false);
    expect(needsValueTags({ op: 'contains', field: 'a', value: 'x' })).toBe(true);
    expect(needsValueTags({ op: 'not', filter: { op: 'lt', field: 'a', value: 1 } })).toBe(true);
  });
});

describe('metadataTags', () => {
  it('tags scalars, array elements and present paths', () => {
    expect(
      metadataTags({
        s: 'x',
        tags: ['a', 1, null, 'a'],
        nested: { city: 'Paris' },
        nothing: null,
        'dotted.key': 1,
      }),
    ).toEqual({
      m_values: [s('s', 'x'), s('nested.city', 'Paris')],
      m_elements: [s('tags', 'a'), n('tags', 1)],
      m_paths: [hex('s'), hex('tags'), hex('nested'), hex('nested.city')],
    });
  });
});
