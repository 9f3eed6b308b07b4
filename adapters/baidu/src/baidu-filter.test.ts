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
import { baiduFilterColumnValues, translateBaiduFilter } from './baidu-filter.js';
import { parseBaiduExpression } from './baidu-model.test-support.js';

// Every path the portable tables and random filters name, declared.
const paths = [
  'n',
  's',
  'b',
  'tags',
  'nums',
  'mixed',
  'w',
  'nested',
  'nested.city',
  'nested.zip',
  'list',
  'list.city',
  'deep.a.b.c',
  'missing',
];

function selects(filter: FilterExpression, metadata: Record<string, JsonValue>): boolean {
  const translated = translateBaiduFilter(filter, paths);
  if (typeof translated === 'boolean') return translated;
  return parseBaiduExpression(translated)(baiduFilterColumnValues(metadata, paths));
}

const declared = (filter: FilterExpression): boolean =>
  filter.op === 'and' || filter.op === 'or'
    ? filter.filters.every(declared)
    : filter.op === 'not'
      ? declared(filter.filter)
      : paths.includes((filter as { field: string }).field);

describe('translateBaiduFilter', () => {
  it.each(portableFilterCases.filter(([, filter]) => declared(filter)))(
    '%s',
    (_name, filter, expected) => {
      expect(referenceIds(filter)).toEqual(expected);
      expect(selectedIds((metadata) => selects(filter, metadata))).toEqual(expected);
    },
  );

  it('builds expressions with hex string literals and type guards', () => {
    expect(
      translateBaiduFilter(
        {
          op: 'or',
          filters: [
            { op: 'eq', field: 'nested.city', value: "O'Hare" },
            { op: 'gte', field: 'n', value: 2 },
            { op: 'ne', field: 'b', value: true },
          ],
        },
        paths,
      ),
    ).toBe(
      "(s_nested__city = 's004f00270048006100720065' OR (t_n = 'n' AND n_n >= 2) OR NOT t_b = 't')",
    );
    expect(translateBaiduFilter({ op: 'in', field: 'n', values: [] }, paths)).toBe(false);
    expect(translateBaiduFilter({ op: 'nin', field: 'n', values: [] }, paths)).toBe(true);
  });

  it('refuses contains and undeclared paths', () => {
    expect(() => translateBaiduFilter({ op: 'contains', field: 's', value: 'a' }, paths)).toThrow(
      UnsupportedFunctionalityError,
    );
    expect(() => translateBaiduFilter({ op: 'eq', field: 'other', value: 'a' }, paths)).toThrow(
      UnsupportedFunctionalityError,
    );
  });

  it('random nested filters select what matchesFilter selects (against the model)', () => {
    for (const expression of randomPortableFilters(400)) {
      if (!declared(expression) || JSON.stringify(expression).includes('"contains"')) continue;
      for (const metadata of Object.values(portableFilterDocuments)) {
        expect(selects(expression, metadata), JSON.stringify(expression)).toBe(
          matchesFilter(expression, metadata),
        );
      }
    }
  });
});
