import { describe, expect, it } from 'vitest';
import { createHashEmbedder } from './hash-embedder.js';
import { createInMemoryStore } from './in-memory-vector-store.js';
import { Memory } from './memory.js';

/** Every component given, so that nothing is read from the environment. */
const offline = { embedder: createHashEmbedder(), graphStore: null };

describe('get, list, update, delete, deleteAll, reset, history, export', () => {
  it('paginates with no silent cap and nothing repeated', async () => {
    const memory = new Memory({ vectorStore: createInMemoryStore(), llm: null, ...offline });
    await memory.import(
      Array.from({ length: 1234 }, (_, index) => ({ userId: 'alice', text: `memory ${index}` })),
    );
    const seen = new Set<string>();
    let cursor: string | undefined;
    do {
      const page = await memory.list({
        userId: 'alice',
        limit: 100,
        ...(cursor ? { cursor } : {}),
      });
      for (const item of page.results) seen.add(item.id);
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen.size).toBe(1234);
    let exported = 0;
    for await (const _item of memory.export({ userId: 'alice' })) exported++;
    expect(exported).toBe(1234);
  });

  it('updates text (re-embedding) and merges metadata, recording history', async () => {
    const memory = new Memory({ vectorStore: createInMemoryStore(), llm: null, ...offline });
    const [added] = (await memory.add('Likes tea', { userId: 'alice', metadata: { a: 1, b: 2 } }))
      .results;
    const updated = await memory.update(added!.id, {
      text: 'Likes coffee',
      metadata: { b: 3, c: 4 },
    });
    expect(updated).toMatchObject({ memory: 'Likes coffee', metadata: { a: 1, b: 3, c: 4 } });
    expect((await memory.search('coffee', { userId: 'alice' })).results[0]!.id).toBe(added!.id);
    expect((await memory.history(added!.id)).map((event) => event.event)).toEqual([
      'ADD',
      'UPDATE',
    ]);
    await memory.delete(added!.id);
    expect(await memory.get(added!.id)).toBeNull();
    expect((await memory.history(added!.id)).map((event) => event.event)).toEqual([
      'ADD',
      'UPDATE',
      'DELETE',
    ]);
  });

  it('deleteAll removes every page of one scope and nothing of any other', async () => {
    const memory = new Memory({ vectorStore: createInMemoryStore(), llm: null, ...offline });
    await memory.import([
      ...Array.from({ length: 1200 }, (_, index) => ({ userId: 'alice', text: `a ${index}` })),
      ...Array.from({ length: 30 }, (_, index) => ({ userId: 'bob', text: `b ${index}` })),
      ...Array.from({ length: 20 }, (_, index) => ({ agentId: 'alice', text: `agent ${index}` })),
      { userId: 'alice2', text: 'prefix neighbour' },
    ]);
    expect(await memory.deleteAll({ userId: 'alice' })).toEqual({ deleted: 1200 });
    expect((await memory.list({ userId: 'alice' })).results).toEqual([]);
    expect((await memory.list({ userId: 'bob' })).results).toHaveLength(30);
    expect((await memory.list({ agentId: 'alice' })).results).toHaveLength(20);
    expect((await memory.list({ userId: 'alice2' })).results).toHaveLength(1);
  });

  it('deleteAll with user and agent only removes memories holding both', async () => {
    const memory = new Memory({ vectorStore: createInMemoryStore(), llm: null, ...offline });
    await memory.import([
      { userId: 'alice', agentId: 'travel', text: 'one' },
      { userId: 'alice', agentId: 'food', text: 'two' },
      { userId: 'alice', text: 'three' },
    ]);
    expect(await memory.deleteAll({ userId: 'alice', agentId: 'travel' })).toEqual({ deleted: 1 });
    expect(
      (await memory.list({ userId: 'alice' })).results.map((item) => item.memory).sort(),
    ).toEqual(['three', 'two']);
  });

  it('reset forgets a scope and its history only', async () => {
    const store = createInMemoryStore();
    const memory = new Memory({ vectorStore: store, llm: null, ...offline });
    await memory.add('alice fact', { userId: 'alice' });
    const [bobFact] = (await memory.add('bob fact', { userId: 'bob' })).results;
    await memory.reset({ userId: 'alice' });
    expect(
      (await store.byScope({ namespace: 'memories', scope: { userId: 'alice' }, limit: 10 }))
        .events,
    ).toEqual([]);
    expect(await memory.history(bobFact!.id)).toHaveLength(1);
    expect((await memory.list({ userId: 'bob' })).results).toHaveLength(1);
  });

  it('imports with kept ids and times: export then import restores, re-import is idempotent', async () => {
    const source = new Memory({ vectorStore: createInMemoryStore(), llm: null, ...offline });
    await source.import([
      { userId: 'alice', text: 'one', metadata: { n: 1 } },
      { userId: 'alice', agentId: 'travel', text: 'two' },
    ]);
    const exported = [];
    for await (const item of source.export({ userId: 'alice' })) exported.push(item);
    const items = exported.map(({ memory: text, id, userId, agentId, metadata, createdAt }) => ({
      id,
      text,
      metadata,
      createdAt,
      ...(userId ? { userId } : {}),
      ...(agentId ? { agentId } : {}),
    }));
    const target = new Memory({ vectorStore: createInMemoryStore(), llm: null, ...offline });
    expect((await target.import(items)).results.map((change) => change.event)).toEqual([
      'ADD',
      'ADD',
    ]);
    expect((await target.import(items)).results).toEqual([]);
    const restored = (await target.list({ userId: 'alice' })).results;
    expect(restored.map((item) => [item.id, item.createdAt]).sort()).toEqual(
      exported.map((item) => [item.id, item.createdAt]).sort(),
    );
    const changed = await target.import([{ ...items[0]!, text: 'one, edited' }]);
    expect(changed.results).toMatchObject([{ event: 'UPDATE', previousMemory: items[0]!.text }]);
  });

  it('refuses an imported id that belongs to another scope, writing nothing of the batch', async () => {
    const memory = new Memory({ vectorStore: createInMemoryStore(), llm: null, ...offline });
    const [bobs] = (await memory.add('bob secret', { userId: 'bob' })).results;
    await expect(
      memory.import([
        { userId: 'mallory', text: 'harmless' },
        { userId: 'mallory', id: bobs!.id, text: 'overwritten' },
      ]),
    ).rejects.toThrow('another scope');
    expect((await memory.get(bobs!.id))!.memory).toBe('bob secret');
    expect((await memory.list({ userId: 'mallory' })).results).toEqual([]);
    await expect(
      memory.import([{ userId: 'a', text: 'x', createdAt: 'yesterday' }]),
    ).rejects.toThrow('ISO-8601');
  });

  it('throws ClosedError after close', async () => {
    const memory = new Memory({ vectorStore: createInMemoryStore(), llm: null, ...offline });
    await memory.add('x', { userId: 'a' });
    await memory.close();
    await expect(memory.search('x', { userId: 'a' })).rejects.toThrow('closed');
  });
});
