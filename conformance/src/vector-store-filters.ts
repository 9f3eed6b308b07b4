import {
  type FilterExpression,
  type FilterOperator,
  type FilterScalar,
  filterOperators,
  type JsonValue,
  matchesFilter,
  UnsupportedFunctionalityError,
  type VectorRecord,
} from '@engram/core';
import fc from 'fast-check';
import { expect } from 'vitest';
import type { VectorStoreTestContext } from './harness.js';
import { caught, listAll, makeRecord, sortedIds } from './support.js';

type LeafOperator = Exclude<FilterOperator, 'and' | 'or' | 'not'>;
type CompositeOperator = Extract<FilterOperator, 'and' | 'or' | 'not'>;

const leafOperators: readonly LeafOperator[] = [
  'eq',
  'ne',
  'gt',
  'gte',
  'lt',
  'lte',
  'in',
  'nin',
  'contains',
  'exists',
];
const compositeOperators: readonly CompositeOperator[] = ['and', 'or', 'not'];

// Small pools so that generated filters hit generated records often. Strings differ by case and
// hold LIKE wildcards; numbers mix integers and floats; '5' and 'true' are strings that must not
// equal 5 or true.
const numbers = [-20, -3, -1.5, 0, 0.25, 1, 3, 3.75, 5, 10.5, 1000];
const strings = [
  'apple',
  'Apple',
  'apple pie',
  'banana',
  'cherry',
  '',
  'ñandú',
  '東京',
  'a%b',
  'x_y',
  '5',
  'true',
];
const tags = ['red', 'green', 'blue', 'Red', 'green-ish', '东'];
const cities = ['Paris', 'paris', 'Berlin', 'Zürich'];
const substrings = ['app', 'an', 'Ap', '東', '%', '_', 'green', 'x'];
const fields = ['n', 's', 'b', 'tags', 'nested.city', 'nested.zip', 'mixed', 'missing'];

const metadataArbitrary: fc.Arbitrary<Record<string, JsonValue>> = fc.record(
  {
    n: fc.oneof(
      fc.integer({ min: -20, max: 20 }),
      fc.constantFrom(...numbers),
      fc.constantFrom('5', '-1'),
    ),
    s: fc.constantFrom(...strings),
    b: fc.boolean(),
    tags: fc.uniqueArray(fc.constantFrom(...tags), { maxLength: 3 }),
    nested: fc.record(
      { city: fc.constantFrom(...cities), zip: fc.integer({ min: 1000, max: 1006 }) },
      { requiredKeys: [] },
    ),
    mixed: fc.oneof(
      fc.integer({ min: 0, max: 5 }),
      fc.constantFrom('1', '2', 'true', 'x'),
      fc.boolean(),
      fc.constant(null),
    ),
  },
  { requiredKeys: [] },
);

const scalarArbitrary: fc.Arbitrary<FilterScalar> = fc.oneof(
  fc.constantFrom(...numbers),
  fc.integer({ min: -20, max: 20 }),
  fc.constantFrom(...strings, ...cities, ...tags),
  fc.boolean(),
);
const rangeValueArbitrary: fc.Arbitrary<number | string> = fc.oneof(
  fc.constantFrom(...numbers),
  fc.integer({ min: -20, max: 1010 }),
  fc.constantFrom(...strings, ...cities),
);
const fieldArbitrary = fc.constantFrom(...fields);

function leafArbitrary(op: LeafOperator): fc.Arbitrary<FilterExpression> {
  switch (op) {
    case 'eq':
    case 'ne':
      return fc.record({ op: fc.constant(op), field: fieldArbitrary, value: scalarArbitrary });
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
      return fc.record({ op: fc.constant(op), field: fieldArbitrary, value: rangeValueArbitrary });
    case 'in':
    case 'nin':
      return fc.record({
        op: fc.constant(op),
        field: fieldArbitrary,
        values: fc.array(scalarArbitrary, { maxLength: 4 }),
      });
    case 'contains':
      return fc.record({
        op: fc.constant(op),
        field: fieldArbitrary,
        value: fc.oneof(
          fc.constantFrom(...tags, ...substrings),
          fc.integer({ min: 0, max: 5 }),
          fc.boolean(),
        ),
      });
    case 'exists':
      return fc.record({ op: fc.constant(op), field: fieldArbitrary });
  }
}

function filterArbitrary(
  leaves: readonly LeafOperator[],
  composites: readonly CompositeOperator[],
  depth: number,
): fc.Arbitrary<FilterExpression> {
  const leaf = fc.oneof(...leaves.map(leafArbitrary));
  if (depth === 0 || composites.length === 0) return leaf;
  const child = filterArbitrary(leaves, composites, depth - 1);
  const branches = composites.map(
    (op): fc.Arbitrary<FilterExpression> =>
      op === 'not'
        ? fc.record({ op: fc.constant(op), filter: child })
        : fc.record({
            op: fc.constant(op),
            filters: fc.array(child, { minLength: 1, maxLength: 3 }),
          }),
  );
  return fc.oneof(leaf, ...branches);
}

/** Filters whose only operator outside the store's capabilities is `op`. */
function filterUsing(
  op: FilterOperator,
  leaves: readonly LeafOperator[],
): fc.Arbitrary<FilterExpression> {
  if (!compositeOperators.includes(op as CompositeOperator)) {
    return leafArbitrary(op as LeafOperator);
  }
  // children use only supported operators, so the composite is the one under test
  const child = fc.oneof(...(leaves.length > 0 ? leaves : (['eq'] as const)).map(leafArbitrary));
  if (op === 'not') return fc.record({ op: fc.constant('not' as const), filter: child });
  return fc.record({
    op: fc.constant(op as 'and' | 'or'),
    filters: fc.array(child, { minLength: 1, maxLength: 3 }),
  });
}

export function filtersSection(context: VectorStoreTestContext) {
  const { test, store, createCollection, dimensions } = context;
  let dataset: Promise<{ collection: string; records: VectorRecord[]; seed: number }> | undefined;

  function loadDataset() {
    dataset ??= (async () => {
      const collection = await createCollection('filters');
      const seed = Date.now() % 2_147_483_647;
      const metadata = fc.sample(metadataArbitrary, { numRuns: 80, seed });
      const records = metadata.map((entry, index) =>
        makeRecord(dimensions, {
          text: `filter record ${index}`,
          userId: index % 4 === 0 ? 'filter-other' : 'filter-user',
          metadata: entry,
        }),
      );
      await store().upsert({ collection, records });
      return { collection, records, seed };
    })();
    return dataset;
  }

  async function expectMatchesReference(filter: FilterExpression, withScope: boolean) {
    const { collection, records, seed } = await loadDataset();
    const scope = withScope ? { userId: 'filter-user' } : undefined;
    const expected = sortedIds(
      records.filter(
        (record) =>
          (!scope || record.userId === scope.userId) && matchesFilter(filter, record.metadata),
      ),
    );
    const label = `${JSON.stringify(filter)}${scope ? ` in ${JSON.stringify(scope)}` : ''} (data seed ${seed})`;
    const options = { collection, filter, ...(scope ? { scope } : {}) };
    expect(sortedIds(await listAll(store(), { ...options, limit: 1000 })), `list ${label}`).toEqual(
      expected,
    );
    expect(await store().count(options), `count ${label}`).toBe(expected.length);
    const matches = await store().query({
      ...options,
      vector: records[0]!.vector,
      topK: records.length,
    });
    expect(sortedIds(matches.map((match) => match.record)), `query ${label}`).toEqual(expected);
  }

  function supported(): Set<FilterOperator> {
    return new Set(store().capabilities.filterOperators);
  }

  function supportedLeaves(): LeafOperator[] {
    const operators = supported();
    return leafOperators.filter((op) => operators.has(op));
  }

  for (const op of filterOperators) {
    test(`operator "${op}" matches the reference, or throws UnsupportedFunctionalityError when not declared`, async () => {
      const leaves = supportedLeaves();
      if (supported().has(op)) {
        await fc.assert(
          fc.asyncProperty(filterUsing(op, leaves), fc.boolean(), (filter, withScope) =>
            expectMatchesReference(filter, withScope),
          ),
          { numRuns: 25 },
        );
        return;
      }
      const { collection, records } = await loadDataset();
      const [filter] = fc.sample(filterUsing(op, leaves), { numRuns: 1 });
      const calls: [string, () => Promise<unknown>][] = [
        ['list', () => store().list({ collection, filter: filter!, limit: 10 })],
        ['count', () => store().count({ collection, filter: filter! })],
        [
          'query',
          () => store().query({ collection, filter: filter!, vector: records[0]!.vector, topK: 5 }),
        ],
        ['delete', () => store().delete({ collection, filter: filter! })],
      ];
      for (const [name, call] of calls) {
        const error = await caught(call);
        expect(
          UnsupportedFunctionalityError.isInstance(error),
          `${name} with ${JSON.stringify(filter)}: ${String(error)}`,
        ).toBe(true);
      }
      expect(await store().count({ collection })).toBe(records.length);
    });
  }

  test('random nested filters match the reference', async (context) => {
    const leaves = supportedLeaves();
    if (leaves.length === 0) context.skip('the store declares no comparison operator');
    const composites = compositeOperators.filter((op) => supported().has(op));
    await fc.assert(
      fc.asyncProperty(filterArbitrary(leaves, composites, 3), fc.boolean(), (filter, withScope) =>
        expectMatchesReference(filter, withScope),
      ),
      { numRuns: 40 },
    );
  });
}
