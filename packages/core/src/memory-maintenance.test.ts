import { describe, expect, it } from 'vitest';
import { createHashEmbedder } from './hash-embedder.js';
import { createInMemoryStore } from './in-memory-vector-store.js';
import { Memory } from './memory.js';
import { createScriptedLLM, extractionInput, isExtractionRequest } from './testing/index.js';

const offline = { embedder: createHashEmbedder(), graphStore: null };

function verbatimMemory() {
  const store = createInMemoryStore();
  return { memory: new Memory({ vectorStore: store, llm: null, ...offline }), store };
}

describe('Memory.add with an idempotency key', () => {
  it('applies a verbatim add once; the repeat answers the first changes with a warning', async () => {
    const { memory } = verbatimMemory();
    const first = await memory.add('Likes oolong', { userId: 'a', idempotencyKey: 'job:1' });
    const again = await memory.add('Likes oolong', { userId: 'a', idempotencyKey: 'job:1' });
    expect(again.results).toEqual(first.results);
    expect(again.warnings?.[0]).toMatch(/already applied/);
    expect((await memory.list({ userId: 'a' })).results).toHaveLength(1);
    const other = await memory.add('Likes oolong', { userId: 'a', idempotencyKey: 'job:2' });
    expect(other.results).toHaveLength(1);
    expect((await memory.list({ userId: 'a' })).results).toHaveLength(2);
  });

  it('applies an inferred add once, even when two deliveries run at the same time', async () => {
    const llm = createScriptedLLM({
      fallback: (options) =>
        isExtractionRequest(options)
          ? { facts: [extractionInput(options).split('user: ')[1]!.trim()] }
          : { memory: [] },
    });
    const memory = new Memory({ vectorStore: createInMemoryStore(), llm, ...offline });
    const [one, two] = await Promise.all([
      memory.add('Plays chess', { userId: 'b', idempotencyKey: 'job:x' }),
      memory.add('Plays chess', { userId: 'b', idempotencyKey: 'job:x' }),
    ]);
    expect([one.results.length, two.results.length]).toEqual([1, 1]);
    expect((await memory.list({ userId: 'b' })).results.map((item) => item.memory)).toEqual([
      'Plays chess',
    ]);
  });

  it('refuses an empty key', async () => {
    const { memory } = verbatimMemory();
    await expect(memory.add('x', { userId: 'a', idempotencyKey: '' })).rejects.toThrow(
      /idempotencyKey/,
    );
  });
});

describe('Memory.mergeDuplicates', () => {
  async function seeded() {
    const { memory } = verbatimMemory();
    await memory.import([
      { userId: 'u', text: 'Likes green tea', metadata: { source: 'chat' } },
      { userId: 'u', text: 'likes green tea', metadata: { topic: 'drinks' } },
      { userId: 'u', text: 'Lives in Lisbon' },
      { userId: 'v', text: 'Likes green tea' },
      { userId: 'u', agentId: 'bot', text: 'Likes green tea' },
    ]);
    return memory;
  }

  it('dry run lists exact pairs within one scope only and changes nothing', async () => {
    const memory = await seeded();
    const result = await memory.mergeDuplicates({ dryRun: true });
    expect(result.scanned).toBe(5);
    expect(result.pairs).toHaveLength(1);
    expect(result.pairs[0]).toMatchObject({ exact: true, scope: { userId: 'u' } });
    expect((await memory.list({ userId: 'u' })).results).toHaveLength(4);
  });

  it('merges into the older memory, with metadata and history, never across scopes', async () => {
    const memory = await seeded();
    const result = await memory.mergeDuplicates({});
    expect(result.pairs).toHaveLength(1);
    const { keptId, removedId } = result.pairs[0]!;
    expect(await memory.get(removedId)).toBeNull();
    const kept = await memory.get(keptId);
    expect(kept?.metadata).toEqual({ source: 'chat', topic: 'drinks' });
    expect((await memory.history(removedId)).map((event) => event.event)).toEqual([
      'ADD',
      'DELETE',
    ]);
    expect((await memory.history(keptId)).map((event) => event.event)).toEqual(['ADD', 'UPDATE']);
    expect((await memory.list({ userId: 'v' })).results).toHaveLength(1);
    expect((await memory.mergeDuplicates({})).pairs).toEqual([]);
  });

  it('merges near duplicates above the threshold and pages with a cursor', async () => {
    const { memory } = verbatimMemory();
    await memory.import([
      { userId: 'w', text: 'Her favourite colour is deep ocean blue' },
      { userId: 'w', text: 'Her favourite colour is deep ocean blue!' },
      { userId: 'w', text: 'Owns a bicycle' },
    ]);
    let cursor: string | undefined;
    let pairs = 0;
    let pages = 0;
    do {
      const page = await memory.mergeDuplicates({
        threshold: 0.9,
        limit: 1,
        ...(cursor ? { cursor } : {}),
      });
      pairs += page.pairs.length;
      cursor = page.nextCursor;
      pages += 1;
    } while (cursor);
    expect(pages).toBeGreaterThanOrEqual(2);
    expect(pairs).toBe(1);
    expect((await memory.list({ userId: 'w' })).results).toHaveLength(2);
  });
});
