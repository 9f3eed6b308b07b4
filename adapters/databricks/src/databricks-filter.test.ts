import {
  portableFilterCases,
  portableFilterDocuments,
  randomPortableFilters,
  referenceIds,
} from '@engram/adapter-kit/testing';
import {
  type FilterExpression,
  type JsonValue,
  matchesFilter,
  UnsupportedFunctionalityError,
} from '@engram/core';
import { describe, expect, it } from 'vitest';
import {
  type DatabricksColumnType,
  databricksEqualityTokens,
  databricksFilterColumnValues,
  databricksFilterOperators,
  translateDatabricksFilter,
} from './databricks-filter.js';
import { databricksFilterSelects } from './databricks-model.test-support.js';

// One homogeneous data set per column type: a declared column holds one type or nothing.
const documents: Record<string, Record<string, JsonValue>> = {
  a: { price: 10, name: 'apple', ok: true },
  b: { price: 2.5, name: 'Apple', ok: false },
  c: { price: -3, name: 'pear' },
  d: {},
  e: { price: 10, name: 'apple pie', ok: true, other: 'x' },
};
const columns: Record<string, DatabricksColumnType> = {
  price: 'double',
  name: 'string',
  ok: 'boolean',
};

function selectedByTranslation(filter: FilterExpression): string[] {
  const translated = translateDatabricksFilter(filter, columns);
  return Object.entries(documents)
    .filter(([, metadata]) => {
      if (translated === false) return false;
      const { values } = databricksFilterColumnValues(metadata, columns);
      return databricksFilterSelects(translated, {
        ...values,
        m_tokens: databricksEqualityTokens(metadata),
      });
    })
    .map(([id]) => id);
}

const reference = (filter: FilterExpression) =>
  Object.entries(documents)
    .filter(([, metadata]) => matchesFilter(filter, metadata))
    .map(([id]) => id);

const cases: [string, FilterExpression][] = [
  ['eq number', { op: 'eq', field: 'price', value: 10 }],
  ['eq string of a number column', { op: 'eq', field: 'price', value: '10' }],
  ['eq is case-sensitive', { op: 'eq', field: 'name', value: 'apple' }],
  ['eq boolean', { op: 'eq', field: 'ok', value: false }],
  ['in mixed types', { op: 'in', field: 'name', values: ['pear', 10, 'Apple'] }],
  ['in empty', { op: 'in', field: 'name', values: [] }],
  ['gt', { op: 'gt', field: 'price', value: 2.5 }],
  ['gte', { op: 'gte', field: 'price', value: 2.5 }],
  ['lt', { op: 'lt', field: 'price', value: 10 }],
  ['lte on a string column', { op: 'lte', field: 'name', value: 3 }],
  [
    'and of ranges and equalities on one column',
    {
      op: 'and',
      filters: [
        { op: 'gt', field: 'price', value: -5 },
        { op: 'gt', field: 'price', value: 0 },
        { op: 'lte', field: 'price', value: 10 },
        { op: 'in', field: 'name', values: ['apple', 'apple pie', 'pear'] },
        { op: 'eq', field: 'name', value: 'apple pie' },
      ],
    },
  ],
  [
    'and with a contradiction',
    {
      op: 'and',
      filters: [
        { op: 'eq', field: 'name', value: 'apple' },
        { op: 'eq', field: 'name', value: 'pear' },
      ],
    },
  ],
  ['empty and', { op: 'and', filters: [] }],
  ['eq on an undeclared field', { op: 'eq', field: 'other', value: 'x' }],
  [
    'and of eqs on declared and undeclared fields',
    {
      op: 'and',
      filters: [
        { op: 'eq', field: 'price', value: 10 },
        { op: 'eq', field: 'ok', value: true },
        { op: 'eq', field: 'other', value: 'x' },
      ],
    },
  ],
];

const eqOnly = (filter: FilterExpression): boolean =>
  filter.op === 'eq' || (filter.op === 'and' && filter.filters.every(eqOnly));

describe('translateDatabricksFilter', () => {
  it.each(cases)('%s', (_name, filter) => {
    expect(selectedByTranslation(filter)).toEqual(reference(filter));
  });

  it.each(portableFilterCases.filter(([, filter]) => eqOnly(filter)))(
    'portable table, eq through tokens: %s',
    (_name, filter, expected) => {
      expect(referenceIds(filter)).toEqual(expected);
      const translated = translateDatabricksFilter(filter, {});
      const selected = Object.entries(portableFilterDocuments)
        .filter(
          ([, metadata]) =>
            translated !== false &&
            databricksFilterSelects(translated, { m_tokens: databricksEqualityTokens(metadata) }),
        )
        .map(([id]) => id);
      expect(selected).toEqual(expected);
    },
  );

  it('builds the documented shapes', () => {
    expect(
      translateDatabricksFilter(
        {
          op: 'and',
          filters: [
            { op: 'in', field: 'name', values: ['a', 'b'] },
            { op: 'gte', field: 'price', value: 1 },
            { op: 'gte', field: 'price', value: 3 },
            { op: 'eq', field: 'ok', value: true },
          ],
        },
        columns,
      ),
    ).toEqual({
      'm_tokens LIKE': '%(006f006b=0062003a0074007200750065)%',
      m_name: ['a', 'b'],
      'm_price >=': 3,
    });
  });

  it('refuses undeclared fields, operators without an exact form, and string ranges', () => {
    const refused: FilterExpression[] = [
      { op: 'in', field: 'other', values: ['x'] },
      { op: 'ne', field: 'name', value: 'x' },
      { op: 'nin', field: 'name', values: ['x'] },
      { op: 'exists', field: 'name' },
      { op: 'contains', field: 'name', value: 'x' },
      { op: 'not', filter: { op: 'eq', field: 'name', value: 'x' } },
      { op: 'or', filters: [{ op: 'eq', field: 'name', value: 'x' }] },
      { op: 'gt', field: 'name', value: 'a' },
    ];
    for (const filter of refused) {
      expect(() => translateDatabricksFilter(filter, columns), JSON.stringify(filter)).toThrow(
        UnsupportedFunctionalityError,
      );
    }
  });

  it('refuses a record whose declared column holds another type', () => {
    expect(databricksFilterColumnValues({ price: '10' }, columns).problem).toMatch(/double/);
    expect(databricksFilterColumnValues({ price: null }, columns)).toEqual({
      values: { m_price: null, m_name: null, m_ok: null },
    });
  });

  it('random filters of the supported operators select what matchesFilter selects', () => {
    // The portable sample data mixes types in one field, which a typed column refuses; the
    // random filters are still checked on the records whose fields fit the declared types.
    const fitting = Object.entries(portableFilterDocuments).filter(
      ([, metadata]) =>
        !databricksFilterColumnValues(metadata, { n: 'double', s: 'string' }).problem,
    );
    expect(fitting.length).toBeGreaterThan(0);
    let checked = 0;
    for (const expression of randomPortableFilters(600, 7)) {
      let translated: ReturnType<typeof translateDatabricksFilter>;
      try {
        translated = translateDatabricksFilter(expression, { n: 'double', s: 'string' });
      } catch (error) {
        expect(UnsupportedFunctionalityError.isInstance(error)).toBe(true);
        continue;
      }
      checked++;
      for (const [, metadata] of fitting) {
        const { values } = databricksFilterColumnValues(metadata, { n: 'double', s: 'string' });
        const selected =
          translated !== false &&
          databricksFilterSelects(translated, {
            ...values,
            m_tokens: databricksEqualityTokens(metadata),
          });
        expect(selected, JSON.stringify(expression)).toBe(matchesFilter(expression, metadata));
      }
    }
    expect(checked).toBeGreaterThan(10);
    expect(databricksFilterOperators).not.toContain('or');
    expect(referenceIds({ op: 'eq', field: 'n', value: 1 })).toEqual(['a']);
  });
});
