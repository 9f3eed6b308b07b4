import type { CollectionStats, VectorStore } from '@engram/core';
import { expect } from 'vitest';
import type { VectorStoreTestContext } from './harness.js';
import { makeRecord, upsertAll } from './support.js';

/** Engines that update their statistics after a write (on refresh) get this long to catch up. */
const settleMs = 20_000;

async function settledStats(
  store: VectorStore,
  collection: string,
  vectors: number,
): Promise<CollectionStats> {
  let last: CollectionStats = {};
  await expect
    .poll(
      async () => {
        last = await store.stats!({ collection });
        return last.vectors ?? vectors;
      },
      { timeout: settleMs, interval: 200 },
    )
    .toBe(vectors);
  return last;
}

export function statsSection(context: VectorStoreTestContext) {
  const { test, store, createCollection, dimensions } = context;
  test('stats count the records of a collection and measure its size', async (testContext) => {
    if (!store().stats) {
      testContext.skip('the store does not report stats (VectorStore.stats)');
      return;
    }
    const collection = await createCollection('stats');
    const empty = await settledStats(store(), collection, 0);
    const records = Array.from({ length: 12 }, () => makeRecord(dimensions, { userId: 'stats' }));
    await upsertAll(store(), collection, records);
    const full = await settledStats(store(), collection, 12);
    expect(full.vectors !== undefined || full.bytes !== undefined).toBe(true);
    if (full.bytes !== undefined) {
      expect(Number.isFinite(full.bytes)).toBe(true);
      expect(full.bytes).toBeGreaterThan(0);
      if (empty.bytes !== undefined) expect(full.bytes).toBeGreaterThanOrEqual(empty.bytes);
    }
    await store().delete({ collection, ids: records.slice(0, 2).map((record) => record.id) });
    await settledStats(store(), collection, 10);
  });

  test('stats of one collection leave the others out', async (testContext) => {
    if (!store().stats) {
      testContext.skip('the store does not report stats (VectorStore.stats)');
      return;
    }
    const [first, second] = [await createCollection('stats_a'), await createCollection('stats_b')];
    await upsertAll(store(), first, [makeRecord(dimensions), makeRecord(dimensions)]);
    await upsertAll(store(), second, [makeRecord(dimensions)]);
    await settledStats(store(), first, 2);
    await settledStats(store(), second, 1);
  });
}
