import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from './errors.js';
import { type FilterExpression, matchesFilter, normalizeFilter, validateFilter } from './filter.js';

const record = {
  category: 'food',
  priority: 3,
  score: 0.5,
  vegan: true,
  tags: ['spicy', 'thai'],
  note: 'likes green curry',
  address: { city: 'Oslo' },
  empty: null,
};

describe('matchesFilter', () => {
  it.each<[FilterExpression, boolean]>([
    [{ op: 'eq', field: 'category', value: 'food' }, true],
    [{ op: 'eq', field: 'priority', value: '3' }, false],
    [{ op: 'eq', field: 'vegan', value: 1 }, false],
    [{ op: 'eq', field: 'address.city', value: 'Oslo' }, true],
    [{ op: 'ne', field: 'category', value: 'work' }, true],
    [{ op: 'ne', field: 'missing', value: 'x' }, true],
    [{ op: 'gt', field: 'priority', value: 2 }, true],
    [{ op: 'gt', field: 'priority', value: 3 }, false],
    [{ op: 'gte', field: 'priority', value: 3 }, true],
    [{ op: 'lt', field: 'score', value: 1 }, true],
    [{ op: 'lte', field: 'score', value: 0.4 }, false],
    [{ op: 'gt', field: 'category', value: 'apple' }, true],
    [{ op: 'gt', field: 'category', value: 1 }, false],
    [{ op: 'in', field: 'category', values: ['work', 'food'] }, true],
    [{ op: 'in', field: 'missing', values: ['x'] }, false],
    [{ op: 'nin', field: 'category', values: ['work'] }, true],
    [{ op: 'nin', field: 'missing', values: ['x'] }, true],
    [{ op: 'contains', field: 'tags', value: 'thai' }, true],
    [{ op: 'contains', field: 'tags', value: 'tha' }, false],
    [{ op: 'contains', field: 'note', value: 'green' }, true],
    [{ op: 'contains', field: 'note', value: 'Green' }, false],
    [{ op: 'exists', field: 'tags' }, true],
    [{ op: 'exists', field: 'empty' }, false],
    [{ op: 'exists', field: 'missing' }, false],
    [
      {
        op: 'and',
        filters: [
          { op: 'eq', field: 'vegan', value: true },
          { op: 'gt', field: 'priority', value: 1 },
        ],
      },
      true,
    ],
    [
      {
        op: 'or',
        filters: [
          { op: 'eq', field: 'vegan', value: false },
          { op: 'eq', field: 'priority', value: 3 },
        ],
      },
      true,
    ],
    [{ op: 'not', filter: { op: 'eq', field: 'category', value: 'food' } }, false],
  ])('%j -> %s', (filter, expected) => {
    expect(matchesFilter(validateFilter(filter), record)).toBe(expected);
  });
});

describe('normalizeFilter', () => {
  it('turns the shorthand into the AST', () => {
    expect(
      normalizeFilter({
        category: 'food',
        priority: { gte: 2, lt: 5 },
        OR: [{ a: 1 }, { b: { exists: false } }],
      }),
    ).toEqual({
      op: 'and',
      filters: [
        { op: 'eq', field: 'category', value: 'food' },
        { op: 'gte', field: 'priority', value: 2 },
        { op: 'lt', field: 'priority', value: 5 },
        {
          op: 'or',
          filters: [
            { op: 'eq', field: 'a', value: 1 },
            { op: 'not', filter: { op: 'exists', field: 'b' } },
          ],
        },
      ],
    });
  });

  it('passes an AST through and treats {} as no filter', () => {
    const ast: FilterExpression = { op: 'in', field: 'x', values: [1, 2] };
    expect(normalizeFilter(ast)).toEqual(ast);
    expect(normalizeFilter({})).toBeUndefined();
    expect(normalizeFilter(undefined)).toBeUndefined();
  });

  it.each([
    [{ op: 'like', field: 'a', value: 'x' }, 'is not one of'],
    [{ op: 'eq', field: 'a; DROP TABLE', value: 'x' }, 'metadata key'],
    [
      { op: 'eq', field: 'a', value: { nested: true } },
      'must be a string, finite number or boolean',
    ],
    [{ op: 'gt', field: 'a', value: true }, 'finite number or a string'],
    [{ op: 'in', field: 'a', values: 'x' }, 'must be an array'],
    [{ op: 'and', filters: [] }, 'non-empty array'],
    [{ a: { between: [1, 2] } }, 'not an operator'],
    [{ a: [1, 2] }, 'must be a string, number, boolean or an object of operators'],
    [{ op: 'eq', field: 'a', value: Number.NaN }, 'finite number'],
  ])('rejects %j', (input, message) => {
    let error: unknown;
    try {
      normalizeFilter(input as never);
    } catch (caught) {
      error = caught;
    }
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain(message);
  });

  it('rejects filters nested too deep', () => {
    let filter: FilterExpression = { op: 'eq', field: 'a', value: 1 };
    for (let depth = 0; depth < 20; depth++) filter = { op: 'not', filter };
    expect(() => validateFilter(filter)).toThrow('deeper than');
  });
});
