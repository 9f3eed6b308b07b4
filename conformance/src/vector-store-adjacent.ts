import { neighboursInWriteOrder, type StoredRecord } from '@engram/core';
import { expect } from 'vitest';
import type { VectorStoreTestContext } from './harness.js';
import { makeRecord, upsertAll } from './support.js';

const ids = (records: readonly StoredRecord[]) => records.map((record) => record.id);

/**
 * `adjacent`, for stores that have it: the records written just before and after each anchor,
 * in `createdAt` then id order, within the scope and filter, compared with core's reference.
 */
export function adjacentSection(context: VectorStoreTestContext) {
  const { test, store, createCollection, dimensions } = context;
  test('adjacent returns the records written next to each anchor, within scope and filter', async (testContext) => {
    const adjacent = store().adjacent?.bind(store());
    if (!adjacent) {
      testContext.skip('the store has no adjacent(): core reads small scopes itself');
      return;
    }
    const collection = await createCollection('adjacent');
    const start = Date.parse('2026-01-01T00:00:00.000Z');
    const at = (minute: number) => new Date(start + minute * 60_000).toISOString();
    // Turns of one conversation, two written in the same millisecond (ordered by id then).
    const turns = [0, 1, 2, 2, 3, 4, 5].map((minute, index) =>
      makeRecord(dimensions, {
        id: `00000000-0000-7000-8000-${String(index).padStart(12, '0')}`,
        userId: 'adjacent-kim',
        text: `turn ${index}`,
        metadata: { topic: index === 4 ? 'hidden' : 'chat' },
        createdAt: at(minute),
        updatedAt: at(minute),
      }),
    );
    const others = [1, 2, 3].map((minute) =>
      makeRecord(dimensions, {
        userId: 'adjacent-lee',
        createdAt: at(minute),
        updatedAt: at(minute),
      }),
    );
    // Written out of order: the order comes from createdAt and id, not from the writes.
    await upsertAll(store(), collection, [...others, ...turns].reverse());
    const scope = { userId: 'adjacent-kim' };
    const anchors = [turns[3]!.id, turns[0]!.id, turns[6]!.id, others[0]!.id, 'missing'];
    const found = await adjacent({ collection, scope, ids: anchors, before: 2, after: 2 });
    const reference = neighboursInWriteOrder(turns, { ids: anchors, before: 2, after: 2 });
    expect(found.map((entry) => entry.id)).toEqual([turns[3]!.id, turns[0]!.id, turns[6]!.id]);
    expect(found.map((entry) => [ids(entry.before), ids(entry.after)])).toEqual(
      reference.map((entry) => [ids(entry.before), ids(entry.after)]),
    );
    expect(ids(found[0]!.before)).toEqual([turns[1]!.id, turns[2]!.id]);
    expect(ids(found[0]!.after)).toEqual([turns[4]!.id, turns[5]!.id]);
    expect(found[0]!.after[0]).toMatchObject({ text: 'turn 4', userId: 'adjacent-kim' });
    expect(found[0]!.after[0]!.vector).toBeUndefined();

    if (!store().capabilities.filterOperators.includes('eq')) return;
    const filtered = await adjacent({
      collection,
      scope,
      filter: { op: 'eq', field: 'topic', value: 'chat' },
      ids: [turns[3]!.id],
      before: 0,
      after: 1,
      includeVectors: true,
    });
    expect(ids(filtered[0]!.after)).toEqual([turns[5]!.id]);
    expect(filtered[0]!.after[0]!.vector).toHaveLength(dimensions);
    expect(filtered[0]!.before).toEqual([]);
  });
}
