import { type FilterExpression, InvalidArgumentError } from '@engram/core';
import { describe, expect, it } from 'vitest';
import { type PgvectorParameter, translatePgvectorFilter } from './postgres-jsonb-filter.js';

// The SQL each operator becomes. Its semantics are checked against a real PostgreSQL by the
// conformance suite (test/pgvector.conformance.test.ts); this table pins the statement shape and
// shows that every value travels as a bound parameter.
const cases: [
  name: string,
  filter: FilterExpression,
  sql: string,
  parameters: PgvectorParameter[],
][] = [
  ['eq string', { op: 'eq', field: 's', value: 'x' }, '(metadata @> $1::jsonb)', ['{"s":"x"}']],
  ['eq number', { op: 'eq', field: 'n', value: 1.5 }, '(metadata @> $1::jsonb)', ['{"n":1.5}']],
  ['eq boolean', { op: 'eq', field: 'b', value: true }, '(metadata @> $1::jsonb)', ['{"b":true}']],
  [
    'eq nested field',
    { op: 'eq', field: 'address.city', value: 'Paris' },
    '(metadata @> $1::jsonb)',
    ['{"address":{"city":"Paris"}}'],
  ],
  [
    'eq key with a dash and quotes in the value',
    { op: 'eq', field: 'dash-key', value: 'say "hi" \\ %' },
    '(metadata @> $1::jsonb)',
    ['{"dash-key":"say \\"hi\\" \\\\ %"}'],
  ],
  [
    'eq __proto__ is an ordinary key',
    { op: 'eq', field: '__proto__', value: 1 },
    '(metadata @> $1::jsonb)',
    ['{"__proto__":1}'],
  ],
  ['ne', { op: 'ne', field: 's', value: 'x' }, '(NOT metadata @> $1::jsonb)', ['{"s":"x"}']],
  [
    'gt number',
    { op: 'gt', field: 'n', value: 3 },
    "coalesce(jsonb_typeof((metadata #> $1::text[])) = 'number' AND (metadata #> $1::text[]) > $2::jsonb, false)",
    [['n'], '3'],
  ],
  [
    'gte number nested',
    { op: 'gte', field: 'a.b', value: -1.25 },
    "coalesce(jsonb_typeof((metadata #> $1::text[])) = 'number' AND (metadata #> $1::text[]) >= $2::jsonb, false)",
    [['a', 'b'], '-1.25'],
  ],
  [
    'lt string uses code point order',
    { op: 'lt', field: 's', value: 'm' },
    `coalesce(jsonb_typeof((metadata #> $1::text[])) = 'string' AND ((metadata #> $1::text[]) #>> '{}') COLLATE "C" < $2::text, false)`,
    [['s'], 'm'],
  ],
  [
    'lte string',
    { op: 'lte', field: 's', value: 'm' },
    `coalesce(jsonb_typeof((metadata #> $1::text[])) = 'string' AND ((metadata #> $1::text[]) #>> '{}') COLLATE "C" <= $2::text, false)`,
    [['s'], 'm'],
  ],
  [
    'in of mixed types, duplicates dropped',
    { op: 'in', field: 'n', values: [1, '1', true, 1] },
    '(metadata @> $1::jsonb OR metadata @> $2::jsonb OR metadata @> $3::jsonb)',
    ['{"n":1}', '{"n":"1"}', '{"n":true}'],
  ],
  ['in empty matches nothing', { op: 'in', field: 'n', values: [] }, 'false', []],
  [
    'nin',
    { op: 'nin', field: 'n', values: ['a', 'b'] },
    '(NOT (metadata @> $1::jsonb OR metadata @> $2::jsonb))',
    ['{"n":"a"}', '{"n":"b"}'],
  ],
  ['nin empty matches everything', { op: 'nin', field: 'n', values: [] }, '(NOT false)', []],
  [
    'contains number: array element only',
    { op: 'contains', field: 'tags', value: 2 },
    '(metadata @> $1::jsonb)',
    ['{"tags":[2]}'],
  ],
  [
    'contains string: array element or substring',
    { op: 'contains', field: 'tags', value: 'red' },
    "(metadata @> $1::jsonb OR coalesce(jsonb_typeof((metadata #> $2::text[])) = 'string' AND strpos((metadata #> $2::text[]) #>> '{}', $3::text) > 0, false))",
    ['{"tags":["red"]}', ['tags'], 'red'],
  ],
  [
    'exists',
    { op: 'exists', field: 'a.b' },
    "coalesce(jsonb_typeof((metadata #> $1::text[])) <> 'null', false)",
    [['a', 'b']],
  ],
  [
    'and, or, not',
    {
      op: 'and',
      filters: [
        { op: 'eq', field: 'a', value: 1 },
        {
          op: 'or',
          filters: [
            { op: 'exists', field: 'b' },
            { op: 'not', filter: { op: 'eq', field: 'c', value: 'x' } },
          ],
        },
      ],
    },
    "((metadata @> $1::jsonb) AND (coalesce(jsonb_typeof((metadata #> $2::text[])) <> 'null', false) OR (NOT (metadata @> $3::jsonb))))",
    ['{"a":1}', ['b'], '{"c":"x"}'],
  ],
];

describe('translatePgvectorFilter', () => {
  it.each(cases)('%s', (_, filter, sql, parameters) => {
    expect(translatePgvectorFilter(filter)).toEqual({ sql, parameters });
  });

  it('numbers its placeholders after the parameters already bound, on another column', () => {
    expect(
      translatePgvectorFilter(
        { op: 'eq', field: 'a', value: 'x' },
        { parameters: ['alice', 'travel'], column: 'memory.metadata' },
      ),
    ).toEqual({
      sql: '(memory.metadata @> $3::jsonb)',
      parameters: ['alice', 'travel', '{"a":"x"}'],
    });
  });

  it('does not change the parameters passed in', () => {
    const parameters: PgvectorParameter[] = ['alice'];
    translatePgvectorFilter({ op: 'exists', field: 'a' }, { parameters });
    expect(parameters).toEqual(['alice']);
  });

  it.each([
    [{ op: 'eq', field: "a'; DROP TABLE x; --", value: 1 }],
    [{ op: 'eq', field: 'a', value: null }],
    [{ op: 'regex', field: 'a', value: '.*' }],
    [{ op: 'and', filters: [] }],
    [{ op: 'gt', field: 'a', value: true }],
  ])('rejects an invalid filter %j with InvalidArgumentError', (filter) => {
    expect(() => translatePgvectorFilter(filter as unknown as FilterExpression)).toThrow(
      expect.objectContaining({ code: 'invalid_argument' }),
    );
    try {
      translatePgvectorFilter(filter as unknown as FilterExpression);
    } catch (error) {
      expect(InvalidArgumentError.isInstance(error)).toBe(true);
    }
  });
});
