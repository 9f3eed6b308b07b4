import type { LanguageModelV3CallOptions, LanguageModelV3StreamPart } from '@ai-sdk/provider';
import { createHashEmbedder, createInMemoryStore, Memory } from '@engram/core';
import { generateText, streamText, wrapLanguageModel } from 'ai';
import { convertArrayToReadableStream, MockLanguageModelV3 } from 'ai/test';
import { describe, expect, it } from 'vitest';
import { engramMemory, selectMemories } from './ai-sdk-memory-middleware.js';

const usage = {
  inputTokens: { total: 10, noCache: 10, cacheRead: undefined, cacheWrite: undefined },
  outputTokens: { total: 5, text: 5, reasoning: undefined },
};

function createMemory() {
  return new Memory({
    vectorStore: createInMemoryStore(),
    embedder: createHashEmbedder(),
    llm: null,
    graphStore: null,
  });
}

function generatingModel(reply: string) {
  return new MockLanguageModelV3({
    doGenerate: async () => ({
      content: [{ type: 'text', text: reply }],
      finishReason: { unified: 'stop', raw: 'stop' },
      usage,
      warnings: [],
    }),
  });
}

function streamingModel(chunks: string[]) {
  const parts: LanguageModelV3StreamPart[] = [
    { type: 'stream-start', warnings: [] },
    { type: 'text-start', id: 't' },
    ...chunks.map((delta): LanguageModelV3StreamPart => ({ type: 'text-delta', id: 't', delta })),
    { type: 'text-end', id: 't' },
    { type: 'finish', finishReason: { unified: 'stop', raw: 'stop' }, usage },
  ];
  return new MockLanguageModelV3({
    doStream: async () => ({ stream: convertArrayToReadableStream(parts) }),
  });
}

function systemTexts(call: LanguageModelV3CallOptions | undefined): string[] {
  return (call?.prompt ?? []).flatMap((message) =>
    message.role === 'system' ? [message.content] : [],
  );
}

async function seed(memory: Memory) {
  await memory.add('Alice is allergic to peanuts', { userId: 'alice', infer: false });
  await memory.add('Alice loves hiking in the Alps', { userId: 'alice', infer: false });
  await memory.add('Bob is allergic to shellfish', { userId: 'bob', infer: false });
}

describe('engramMemory with generateText', () => {
  it('puts relevant memories of the scope into the prompt and stores the exchange', async () => {
    const memory = createMemory();
    await seed(memory);
    const model = generatingModel('Try a peanut-free satay.');
    const middleware = engramMemory({ memory, userId: 'alice' });
    const result = await generateText({
      model: wrapLanguageModel({ model, middleware }),
      system: 'You are a cooking assistant.',
      prompt: 'Which snack is safe for my allergy?',
    });
    expect(result.text).toBe('Try a peanut-free satay.');

    const prompt = model.doGenerateCalls[0]?.prompt ?? [];
    expect(prompt.map((message) => message.role)).toEqual(['system', 'system', 'user']);
    expect(systemTexts(model.doGenerateCalls[0])[0]).toBe('You are a cooking assistant.');
    const block = systemTexts(model.doGenerateCalls[0])[1] ?? '';
    expect(block).toContain('- Alice is allergic to peanuts');
    expect(block).not.toContain('Bob');

    await middleware.flush();
    const stored = await memory.list({ userId: 'alice' });
    const texts = stored.results.map((item) => item.memory);
    expect(texts).toContain('Which snack is safe for my allergy?');
    expect(texts).toContain('Try a peanut-free satay.');
    expect((await memory.list({ userId: 'bob' })).results).toHaveLength(1);
  });

  it('gives the same block for the same memories, so the prompt prefix can be cached', async () => {
    const memory = createMemory();
    await seed(memory);
    const model = generatingModel('ok');
    const middleware = engramMemory({ memory, userId: 'alice', store: false });
    const wrapped = wrapLanguageModel({ model, middleware });
    await generateText({ model: wrapped, prompt: 'Tell me about my allergy and hiking' });
    await generateText({ model: wrapped, prompt: 'Tell me about my allergy and hiking' });
    const [first, second] = model.doGenerateCalls.map((call) => systemTexts(call)[0]);
    expect(first).toBeDefined();
    expect(second).toBe(first);
    expect((await memory.list({ userId: 'alice' })).results).toHaveLength(2);
  });

  it('keeps the block within the token budget', async () => {
    const memory = createMemory();
    await seed(memory);
    const model = generatingModel('ok');
    const middleware = engramMemory({ memory, userId: 'alice', tokenBudget: 10, store: false });
    await generateText({
      model: wrapLanguageModel({ model, middleware }),
      prompt: 'peanuts hiking Alps allergy',
    });
    const block = systemTexts(model.doGenerateCalls[0])[0] ?? '';
    expect(block.match(/^- /gm)).toHaveLength(1);
  });

  it('can place the block right before the last user message', async () => {
    const memory = createMemory();
    await seed(memory);
    const model = generatingModel('ok');
    const middleware = engramMemory({
      memory,
      userId: 'alice',
      placement: 'before-last-user',
      store: false,
    });
    await generateText({
      model: wrapLanguageModel({ model, middleware }),
      system: 'Be brief.',
      messages: [
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: 'Hello!' },
        { role: 'user', content: 'Any peanuts in pesto?' },
      ],
    });
    const roles = model.doGenerateCalls[0]?.prompt.map((message) => message.role);
    expect(roles).toEqual(['system', 'user', 'assistant', 'system', 'user']);
  });

  it('answers without memories when the search fails, and reports it', async () => {
    const errors: [unknown, string][] = [];
    const failing = {
      search: async () => {
        throw new Error('store down');
      },
      add: async () => {
        throw new Error('store down');
      },
    };
    const model = generatingModel('Still here.');
    const middleware = engramMemory({
      memory: failing,
      userId: 'alice',
      onError: (error, phase) => errors.push([error, phase]),
    });
    const result = await generateText({
      model: wrapLanguageModel({ model, middleware }),
      prompt: 'Hello',
    });
    expect(result.text).toBe('Still here.');
    expect(model.doGenerateCalls[0]?.prompt.map((message) => message.role)).toEqual(['user']);
    await middleware.flush();
    expect(errors.map(([, phase]) => phase)).toEqual(['search', 'add']);
  });

  it('does not wait for the add before returning the reply', async () => {
    let release!: () => void;
    const added: unknown[] = [];
    const slow = {
      search: async () => ({ results: [] }),
      add: async (messages: unknown) => {
        await new Promise<void>((resolve) => {
          release = resolve;
        });
        added.push(messages);
        return { results: [] };
      },
    };
    const middleware = engramMemory({ memory: slow, userId: 'alice' });
    const result = await generateText({
      model: wrapLanguageModel({ model: generatingModel('Fast reply.'), middleware }),
      prompt: 'Hello',
    });
    expect(result.text).toBe('Fast reply.');
    expect(added).toHaveLength(0);
    await new Promise((resolve) => setImmediate(resolve));
    release();
    await middleware.flush();
    expect(added).toHaveLength(1);
  });

  it('refuses a missing scope', () => {
    expect(() => engramMemory({ memory: createMemory() })).toThrow('At least one of userId');
  });
});

describe('engramMemory with streamText', () => {
  it('puts memories into the prompt and stores the exchange after the stream finishes', async () => {
    const memory = createMemory();
    await seed(memory);
    const model = streamingModel(['Go for ', 'the Eiger ', 'trail.']);
    const middleware = engramMemory({ memory, userId: 'alice' });
    const result = streamText({
      model: wrapLanguageModel({ model, middleware }),
      prompt: 'Where should I go hiking this summer?',
    });
    expect(await result.text).toBe('Go for the Eiger trail.');
    const block = systemTexts(model.doStreamCalls[0])[0] ?? '';
    expect(block).toContain('- Alice loves hiking in the Alps');

    await middleware.flush();
    const stored = await memory.list({ userId: 'alice' });
    const texts = stored.results.map((item) => item.memory);
    expect(texts).toContain('Where should I go hiking this summer?');
    expect(texts).toContain('Go for the Eiger trail.');
    expect(texts).toHaveLength(4);
  });

  it('stores nothing when the stream fails', async () => {
    const memory = createMemory();
    const model = new MockLanguageModelV3({
      doStream: async () => ({
        stream: convertArrayToReadableStream<LanguageModelV3StreamPart>([
          { type: 'text-start', id: 't' },
          { type: 'text-delta', id: 't', delta: 'Part' },
          { type: 'error', error: new Error('connection reset') },
        ]),
      }),
    });
    const middleware = engramMemory({ memory, userId: 'alice' });
    const result = streamText({
      model: wrapLanguageModel({ model, middleware }),
      prompt: 'Hello',
      onError: () => {},
    });
    await result.consumeStream();
    await middleware.flush();
    expect((await memory.list({ userId: 'alice' })).results).toHaveLength(0);
  });
});

describe('selectMemories', () => {
  const item = (id: string, text: string, createdAt: string) => ({
    id,
    memory: text,
    metadata: {},
    createdAt,
    updatedAt: createdAt,
    score: 1,
    scores: { vector: 1, fused: 1 },
  });

  it('takes the best first within the budget, then orders oldest first', () => {
    const chosen = selectMemories(
      [
        item('b', 'x'.repeat(8), '2026-02-01T00:00:00.000Z'),
        item('a', 'y'.repeat(8), '2026-01-01T00:00:00.000Z'),
        item('c', 'z'.repeat(40), '2025-01-01T00:00:00.000Z'),
      ],
      9,
    );
    expect(chosen.map((memory) => memory.id)).toEqual(['a', 'b']);
  });
});
