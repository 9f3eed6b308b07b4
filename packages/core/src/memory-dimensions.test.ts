import { describe, expect, it } from 'vitest';
import { DimensionMismatchError } from './errors.js';
import { createHashEmbedder } from './hash-embedder.js';
import { createInMemoryStore } from './in-memory-vector-store.js';
import { Memory } from './memory.js';

async function expectMismatch(work: Promise<unknown>) {
  const error = await work.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(DimensionMismatchError.isInstance(error), String(error)).toBe(true);
  expect(String(error)).toContain('ENGRAM_EMBEDDER');
}

describe('a collection written by another embedder', () => {
  async function written() {
    const store = createInMemoryStore();
    const before = new Memory({
      vectorStore: store,
      embedder: createHashEmbedder({ dimensions: 64 }),
      llm: null,
      graphStore: null,
    });
    const { results } = await before.import([
      { userId: 'alice', text: 'Alice likes tea' },
      { userId: 'alice', text: 'Alice lives in Lyon' },
      { userId: 'alice', text: 'Alice plays chess' },
      { userId: 'bob', text: 'Bob likes coffee' },
    ]);
    const after = new Memory({
      vectorStore: store,
      embedder: createHashEmbedder({ dimensions: 128 }),
      llm: null,
      graphStore: null,
    });
    return { after, ids: results.map((change) => change.id), store };
  }

  it('still lists, gets, exports, shows history and deletes', async () => {
    const { after, ids } = await written();
    expect((await after.list({ userId: 'alice' })).results).toHaveLength(3);
    expect((await after.get(ids[0]!))?.memory).toBe('Alice likes tea');
    const exported = [];
    for await (const item of after.export({ userId: 'bob' })) exported.push(item.memory);
    expect(exported).toEqual(['Bob likes coffee']);
    expect((await after.history(ids[0]!)).map((event) => event.event)).toEqual(['ADD']);
    expect(await after.update(ids[1]!, { metadata: { city: true } })).toMatchObject({
      metadata: { city: true },
    });
    expect(await after.delete(ids[0]!)).toEqual({ id: ids[0], deleted: true });
    expect(await after.deleteAll({ userId: 'alice' })).toEqual({ deleted: 2 });
    expect(await after.reset({ userId: 'bob' })).toEqual({ deleted: 1 });
    expect((await after.list({ userId: 'bob' })).results).toEqual([]);
  });

  it('refuses add, search, import and a new text with the DimensionMismatchError', async () => {
    const { after, ids, store } = await written();
    await expectMismatch(after.add('Alice likes jazz', { userId: 'alice' }));
    await expectMismatch(after.search('tea', { userId: 'alice' }));
    await expectMismatch(after.import([{ userId: 'alice', text: 'Alice likes jazz' }]));
    await expectMismatch(after.update(ids[0]!, { text: 'Alice likes green tea' }));
    expect((await after.get(ids[0]!))?.memory).toBe('Alice likes tea');
    expect(
      (await store.byScope({ namespace: 'memories', scope: { userId: 'alice' }, limit: 10 }))
        .events,
    ).toHaveLength(3);
  });
});
