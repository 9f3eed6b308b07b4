import { type FilterExpression, InvalidArgumentError, matchesFilter } from '@engram/core';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { sqliteJsonPath, translateSqliteFilter } from './sqlite-filter.js';

const documents: Record<string, Record<string, unknown>> = {
  a: { n: 1, s: 'one', b: true, tags: ['x', 1, true], nested: { city: 'Paris' }, big: 10 },
  b: { n: '1', s: 'One', b: false, tags: ['y'], nested: { city: 'Berlin' }, 'dash-key': 5 },
  c: { n: 2.5, s: 'two words', tags: [], nested: 'flat', nothing: null, big: 9 },
  d: {},
  e: { n: true, s: 'café', tags: 'x-ray', nested: { city: null }, list: [{ city: 'Paris' }] },
};

const cases: [name: string, filter: FilterExpression, expected: string[]][] = [
  ['eq number', { op: 'eq', field: 'n', value: 1 }, ['a']],
  ['eq string is not the number', { op: 'eq', field: 'n', value: '1' }, ['b']],
  ['eq true is not 1', { op: 'eq', field: 'n', value: true }, ['e']],
  ['eq false', { op: 'eq', field: 'b', value: false }, ['b']],
  ['eq float', { op: 'eq', field: 'n', value: 2.5 }, ['c']],
  ['eq is case-sensitive', { op: 'eq', field: 's', value: 'one' }, ['a']],
  ['eq nested', { op: 'eq', field: 'nested.city', value: 'Paris' }, ['a']],
  ['eq does not reach into arrays', { op: 'eq', field: 'list.city', value: 'Paris' }, []],
  ['eq quoted key with a dash', { op: 'eq', field: 'dash-key', value: 5 }, ['b']],
  ['ne matches missing fields', { op: 'ne', field: 'n', value: 1 }, ['b', 'c', 'd', 'e']],
  ['ne boolean', { op: 'ne', field: 'b', value: true }, ['b', 'c', 'd', 'e']],
  ['gt number', { op: 'gt', field: 'n', value: 1 }, ['c']],
  ['gte number', { op: 'gte', field: 'n', value: 1 }, ['a', 'c']],
  ['lt number ignores strings and booleans', { op: 'lt', field: 'n', value: 3 }, ['a', 'c']],
  ['lte number', { op: 'lte', field: 'big', value: 9 }, ['c']],
  ['gt string', { op: 'gt', field: 's', value: 'one' }, ['c']],
  ['lt string ignores numbers', { op: 'lt', field: 'n', value: 'z' }, ['b']],
  ['in mixed types', { op: 'in', field: 'n', values: ['1', 2.5] }, ['b', 'c']],
  ['in boolean', { op: 'in', field: 'n', values: [true] }, ['e']],
  ['in empty', { op: 'in', field: 'n', values: [] }, []],
  ['nin matches missing fields', { op: 'nin', field: 'n', values: [1, true] }, ['b', 'c', 'd']],
  ['nin empty', { op: 'nin', field: 'n', values: [] }, ['a', 'b', 'c', 'd', 'e']],
  ['contains array element string', { op: 'contains', field: 'tags', value: 'x' }, ['a', 'e']],
  ['contains array element number', { op: 'contains', field: 'tags', value: 1 }, ['a']],
  ['contains array element boolean', { op: 'contains', field: 'tags', value: true }, ['a']],
  ['contains substring', { op: 'contains', field: 's', value: 'wor' }, ['c']],
  ['contains is case-sensitive', { op: 'contains', field: 's', value: 'On' }, ['b']],
  ['contains empty string', { op: 'contains', field: 's', value: '' }, ['a', 'b', 'c', 'e']],
  ['contains number in a string', { op: 'contains', field: 'n', value: 1 }, []],
  ['exists', { op: 'exists', field: 'big' }, ['a', 'c']],
  ['exists ignores null', { op: 'exists', field: 'nothing' }, []],
  ['exists nested null', { op: 'exists', field: 'nested.city' }, ['a', 'b']],
  ['not exists', { op: 'not', filter: { op: 'exists', field: 'b' } }, ['c', 'd', 'e']],
  [
    'and',
    {
      op: 'and',
      filters: [
        { op: 'exists', field: 'tags' },
        { op: 'ne', field: 'b', value: false },
      ],
    },
    ['a', 'c', 'e'],
  ],
  [
    'or',
    {
      op: 'or',
      filters: [
        { op: 'eq', field: 'n', value: 1 },
        { op: 'eq', field: 'nested.city', value: 'Berlin' },
      ],
    },
    ['a', 'b'],
  ],
  [
    'not of or',
    {
      op: 'not',
      filter: {
        op: 'or',
        filters: [
          { op: 'eq', field: 'n', value: 1 },
          { op: 'gt', field: 'big', value: 5 },
        ],
      },
    },
    ['b', 'd', 'e'],
  ],
  ['value with quotes is bound', { op: 'eq', field: 's', value: `x' OR 1=1 --` }, []],
];

describe('translateSqliteFilter', () => {
  const database = new Database(':memory:');
  database.exec('CREATE TABLE documents (id TEXT PRIMARY KEY, metadata TEXT NOT NULL)');
  const insert = database.prepare('INSERT INTO documents (id, metadata) VALUES (?, ?)');
  for (const [id, metadata] of Object.entries(documents)) insert.run(id, JSON.stringify(metadata));
  afterAll(() => database.close());

  it.each(cases)('%s', (_name, filter, expected) => {
    const reference = Object.entries(documents)
      .filter(([, metadata]) => matchesFilter(filter, metadata))
      .map(([id]) => id);
    expect(reference).toEqual(expected);
    const clause = translateSqliteFilter(filter);
    const rows = database
      .prepare(`SELECT id FROM documents WHERE ${clause.sql} ORDER BY id`)
      .pluck()
      .all(...clause.parameters);
    expect(rows).toEqual(expected);
  });

  it('never splices values into the SQL', () => {
    const clause = translateSqliteFilter({ op: 'eq', field: 's', value: "it's" });
    expect(clause.sql).not.toContain("it's");
    expect(clause.parameters).toContain("it's");
  });

  it('quotes every key of a JSON path', () => {
    expect(sqliteJsonPath('address.city')).toBe('$."address"."city"');
    expect(sqliteJsonPath('a"b')).toBe('$."a\\"b"');
  });

  it('rejects malformed filters', () => {
    expect(() =>
      translateSqliteFilter({ op: 'eq', field: 'bad field', value: 1 } as FilterExpression),
    ).toThrow(InvalidArgumentError);
  });
});
