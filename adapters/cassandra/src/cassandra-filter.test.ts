import { type FilterExpression, UnsupportedFunctionalityError } from '@engram/core';
import { describe, expect, it } from 'vitest';
import {
  type CassandraCondition,
  metadataTags,
  rangeColumn,
  scalarTag,
  translateCassandraFilter,
} from './cassandra-filter.js';

const price = rangeColumn('price', 'number');
const city = rangeColumn('nested.city', 'string');
const columns = new Set([price, city]);

const cases: [string, FilterExpression, CassandraCondition | false][] = [
  [
    'eq on a string',
    { op: 'eq', field: 's', value: 'apple' },
    { clauses: ['m_values CONTAINS ?'], params: [scalarTag('s', 'apple')] },
  ],
  [
    'eq on a number is a number tag, apart from the string "5"',
    { op: 'eq', field: 'n', value: 5 },
    { clauses: ['m_values CONTAINS ?'], params: ['n\u001fn5'] },
  ],
  [
    'eq on -0 is eq on 0',
    { op: 'eq', field: 'n', value: -0 },
    { clauses: ['m_values CONTAINS ?'], params: ['n\u001fn0'] },
  ],
  [
    'exists',
    { op: 'exists', field: 'nested.city' },
    { clauses: ['m_paths CONTAINS ?'], params: ['nested.city'] },
  ],
  [
    'a number range uses the path number column',
    { op: 'gte', field: 'price', value: 10 },
    { clauses: [`${price} >= ?`], params: [10] },
  ],
  [
    'a string range uses the path string column',
    { op: 'lt', field: 'nested.city', value: 'P' },
    { clauses: [`${city} < ?`], params: ['P'], filtering: true },
  ],
  [
    'a range on a path no record has matches nothing',
    { op: 'gt', field: 'price', value: 'x' },
    false,
  ],
  [
    'and joins the conditions',
    {
      op: 'and',
      filters: [
        { op: 'eq', field: 'b', value: true },
        { op: 'lte', field: 'price', value: 3 },
        { op: 'and', filters: [{ op: 'exists', field: 'tags' }] },
      ],
    },
    {
      clauses: ['m_values CONTAINS ?', 'm_paths CONTAINS ?', `${price} <= ?`],
      params: ['b\u001fbtrue', 'tags', 3],
    },
  ],
  [
    'bounds on one column merge into the tightest lower and upper bound',
    {
      op: 'and',
      filters: [
        { op: 'gt', field: 'price', value: 1 },
        { op: 'gte', field: 'price', value: 2 },
        { op: 'lt', field: 'price', value: 9 },
        { op: 'lte', field: 'price', value: 9 },
        { op: 'gte', field: 'price', value: 0 },
      ],
    },
    { clauses: [`${price} >= ?`, `${price} < ?`], params: [2, 9] },
  ],
  [
    'and with a part that matches nothing matches nothing',
    {
      op: 'and',
      filters: [
        { op: 'eq', field: 'b', value: true },
        { op: 'gt', field: 'missing', value: 1 },
      ],
    },
    false,
  ],
];

describe('translateCassandraFilter', () => {
  it.each(cases)('%s', (_, filter, expected) => {
    expect(translateCassandraFilter(filter, columns)).toEqual(expected);
  });

  it.each([
    { op: 'ne', field: 'a', value: 1 },
    { op: 'in', field: 'a', values: [1] },
    { op: 'nin', field: 'a', values: [1] },
    { op: 'contains', field: 'a', value: 'x' },
    { op: 'or', filters: [{ op: 'eq', field: 'a', value: 1 }] },
    { op: 'not', filter: { op: 'eq', field: 'a', value: 1 } },
    { op: 'and', filters: [{ op: 'ne', field: 'a', value: 1 }] },
  ] as FilterExpression[])('refuses $op with UnsupportedFunctionalityError', (filter) => {
    expect(() => translateCassandraFilter(filter, columns)).toThrow(UnsupportedFunctionalityError);
  });
});

describe('metadataTags', () => {
  it('tags scalars, present paths and range values; skips arrays, nulls and unfilterable keys', () => {
    const tags = metadataTags({
      s: 'x',
      n: 2,
      b: false,
      tags: ['a'],
      nested: { city: 'Paris' },
      nothing: null,
      'dotted.key': 1,
    });
    expect(tags.values).toEqual([
      scalarTag('s', 'x'),
      scalarTag('n', 2),
      scalarTag('b', false),
      scalarTag('nested.city', 'Paris'),
    ]);
    expect(tags.paths).toEqual(['s', 'n', 'b', 'tags', 'nested', 'nested.city']);
    expect(Object.fromEntries(tags.ranges)).toEqual({
      [rangeColumn('s', 'string')]: 'x',
      [rangeColumn('n', 'number')]: 2,
      [city]: 'Paris',
    });
  });
});
