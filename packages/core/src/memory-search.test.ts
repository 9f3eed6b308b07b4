import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, NotFoundError } from './errors.js';
import { createHashEmbedder } from './hash-embedder.js';
import { createInMemoryStore } from './in-memory-vector-store.js';
import { Memory } from './memory.js';
import type { SearchResultItem } from './memory-types.js';
import { defaultKeywordWeight, defaultSearchThreshold } from './search-threshold.js';
import type { JsonValue } from './vector-store.js';

/** Every component given, so that nothing is read from the environment. */
const offline = { embedder: createHashEmbedder(), graphStore: null };

describe('validation', () => {
  const memory = new Memory({ vectorStore: createInMemoryStore(), llm: null, ...offline });

  it.each([
    [{}, 'At least one of userId'],
    [{ userId: '' }, 'must not be empty'],
    [{ userId: '   ' }, 'must not be empty'],
    [{ userId: 'a'.repeat(300) }, 'at most 256'],
    [{ userId: 42 }, 'must be a string'],
    [{ userId: 'a\nb' }, 'control characters'],
  ])('rejects scope %j', async (scope, message) => {
    const error = await memory.add('x', scope as never).catch((caught: unknown) => caught);
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain(message);
    await expect(memory.search('x', scope as never)).rejects.toThrow(message);
    await expect(memory.list(scope as never)).rejects.toThrow(message);
    await expect(memory.deleteAll(scope as never)).rejects.toThrow(message);
  });

  it('treats * as a literal id, not a wildcard', async () => {
    await memory.add('star', { userId: '*', infer: false });
    await memory.add('plain', { userId: 'plain-user', infer: false });
    expect(
      (await memory.search('plain', { userId: '*', threshold: 0 })).results.map(
        (item) => item.memory,
      ),
    ).toEqual(['star']);
  });

  it.each([
    [[], 'must not be empty'],
    [[{ role: 'tool', content: 'x' }], 'role must be'],
    [[{ role: 'user', content: 5 }], 'content must be a string'],
    ['   ', 'no text'],
    [42, 'must be a string or an array'],
  ])('rejects messages %j', async (messages, message) => {
    await expect(memory.add(messages as never, { userId: 'alice' })).rejects.toThrow(message);
  });

  it('rejects bad metadata, limits, filters and ids with typed errors', async () => {
    await expect(memory.add('x', { userId: 'a', metadata: [] as never })).rejects.toThrow(
      'plain JSON object',
    );
    await expect(memory.search('x', { userId: 'a', limit: 0 })).rejects.toThrow(
      'limit must be an integer',
    );
    await expect(
      memory.search('x', { userId: 'a', filters: { age: { between: 1 } } as never }),
    ).rejects.toThrow('not an operator');
    await expect(memory.search('', { userId: 'a' })).rejects.toThrow(
      'query must be a non-empty string',
    );
    await expect(memory.get('')).rejects.toThrow(InvalidArgumentError);
    await expect(memory.update('missing', { text: 'x' })).rejects.toThrow(NotFoundError);
    await expect(memory.delete('missing')).rejects.toThrow('No memory with id');
  });
});

describe('search', () => {
  async function seeded() {
    const memory = new Memory({ vectorStore: createInMemoryStore(), llm: null, ...offline });
    const seed: [string, string, Record<string, JsonValue>][] = [
      ['alice', 'Is allergic to peanuts', { category: 'health', priority: 3 }],
      ['alice', 'Loves hiking in the Alps', { category: 'hobby', priority: 1 }],
      ['alice', 'Works as a nurse at the city hospital', { category: 'work', priority: 2 }],
      ['alice', 'Her daughter Mia plays the piano', { category: 'family', priority: 2 }],
      ['bob', 'Is allergic to peanuts and shellfish', { category: 'health' }],
    ];
    await memory.import(seed.map(([userId, text, metadata]) => ({ userId, text, metadata })));
    return memory;
  }

  it('ranks the relevant memory first, with similarity scores, within the scope only', async () => {
    const memory = await seeded();
    const { results } = await memory.search('peanut allergy', { userId: 'alice' });
    expect(results[0]!.memory).toBe('Is allergic to peanuts');
    expect(results.every((item) => item.userId === 'alice')).toBe(true);
    for (const item of results) expect(item.score).toBeLessThanOrEqual(1.000001);
    expect(results[0]!.keywordScore).toBeGreaterThan(0);
  });

  it('applies filters (AST and shorthand), limit and threshold', async () => {
    const memory = await seeded();
    const shorthand = await memory.search('what does she do', {
      userId: 'alice',
      threshold: 0,
      filters: { priority: { gte: 2 } },
    });
    expect(
      shorthand.results
        .map((item) => item.metadata.priority)
        .every((priority) => (priority as number) >= 2),
    ).toBe(true);
    const ast = await memory.search('anything', {
      userId: 'alice',
      threshold: 0,
      filters: { op: 'in', field: 'category', values: ['hobby', 'family'] },
    });
    expect(ast.results.map((item) => item.metadata.category).sort()).toEqual(['family', 'hobby']);
    expect((await memory.search('peanuts', { userId: 'alice', limit: 1 })).results).toHaveLength(1);
    const strict = await memory.search('peanuts', { userId: 'alice', threshold: 0.99 });
    expect(strict.results).toEqual([]);
  });

  it('weights keyword relevance by keywordWeight, validated from 0 to 1', async () => {
    expect(() => new Memory({ keywordWeight: 2, ...offline })).toThrow('keywordWeight must be');
    const memory = new Memory({
      vectorStore: createInMemoryStore(),
      llm: null,
      ...offline,
      keywordWeight: 1,
    });
    await memory.import([
      { userId: 'u', text: 'zebra stripes pattern' },
      { userId: 'u', text: 'the quick brown fox jumps over the lazy dog near the river' },
    ]);
    const { results } = await memory.search('zebra', { userId: 'u', threshold: 0 });
    expect(results[0]!.memory).toBe('zebra stripes pattern');
    expect(results[0]!.keywordScore).toBeGreaterThan(0);
    expect(results[1]!.keywordScore).toBeUndefined();
  });

  it('works with keyword search off (vectors only)', async () => {
    const memory = await seeded();
    const { results } = await memory.search('allergic to peanuts', {
      userId: 'alice',
      keywordSearch: false,
    });
    expect(results[0]!.memory).toBe('Is allergic to peanuts');
    expect(results[0]!.keywordScore).toBeUndefined();
  });

  it('fetches vectors only for keyword hits that can still rank, with the same results', async () => {
    const store = createInMemoryStore();
    const fetched: string[] = [];
    const counting: typeof store = Object.assign(Object.create(store) as typeof store, {
      async get(options: Parameters<typeof store.get>[0]) {
        if (options.includeVectors) fetched.push(...options.ids);
        return store.get(options);
      },
    });
    const words = ['apple', 'river', 'stone', 'cloud', 'maple', 'tiger', 'ocean', 'piano'];
    const texts = Array.from(
      { length: 160 },
      (_, index) =>
        `${words[index % 8]} ${words[(index * 3) % 7]} note ${index} ${index % 5 === 0 ? 'apple river' : ''}`,
    );
    const identity = {
      specificationVersion: 'v1' as const,
      provider: 'test',
      modelId: 'identity',
      async rerank({ documents }: { documents: string[] }) {
        return { results: documents.map((_, index) => ({ index, score: -index })) };
      },
    };
    const pruned = new Memory({ vectorStore: counting, llm: null, ...offline });
    const complete = new Memory({
      vectorStore: counting,
      llm: null,
      ...offline,
      reranker: identity,
    });
    await pruned.import(texts.map((text) => ({ userId: 'u', text })));
    // The reranker's order is the fused one here, so only `score` (the reranker's) differs.
    const strip = (items: SearchResultItem[]) =>
      items.map(({ id, scores }) => ({
        id,
        vector: scores.vector,
        keyword: scores.keyword,
        fused: scores.fused,
      }));
    let completeFetches = 0;
    let prunedFetches = 0;
    for (const [query, options] of [
      ['apple river', { limit: 5 }],
      ['apple river stone', { limit: 10 }],
      ['piano note', { limit: 3, threshold: 0.1 }],
      ['ocean', { limit: 1, threshold: 0.9 }],
    ] as const) {
      fetched.length = 0;
      // A reranker sees every candidate, so nothing is left out of that search.
      const expected = await complete.search(query, { userId: 'u', ...options });
      completeFetches += fetched.length;
      fetched.length = 0;
      const actual = await pruned.search(query, { userId: 'u', ...options });
      prunedFetches += fetched.length;
      expect(strip(actual.results)).toEqual(strip(expected.results));
    }
    expect(completeFetches).toBeGreaterThan(10);
    expect(prunedFetches).toBeLessThan(completeFetches / 2);
  });

  it('uses a configured reranker', async () => {
    const memory = new Memory({
      vectorStore: createInMemoryStore(),
      llm: null,
      ...offline,
      reranker: {
        specificationVersion: 'v1',
        provider: 'test',
        modelId: 'reverse',
        async rerank({ documents }) {
          return { results: documents.map((_, index) => ({ index, score: index })).reverse() };
        },
      },
    });
    await memory.import([
      { userId: 'u', text: 'alpha one' },
      { userId: 'u', text: 'alpha two' },
    ]);
    const { results } = await memory.search('alpha one', { userId: 'u' });
    expect(results[0]!.rerankScore).toBe(1);
  });

  it('scores each result with what ordered it, the signals beside it', async () => {
    const memory = await seeded();
    const { results } = await memory.search('allergic nurse piano', { userId: 'alice' });
    expect(results.length).toBeGreaterThan(1);
    for (const [index, item] of results.entries()) {
      // A neighbour added by the default search context is placed by its hit's score.
      const hit = results.find((other) => other.id === item.neighbourOf);
      expect(item.score).toBe(hit ? hit.score : item.scores.fused);
      if (index > 0) expect(item.score).toBeLessThanOrEqual(results[index - 1]!.score);
      expect(item.scores.keyword).toBe(item.keywordScore);
    }
  });

  it('explains each signal: raw, normalized, weight, contribution', async () => {
    const memory = await seeded();
    const { results } = await memory.search('peanut allergy', { userId: 'alice', explain: true });
    const [first] = results;
    expect(first!.explanation!.rankedBy).toBe('fusion');
    const [vector, keyword] = first!.explanation!.contributions;
    expect(vector).toMatchObject({ signal: 'vector', raw: first!.scores.vector });
    expect(vector!.weight).toBeCloseTo(0.2, 10);
    expect(keyword).toMatchObject({ signal: 'keyword', raw: first!.keywordScore, weight: 0.8 });
    expect(keyword!.normalized).toBe(1);
    expect(vector!.contribution + keyword!.contribution).toBeCloseTo(first!.score, 10);
    const plain = await memory.search('peanut allergy', { userId: 'alice' });
    expect(plain.results[0]!.explanation).toBeUndefined();
  });

  it('leaves out unrelated memories by default; threshold 0 turns the cut-off off', async () => {
    const strict = { ...createHashEmbedder(), defaultSearchThreshold: 0.3 };
    const memory = new Memory({ vectorStore: createInMemoryStore(), llm: null, embedder: strict });
    await memory.import([
      { userId: 'u', text: 'Loves hiking in the Alps' },
      { userId: 'u', text: 'Is allergic to peanuts' },
    ]);
    const unrelated = await memory.search('quantum chromodynamics lecture', { userId: 'u' });
    expect(unrelated.results).toEqual([]);
    const all = await memory.search('quantum chromodynamics lecture', {
      userId: 'u',
      threshold: 0,
    });
    expect(all.results).toHaveLength(2);
    const related = await memory.search('hiking in the Alps', { userId: 'u', explain: true });
    // Search context is off by default: the cut-off keeps only the hit.
    expect(related.results.map((item) => item.memory)).toEqual(['Loves hiking in the Alps']);
    expect(related.results[0]!.explanation!.threshold).toBe(0.3);
    // Asked for, the memory written after the hit comes with it, the cut-off aside.
    const withContext = await memory.search('hiking in the Alps', { userId: 'u', context: true });
    expect(withContext.results.map((item) => [item.memory, item.neighbourOf])).toEqual([
      ['Loves hiking in the Alps', undefined],
      ['Is allergic to peanuts', withContext.results[0]!.id],
    ]);
    const lenient = new Memory({
      vectorStore: createInMemoryStore(),
      llm: null,
      embedder: strict,
      searchThreshold: 0,
    });
    await lenient.import([{ userId: 'u', text: 'Loves hiking in the Alps' }]);
    expect((await lenient.search('quantum chromodynamics', { userId: 'u' })).results).toHaveLength(
      1,
    );
    expect(() => new Memory({ ...offline, searchThreshold: 2 })).toThrow('searchThreshold must be');
  });

  it('knows the cut-off of the embedders it knows, and none for the others', () => {
    const named = (provider: string, modelId: string) => ({
      ...createHashEmbedder(),
      provider,
      modelId,
    });
    expect(defaultSearchThreshold(createHashEmbedder())).toBe(0);
    expect(defaultSearchThreshold(named('transformers', 'Xenova/all-MiniLM-L6-v2'))).toBe(0.2);
    expect(defaultSearchThreshold(named('openai', 'text-embedding-3-small'))).toBe(0.2);
    expect(defaultSearchThreshold(named('acme', 'acme-embed-1'))).toBe(0);
    expect(defaultKeywordWeight(createHashEmbedder())).toBe(0.8);
    expect(defaultKeywordWeight(named('transformers', 'Xenova/all-MiniLM-L6-v2'))).toBe(0.3);
    expect(defaultKeywordWeight(named('acme', 'acme-embed-1'))).toBe(0.5);
  });

  it('finds Chinese, Japanese and emoji words inside sentences', async () => {
    const memory = new Memory({ vectorStore: createInMemoryStore(), llm: null, ...offline });
    await memory.import([
      { userId: 'u', text: '我最喜欢吃四川火锅' },
      { userId: 'u', text: '私は東京に住んでいます' },
      { userId: 'u', text: 'Dinner tonight: 🍜 with friends' },
      { userId: 'u', text: 'Loves hiking in the Alps' },
    ]);
    for (const [query, expected] of [
      ['火锅', '我最喜欢吃四川火锅'],
      ['東京', '私は東京に住んでいます'],
      ['🍜', 'Dinner tonight: 🍜 with friends'],
    ]) {
      const { results } = await memory.search(query!, { userId: 'u', threshold: 0 });
      expect(results[0]!.memory).toBe(expected);
      expect(results[0]!.keywordScore).toBeGreaterThan(0);
    }
  });

  it('finds a Korean noun with its particle attached, and the other way round', async () => {
    const memory = new Memory({ vectorStore: createInMemoryStore(), llm: null, ...offline });
    await memory.import([
      { userId: 'u', text: '저는 서울에서 일해요' },
      { userId: 'u', text: '주말에는 부산으로 여행을 가요' },
      { userId: 'u', text: '매일 아침 커피를 마셔요' },
    ]);
    for (const [query, expected] of [
      ['서울', '저는 서울에서 일해요'],
      ['부산', '주말에는 부산으로 여행을 가요'],
      ['커피', '매일 아침 커피를 마셔요'],
      ['커피는', '매일 아침 커피를 마셔요'],
    ]) {
      const { results } = await memory.search(query!, { userId: 'u', threshold: 0 });
      expect(results[0]!.memory, query).toBe(expected);
      expect(results[0]!.keywordScore).toBeGreaterThan(0);
    }
  });
});
