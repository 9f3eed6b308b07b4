import { expiredFilter, type FilterOperator, unexpiredFilter } from '@engram/core';
import { expect } from 'vitest';
import type { VectorStoreTestContext } from './harness.js';
import { listAll, makeRecord, randomUnitVector, sortedIds, upsertAll } from './support.js';

/** Operators of the expiry filters core adds to every list and search. */
const expiryOperators: readonly FilterOperator[] = ['not', 'lte'];

export function expirySection(context: VectorStoreTestContext) {
  const { test, store, createCollection, dimensions } = context;
  test('the expiry filters select unexpired and expired records (list, query, count, delete)', async (testContext) => {
    const supported = new Set(store().capabilities.filterOperators);
    const missing = expiryOperators.filter((operator) => !supported.has(operator));
    if (missing.length > 0) {
      testContext.skip(
        `the store does not translate ${missing.join(', ')}: core drops expired records itself`,
      );
      return;
    }
    const collection = await createCollection('expiry');
    const now = Date.now();
    const scope = { userId: 'expiry' };
    const field = 'engram_expires_at';
    const never = makeRecord(dimensions, { ...scope, metadata: { topic: 'tea' } });
    const expired = makeRecord(dimensions, { ...scope, metadata: { [field]: now - 60_000 } });
    const boundary = makeRecord(dimensions, { ...scope, metadata: { [field]: now } });
    const future = makeRecord(dimensions, { ...scope, metadata: { [field]: now + 86_400_000 } });
    await upsertAll(store(), collection, [never, expired, boundary, future]);
    const live = sortedIds([never, future]);
    const gone = sortedIds([expired, boundary]);

    const unexpired = unexpiredFilter(new Date(now));
    expect(sortedIds(await listAll(store(), { collection, scope, filter: unexpired }))).toEqual(
      live,
    );
    const matches = await store().query({
      collection,
      vector: randomUnitVector(dimensions),
      topK: 10,
      scope,
      filter: unexpired,
    });
    expect(sortedIds(matches.map((match) => match.record))).toEqual(live);
    expect(await store().count({ collection, scope, filter: unexpired })).toBe(2);
    const past = expiredFilter(new Date(now));
    expect(sortedIds(await listAll(store(), { collection, filter: past }))).toEqual(gone);
    expect((await store().delete({ collection, filter: past })).deleted).toBe(2);
    expect(sortedIds(await listAll(store(), { collection, scope }))).toEqual(live);
  });
}
