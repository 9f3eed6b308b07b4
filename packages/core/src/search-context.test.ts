import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, UnsupportedFunctionalityError } from './errors.js';
import { createHashEmbedder } from './hash-embedder.js';
import { createInMemoryStore } from './in-memory-vector-store.js';
import { Memory } from './memory.js';
import { maxScopeReadForContext, placeNeighbours } from './search-context.js';
import { timeOrderedId } from './time-ordered-id.js';
import type { VectorStore } from './vector-store.js';

const offline = { embedder: createHashEmbedder(), graphStore: null, llm: null };

/** The in-memory store without its `adjacent`, as most adapters are: core reads the scope. */
function withoutAdjacent(): VectorStore {
  const { adjacent: _adjacent, ...store } = createInMemoryStore();
  return store as VectorStore;
}

const conversation = [
  'alice: where did you go last summer?',
  'bob: we went hiking in the Swiss Alps',
  'alice: what did you eat there?',
  'bob: mostly cheese fondue and rösti',
  'alice: did the weather hold?',
  'bob: sunny every single day',
];

async function conversationMemory(vectorStore: VectorStore, options = {}) {
  const memory = new Memory({ vectorStore, ...offline, ...options });
  await memory.add(
    conversation.map((content) => ({ role: 'user' as const, content })),
    { userId: 'bob', infer: false },
  );
  await memory.add('alice: unrelated fact about tea', { userId: 'alice', infer: false });
  return memory;
}

describe('time-ordered ids', () => {
  it('sort in the order they were made, within one millisecond too', () => {
    const made = Array.from({ length: 5000 }, () => timeOrderedId(1_800_000_000_000));
    expect([...made].sort()).toEqual(made);
    expect(made[0]).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });
});

describe('placeNeighbours', () => {
  const idOf = (entry: string) => entry;
  it('puts neighbours after their hit, moves lower-ranked ones up, keeps each once, within limit', () => {
    const neighbours = new Map([
      ['a', { before: ['z'], after: ['b'] }],
      ['c', { before: ['a'], after: ['d'] }],
    ]);
    expect(placeNeighbours(['a', 'c', 'e', 'b'], neighbours, { idOf, hits: 2, limit: 10 })).toEqual(
      [
        { entry: 'a' },
        { entry: 'b', neighbourOf: 'a' },
        { entry: 'z', neighbourOf: 'a' },
        { entry: 'c' },
        { entry: 'd', neighbourOf: 'c' },
        { entry: 'e' },
      ],
    );
    expect(
      placeNeighbours(['a', 'c', 'e'], neighbours, { idOf, hits: 1, limit: 3 }).map(
        (placed) => placed.entry,
      ),
    ).toEqual(['a', 'b', 'z']);
  });
});

describe('search context', () => {
  it.each([
    ['native adjacent (in-memory store)', () => createInMemoryStore()],
    ['core reading the scope', withoutAdjacent],
  ])('adds the memory written after each of the first hits: %s', async (_name, create) => {
    const memory = await conversationMemory(create());
    try {
      const { results } = await memory.search('hiking Swiss Alps', {
        userId: 'bob',
        limit: 3,
        threshold: 0,
        context: { after: 1, hits: 1 },
        explain: true,
      });
      expect(results).toHaveLength(3);
      expect(results[0]!.memory).toBe(conversation[1]);
      expect(results[1]).toMatchObject({
        memory: conversation[2],
        neighbourOf: results[0]!.id,
        score: results[0]!.score,
      });
      expect(results[1]!.explanation?.rankedBy).toBe('context');
      expect(results.some((item) => item.memory.includes('tea'))).toBe(false);
      const plain = await memory.search('hiking Swiss Alps', {
        userId: 'bob',
        limit: 3,
        threshold: 0,
        context: false,
      });
      expect(plain.results.every((item) => item.neighbourOf === undefined)).toBe(true);
      const before = await memory.search('hiking Swiss Alps', {
        userId: 'bob',
        limit: 1,
        threshold: 0,
        context: { before: 1, after: 0 },
      });
      expect(before.results.map((item) => item.memory)).toEqual([conversation[1]]);
    } finally {
      await memory.close();
    }
  });

  it('is off by default; searchContext: true adds the next memory of the first two hits', async () => {
    const memory = await conversationMemory(createInMemoryStore(), { searchContext: true });
    const off = await conversationMemory(createInMemoryStore());
    try {
      const { results } = await memory.search('cheese fondue', { userId: 'bob', threshold: 0 });
      const hit = results.findIndex((item) => item.memory === conversation[3]);
      expect(hit).toBeLessThan(2);
      expect(results[hit + 1]).toMatchObject({
        memory: conversation[4],
        neighbourOf: results[hit]!.id,
      });
      const plain = await off.search('cheese fondue', { userId: 'bob', threshold: 0 });
      expect(plain.results.every((item) => item.neighbourOf === undefined)).toBe(true);
    } finally {
      await memory.close();
      await off.close();
    }
  });

  it('refuses bad options, and a scope too large to read when asked explicitly', async () => {
    expect(
      () =>
        new Memory({
          vectorStore: createInMemoryStore(),
          ...offline,
          searchContext: { after: 11 },
        }),
    ).toThrow(/searchContext.after must be an integer from 0 to 10/);
    const store = withoutAdjacent();
    const memory = new Memory({ vectorStore: store, ...offline });
    try {
      const error = await memory
        .search('x', { userId: 'bob', context: { hits: -1 } })
        .catch((caught: unknown) => caught);
      expect(InvalidArgumentError.isInstance(error)).toBe(true);
      await memory.import(
        Array.from({ length: maxScopeReadForContext + 1 }, (_, index) => ({
          text: `note ${index} about hiking`,
          userId: 'bob',
        })),
      );
      const refused = await memory
        .search('hiking', { userId: 'bob', threshold: 0, context: { after: 1 } })
        .catch((caught: unknown) => caught);
      expect(UnsupportedFunctionalityError.isInstance(refused)).toBe(true);
      expect((refused as Error).message).toContain('Search without context');
      // The default does without on a store that has no adjacent().
      const { results } = await memory.search('hiking', { userId: 'bob', threshold: 0 });
      expect(results).toHaveLength(10);
      expect(results.every((item) => item.neighbourOf === undefined)).toBe(true);
    } finally {
      await memory.close();
    }
  });
});
