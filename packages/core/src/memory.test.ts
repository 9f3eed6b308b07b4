import { describe, expect, it } from 'vitest';
import { EngramError, InvalidArgumentError, NotFoundError } from './errors.js';
import { createInMemoryStore } from './in-memory-vector-store.js';
import type { LLMGenerateOptions } from './llm.js';
import { Memory } from './memory.js';
import {
  createScriptedLLM,
  extractionInput,
  isExtractionRequest,
  isReconcileRequest,
  reconcileInput,
  type ScriptedAnswer,
} from './testing/index.js';
import { normalizeText } from './text.js';

function memoryWith(answers: ScriptedAnswer[] | { fallback: ScriptedAnswer }, extra = {}) {
  const llm = createScriptedLLM(Array.isArray(answers) ? { answers } : answers);
  const store = createInMemoryStore();
  const memory = new Memory({ vectorStore: store, llm, env: {}, ...extra });
  return { memory, llm, store };
}

/**
 * A rule-based stand-in for a model: every sentence of the user's turns is a fact; a fact already
 * stored (same normalized text) is NONE, anything else is ADD.
 */
function ruleBasedAnswer(options: LLMGenerateOptions): ScriptedAnswer {
  if (isExtractionRequest(options)) {
    const facts = extractionInput(options)
      .split('\n')
      .filter((line) => line.startsWith('user: '))
      .flatMap((line) => line.slice(6).split('.'))
      .map((fact) => fact.trim())
      .filter(Boolean);
    return { facts };
  }
  if (isReconcileRequest(options)) {
    const { existing, facts } = reconcileInput(options);
    return {
      memory: facts.map((fact) => {
        const same = existing.find((memory) => normalizeText(memory.text) === normalizeText(fact));
        return same
          ? { event: 'NONE', id: same.id, text: '' }
          : { event: 'ADD', id: '', text: fact };
      }),
    };
  }
  throw new Error('unexpected request');
}

describe('Memory.add with an LLM', () => {
  it('extracts facts, embeds them in one batch and adds them without a reconcile call when nothing is stored', async () => {
    const { memory, llm } = memoryWith([{ facts: ['Is vegetarian', 'Lives in Lisbon'] }]);
    const result = await memory.add('I am vegetarian and I live in Lisbon', { userId: 'alice' });
    expect(result.results.map((change) => [change.event, change.memory])).toEqual([
      ['ADD', 'Is vegetarian'],
      ['ADD', 'Lives in Lisbon'],
    ]);
    expect(llm.calls).toHaveLength(1);
    const listed = await memory.list({ userId: 'alice' });
    expect(listed.results.map((item) => item.memory).sort()).toEqual([
      'Is vegetarian',
      'Lives in Lisbon',
    ]);
  });

  it("puts today's date in the extraction prompt, computed per call", async () => {
    let now = new Date('2026-03-01T10:00:00Z');
    const { memory, llm } = memoryWith({ fallback: { facts: [] } }, { now: () => now });
    await memory.add('hello', { userId: 'alice' });
    now = new Date('2026-03-02T10:00:00Z');
    await memory.add('hello again', { userId: 'alice' });
    expect(llm.calls[0]!.messages[0]!.content).toContain('2026-03-01');
    expect(llm.calls[1]!.messages[0]!.content).toContain('2026-03-02');
  });

  it('reconciles with existing memories under short temporary ids: UPDATE, DELETE, NONE', async () => {
    const { memory, llm } = memoryWith([
      { facts: ['Likes pizza', 'Works at Acme', 'Has a cat'] },
      { facts: ['Loves pepperoni pizza', 'Left Acme', 'Has a cat'] },
      (options: LLMGenerateOptions) => {
        const { existing } = reconcileInput(options);
        expect(existing.map((memory) => memory.id)).toEqual(
          existing.map((_, index) => String(index)),
        );
        const idOf = (text: string) => existing.find((memory) => memory.text === text)!.id;
        return {
          memory: [
            { event: 'UPDATE', id: idOf('Likes pizza'), text: 'Loves pepperoni pizza' },
            { event: 'DELETE', id: idOf('Works at Acme'), text: '' },
            { event: 'NONE', id: idOf('Has a cat'), text: '' },
          ],
        };
      },
    ]);
    const first = await memory.add('pizza, acme, cat', { userId: 'alice' });
    const result = await memory.add('pepperoni, left acme, cat', { userId: 'alice' });
    expect(result.results.map((change) => change.event).sort()).toEqual(['DELETE', 'UPDATE']);
    const updated = result.results.find((change) => change.event === 'UPDATE')!;
    expect(updated.previousMemory).toBe('Likes pizza');
    expect(updated.id).toBe(first.results.find((change) => change.memory === 'Likes pizza')!.id);
    const reconcilePrompt = llm.calls[2]!.messages.map((message) => message.content).join('\n');
    for (const change of first.results) expect(reconcilePrompt).not.toContain(change.id);
    const texts = (await memory.list({ userId: 'alice' })).results
      .map((item) => item.memory)
      .sort();
    expect(texts).toEqual(['Has a cat', 'Loves pepperoni pizza']);
    const history = await memory.history(updated.id);
    expect(history.map((event) => [event.event, event.previousText, event.newText])).toEqual([
      ['ADD', null, 'Likes pizza'],
      ['UPDATE', 'Likes pizza', 'Loves pepperoni pizza'],
    ]);
  });

  it('repairs fenced, wrapped and trailing-comma JSON', async () => {
    const { memory } = memoryWith([
      'Sure! Here are the facts:\n```json\n{"facts": ["Plays the violin",],}\n```\nAnything else?',
    ]);
    const result = await memory.add('I play the violin', { userId: 'alice' });
    expect(result.results.map((change) => change.memory)).toEqual(['Plays the violin']);
  });

  it('retries an unusable extraction answer once, then succeeds', async () => {
    const { memory, llm } = memoryWith([
      'I think the user plays violin.',
      { facts: ['Plays the violin'] },
    ]);
    const result = await memory.add('I play the violin', { userId: 'alice' });
    expect(result.results).toHaveLength(1);
    expect(llm.calls).toHaveLength(2);
    expect(llm.calls[1]!.messages.at(-1)!.content).toContain('JSON only');
    expect(result.warnings?.[0]).toContain('unusable');
  });

  it('keeps the raw input in history when extraction keeps failing, without throwing', async () => {
    const store = createInMemoryStore();
    const llm = createScriptedLLM({ fallback: 'not json at all' });
    const memory = new Memory({ vectorStore: store, llm, env: {} });
    const result = await memory.add(
      [{ role: 'user', content: 'My passport number ends in 1234' }],
      { userId: 'alice' },
    );
    expect(result.results).toEqual([]);
    expect(result.warnings?.at(-1)).toContain('INFERENCE_FAILED');
    const { events } = await store.byScope({ scope: { userId: 'alice' }, limit: 10 });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ event: 'INFERENCE_FAILED', memoryId: null, userId: 'alice' });
    expect(events[0]!.newText).toContain('passport number ends in 1234');
  });

  it('keeps the raw input in history and rethrows when the LLM call itself fails', async () => {
    const store = createInMemoryStore();
    const llm = createScriptedLLM({
      fallback: new EngramError({ message: 'quota exceeded', source: 'ai-sdk' }),
    });
    const memory = new Memory({ vectorStore: store, llm, env: {} });
    await expect(memory.add('remember me', { userId: 'alice' })).rejects.toThrow('quota exceeded');
    const { events } = await store.byScope({ scope: { userId: 'alice' }, limit: 10 });
    expect(events.map((event) => event.event)).toEqual(['INFERENCE_FAILED']);
  });

  it('stores nothing for an empty fact list', async () => {
    const { memory } = memoryWith([{ facts: [] }]);
    expect(await memory.add('hi!', { userId: 'alice' })).toEqual({ results: [] });
  });

  it('treats hallucinated ids safely: UPDATE of an unknown id becomes ADD, DELETE of one is ignored', async () => {
    const { memory } = memoryWith([
      { facts: ['Likes tea'] },
      { facts: ['Likes green tea', 'Owns a bike'] },
      {
        memory: [
          { event: 'UPDATE', id: '7', text: 'Likes green tea' },
          { event: 'DELETE', id: '3f2a9c1e-0000-4000-8000-000000000000', text: '' },
          { event: 'ADD', id: '', text: 'Owns a bike' },
        ],
      },
    ]);
    await memory.add('tea', { userId: 'alice' });
    const result = await memory.add('green tea, bike', { userId: 'alice' });
    expect(result.results.map((change) => [change.event, change.memory])).toEqual([
      ['ADD', 'Likes green tea'],
      ['ADD', 'Owns a bike'],
    ]);
    expect(result.warnings?.join(' ')).toContain('unknown memory id');
    expect((await memory.list({ userId: 'alice' })).results).toHaveLength(3);
  });

  it('falls back to adding new facts when reconciliation answers nothing usable, skipping exact duplicates', async () => {
    const { memory } = memoryWith([
      { facts: ['Likes tea'] },
      { facts: ['Likes tea', 'Owns a bike'] },
      '',
      '{"memory": []}',
    ]);
    await memory.add('tea', { userId: 'alice' });
    const result = await memory.add('tea, bike', { userId: 'alice' });
    expect(result.results.map((change) => change.memory)).toEqual(['Owns a bike']);
    expect(
      (await memory.list({ userId: 'alice' })).results.map((item) => item.memory).sort(),
    ).toEqual(['Likes tea', 'Owns a bike']);
  });

  it('serializes 50 concurrent adds of overlapping facts for one scope: no duplicates, nothing lost', async () => {
    const { memory } = memoryWith({ fallback: ruleBasedAnswer });
    const topics = ['Likes tea', 'Owns a bike', 'Lives in Oslo', 'Has two kids', 'Plays chess'];
    await Promise.all(
      Array.from({ length: 50 }, (_, index) =>
        memory.add(`${topics[index % 5]}. ${topics[(index + 1) % 5]}. Fact ${index % 10}`, {
          userId: 'alice',
        }),
      ),
    );
    const texts = (await memory.list({ userId: 'alice', limit: 1000 })).results.map(
      (item) => item.memory,
    );
    expect(new Set(texts).size).toBe(texts.length);
    expect(texts.sort()).toEqual(
      [...topics, ...Array.from({ length: 10 }, (_, index) => `Fact ${index}`)].sort(),
    );
  });

  it('runs adds of different scopes in parallel', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const { memory } = memoryWith({
      fallback: async () => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 20));
        inFlight--;
        return { facts: [] };
      },
    });
    await Promise.all(['a', 'b', 'c'].map((userId) => memory.add('x', { userId })));
    expect(maxInFlight).toBe(3);
  });

  it("never reconciles against another scope's memories", async () => {
    const { memory, llm } = memoryWith({ fallback: ruleBasedAnswer });
    await memory.add('Likes tea', { userId: 'alice' });
    await memory.add('Likes tea', { userId: 'bob' });
    expect(llm.calls.filter(isReconcileRequest)).toHaveLength(0);
    expect((await memory.list({ userId: 'bob' })).results.map((item) => item.memory)).toEqual([
      'Likes tea',
    ]);
  });
});

describe('Memory.add without inference', () => {
  it('stores each message as a memory, with its role when several are given', async () => {
    const memory = new Memory({ vectorStore: createInMemoryStore(), llm: null, env: {} });
    const result = await memory.add(
      [
        { role: 'system', content: 'be nice' },
        { role: 'user', content: 'I like jazz' },
        { role: 'assistant', content: 'Noted: you like jazz' },
      ],
      { userId: 'alice', metadata: { source: 'chat' } },
    );
    expect(result.results.map((change) => change.memory)).toEqual([
      'I like jazz',
      'Noted: you like jazz',
    ]);
    const items = (await memory.list({ userId: 'alice' })).results;
    expect(items.map((item) => item.metadata.role).sort()).toEqual(['assistant', 'user']);
    expect(items.every((item) => item.metadata.source === 'chat')).toBe(true);
  });

  it('honours infer: false even when an LLM is configured', async () => {
    const { memory, llm } = memoryWith([]);
    await memory.add('raw text', { userId: 'alice', infer: false });
    expect(llm.calls).toHaveLength(0);
  });

  it('rejects infer: true without an LLM', async () => {
    const memory = new Memory({ vectorStore: createInMemoryStore(), llm: null, env: {} });
    await expect(memory.add('x', { userId: 'alice', infer: true })).rejects.toThrow(
      InvalidArgumentError,
    );
  });
});

describe('validation', () => {
  const memory = new Memory({ vectorStore: createInMemoryStore(), llm: null, env: {} });

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
      (await memory.search('plain', { userId: '*' })).results.map((item) => item.memory),
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
    const memory = new Memory({ vectorStore: createInMemoryStore(), llm: null, env: {} });
    await memory.import([
      {
        userId: 'alice',
        text: 'Is allergic to peanuts',
        metadata: { category: 'health', priority: 3 },
      },
      {
        userId: 'alice',
        text: 'Loves hiking in the Alps',
        metadata: { category: 'hobby', priority: 1 },
      },
      {
        userId: 'alice',
        text: 'Works as a nurse at the city hospital',
        metadata: { category: 'work', priority: 2 },
      },
      {
        userId: 'alice',
        text: 'Her daughter Mia plays the piano',
        metadata: { category: 'family', priority: 2 },
      },
      {
        userId: 'bob',
        text: 'Is allergic to peanuts and shellfish',
        metadata: { category: 'health' },
      },
    ]);
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
      filters: { priority: { gte: 2 } },
    });
    expect(
      shorthand.results
        .map((item) => item.metadata.priority)
        .every((priority) => (priority as number) >= 2),
    ).toBe(true);
    const ast = await memory.search('anything', {
      userId: 'alice',
      filters: { op: 'in', field: 'category', values: ['hobby', 'family'] },
    });
    expect(ast.results.map((item) => item.metadata.category).sort()).toEqual(['family', 'hobby']);
    expect((await memory.search('peanuts', { userId: 'alice', limit: 1 })).results).toHaveLength(1);
    const strict = await memory.search('peanuts', { userId: 'alice', threshold: 0.99 });
    expect(strict.results).toEqual([]);
  });

  it('weights keyword relevance by keywordWeight, validated from 0 to 1', async () => {
    expect(() => new Memory({ keywordWeight: 2, env: {} })).toThrow('keywordWeight must be');
    const memory = new Memory({
      vectorStore: createInMemoryStore(),
      llm: null,
      env: {},
      keywordWeight: 1,
    });
    await memory.import([
      { userId: 'u', text: 'zebra stripes pattern' },
      { userId: 'u', text: 'the quick brown fox jumps over the lazy dog near the river' },
    ]);
    const { results } = await memory.search('zebra', { userId: 'u' });
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

  it('uses a configured reranker', async () => {
    const memory = new Memory({
      vectorStore: createInMemoryStore(),
      llm: null,
      env: {},
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
});

describe('get, list, update, delete, deleteAll, reset, history, export', () => {
  it('paginates with no silent cap and nothing repeated', async () => {
    const memory = new Memory({ vectorStore: createInMemoryStore(), llm: null, env: {} });
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
    const memory = new Memory({ vectorStore: createInMemoryStore(), llm: null, env: {} });
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
    const memory = new Memory({ vectorStore: createInMemoryStore(), llm: null, env: {} });
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
    const memory = new Memory({ vectorStore: createInMemoryStore(), llm: null, env: {} });
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
    const memory = new Memory({ vectorStore: store, llm: null, env: {} });
    await memory.add('alice fact', { userId: 'alice' });
    const [bobFact] = (await memory.add('bob fact', { userId: 'bob' })).results;
    await memory.reset({ userId: 'alice' });
    expect((await store.byScope({ scope: { userId: 'alice' }, limit: 10 })).events).toEqual([]);
    expect(await memory.history(bobFact!.id)).toHaveLength(1);
    expect((await memory.list({ userId: 'bob' })).results).toHaveLength(1);
  });

  it('imports with kept ids and times: export then import restores, re-import is idempotent', async () => {
    const source = new Memory({ vectorStore: createInMemoryStore(), llm: null, env: {} });
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
    const target = new Memory({ vectorStore: createInMemoryStore(), llm: null, env: {} });
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
    const memory = new Memory({ vectorStore: createInMemoryStore(), llm: null, env: {} });
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
    const memory = new Memory({ vectorStore: createInMemoryStore(), llm: null, env: {} });
    await memory.add('x', { userId: 'a' });
    await memory.close();
    await expect(memory.search('x', { userId: 'a' })).rejects.toThrow('closed');
  });
});
