import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from './errors.js';
import { expiresAtField } from './expiry.js';
import { createHashEmbedder } from './hash-embedder.js';
import { createInMemoryStore } from './in-memory-vector-store.js';
import { Memory } from './memory.js';

const offline = { embedder: createHashEmbedder(), graphStore: null, llm: null };
const start = Date.parse('2030-01-01T00:00:00.000Z');

/** A Memory on an in-memory store whose clock the test moves. */
function setup() {
  const store = createInMemoryStore();
  const clock = { now: start };
  const memory = new Memory({ vectorStore: store, ...offline, now: () => new Date(clock.now) });
  return { store, clock, memory };
}

const at = (offset: number) => new Date(start + offset).toISOString();

describe('expiry', () => {
  it('hides an expired memory from search, list, get and export, and shows expiresAt before', async () => {
    const { clock, memory } = setup();
    const added = await memory.add('I live in Lisbon', { userId: 'u', expiresAt: at(1000) });
    await memory.add('I like green tea', { userId: 'u' });
    const id = added.results[0]!.id;
    const before = await memory.get(id);
    expect(before?.expiresAt).toBe(at(1000));
    expect(before?.metadata).toEqual({});
    expect((await memory.list({ userId: 'u' })).results).toHaveLength(2);

    clock.now = start + 1000;
    expect(await memory.get(id)).toBeNull();
    const listed = await memory.list({ userId: 'u' });
    expect(listed.results.map((item) => item.memory)).toEqual(['I like green tea']);
    const found = await memory.search('Lisbon', { userId: 'u', threshold: 0 });
    expect(found.results.map((item) => item.id)).not.toContain(id);
    const exported = [];
    for await (const item of memory.export({ userId: 'u' })) exported.push(item.memory);
    expect(exported).toEqual(['I like green tea']);
    const all = [];
    for await (const item of memory.exportAll()) all.push(item.memory);
    expect(all).toEqual(['I like green tea']);
  });

  it('update sets and clears the expiry; import and export keep it', async () => {
    const { memory } = setup();
    const { results } = await memory.add('tea', { userId: 'u' });
    const id = results[0]!.id;
    expect((await memory.update(id, { expiresAt: at(5000) })).expiresAt).toBe(at(5000));
    expect((await memory.update(id, { metadata: { a: 1 } })).expiresAt).toBe(at(5000));
    expect((await memory.update(id, { expiresAt: null })).expiresAt).toBeUndefined();
    await memory.import([{ text: 'coffee', userId: 'v', id: 'c1', expiresAt: at(9000) }]);
    expect((await memory.get('c1'))?.expiresAt).toBe(at(9000));
  });

  it('refuses a malformed expiresAt and the reserved metadata key', async () => {
    const { memory } = setup();
    await expect(memory.add('x', { userId: 'u', expiresAt: 'tomorrow' })).rejects.toSatisfy(
      InvalidArgumentError.isInstance,
    );
    await expect(
      memory.add('x', { userId: 'u', metadata: { [expiresAtField]: 1 } }),
    ).rejects.toSatisfy(InvalidArgumentError.isInstance);
  });

  it('deleteExpired deletes only expired memories, in batches, with history events, and is idempotent', async () => {
    const { store, clock, memory } = setup();
    const items = Array.from({ length: 25 }, (_, index) => ({
      text: `fact number ${index}`,
      userId: index % 2 === 0 ? 'a' : 'b',
      id: `m${String(index).padStart(2, '0')}`,
      ...(index < 20 ? { expiresAt: at(index < 12 ? 100 : 10_000) } : {}),
    }));
    await memory.import(items);
    clock.now = start + 100;
    const progress: number[] = [];
    const result = await memory.deleteExpired({
      batchSize: 5,
      onProgress: (step) => progress.push(step.deleted),
    });
    expect(result.deleted).toBe(12);
    expect(progress.at(-1)).toBe(12);
    expect(progress.length).toBeGreaterThan(1);
    expect(await store.count({ collection: 'memories' })).toBe(13);
    const events = await memory.history('m00');
    expect(events.at(-1)).toMatchObject({
      event: 'DELETE',
      actor: 'expiry',
      previousText: 'fact number 0',
    });
    expect((await memory.deleteExpired()).deleted).toBe(0);
  });

  it('deleteExpired with erase erases the texts of the deleted memories history', async () => {
    const { clock, memory } = setup();
    await memory.import([{ text: 'secret', userId: 'a', id: 's1', expiresAt: at(10) }]);
    clock.now = start + 10;
    expect((await memory.deleteExpired({ erase: true })).deleted).toBe(1);
    const events = await memory.history('s1');
    expect(events.every((event) => event.newText === null && event.previousText === null)).toBe(
      true,
    );
  });

  it('deleteExpired stops between batches when aborted', async () => {
    const { clock, memory } = setup();
    await memory.import(
      Array.from({ length: 10 }, (_, index) => ({
        text: `t${index}`,
        userId: 'a',
        expiresAt: at(1),
      })),
    );
    clock.now = start + 1;
    const controller = new AbortController();
    const result = await memory.deleteExpired({
      batchSize: 3,
      signal: controller.signal,
      onProgress: () => controller.abort(),
    });
    expect(result.deleted).toBe(3);
    expect((await memory.deleteExpired()).deleted).toBe(7);
  });

  it('deleteExpired reads each page once (no restart per batch) and still finds everything behind an offset cursor', async () => {
    const inner = createInMemoryStore();
    let restarts = 0;
    let offsetCursors = false;
    // A store whose cursor is an offset: deleting the rows of a page shifts the rest back.
    const store: typeof inner = Object.assign(Object.create(inner) as typeof inner, {
      list: async (options: Parameters<typeof inner.list>[0]) => {
        if (!options.cursor) restarts++;
        if (!offsetCursors) return inner.list(options);
        const offset = Number(options.cursor ?? 0);
        const all = await inner.list({ ...options, cursor: undefined, limit: 100_000 });
        const records = all.records.slice(offset, offset + (options.limit ?? 100));
        const next = offset + records.length;
        return next < all.records.length ? { records, nextCursor: String(next) } : { records };
      },
    });
    const clock = { now: start };
    const memory = new Memory({ vectorStore: store, ...offline, now: () => new Date(clock.now) });
    const items = (prefix: string) =>
      Array.from({ length: 40 }, (_, index) => ({
        text: `${prefix} fact ${index}`,
        userId: `u${index % 4}`,
        id: `${prefix}${String(index).padStart(2, '0')}`,
        ...(index % 2 === 0 ? { expiresAt: at(50) } : {}),
      }));
    await memory.import(items('k'));
    clock.now = start + 50;
    restarts = 0;
    expect((await memory.deleteExpired({ batchSize: 4 })).deleted).toBe(20);
    // One pass following the cursors, then one more that finds nothing. Before, every deleting
    // batch started again from the first page, which a store scans up to the next match.
    expect(restarts).toBe(2);
    expect(await inner.count({ collection: 'memories' })).toBe(20);

    offsetCursors = true;
    clock.now = start;
    await memory.import(items('o'));
    clock.now = start + 50;
    expect((await memory.deleteExpired({ batchSize: 4 })).deleted).toBe(20);
    expect(await inner.count({ collection: 'memories' })).toBe(40);
  });
});
