import { describe, expect, it } from 'vitest';
import { EngramError, InvalidArgumentError } from './errors.js';
import { createHashEmbedder } from './hash-embedder.js';
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

/** Every component given, so that nothing is read from the environment. */
const offline = { embedder: createHashEmbedder(), graphStore: null };

function memoryWith(answers: ScriptedAnswer[] | { fallback: ScriptedAnswer }, extra = {}) {
  const llm = createScriptedLLM(Array.isArray(answers) ? { answers } : answers);
  const store = createInMemoryStore();
  const memory = new Memory({ vectorStore: store, llm, ...offline, ...extra });
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
    const memory = new Memory({ vectorStore: store, llm, ...offline });
    const result = await memory.add(
      [{ role: 'user', content: 'My passport number ends in 1234' }],
      { userId: 'alice' },
    );
    expect(result.results).toEqual([]);
    expect(result.warnings?.at(-1)).toContain('INFERENCE_FAILED');
    const { events } = await store.byScope({
      namespace: 'memories',
      scope: { userId: 'alice' },
      limit: 10,
    });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ event: 'INFERENCE_FAILED', memoryId: null, userId: 'alice' });
    expect(events[0]!.newText).toContain('passport number ends in 1234');
  });

  it('keeps the raw input in history and rethrows when the LLM call itself fails', async () => {
    const store = createInMemoryStore();
    const llm = createScriptedLLM({
      fallback: new EngramError({ message: 'quota exceeded', source: 'ai-sdk' }),
    });
    const memory = new Memory({ vectorStore: store, llm, ...offline });
    await expect(memory.add('remember me', { userId: 'alice' })).rejects.toThrow('quota exceeded');
    const { events } = await store.byScope({
      namespace: 'memories',
      scope: { userId: 'alice' },
      limit: 10,
    });
    expect(events.map((event) => event.event)).toEqual(['INFERENCE_FAILED']);
  });

  it('stores nothing for an empty fact list', async () => {
    const { memory } = memoryWith([{ facts: [] }]);
    expect(await memory.add('hi!', { userId: 'alice' })).toEqual({
      results: [],
      factsExtracted: 0,
      // One extraction call and nothing embedded: the cost is reported with the result.
      usage: expect.objectContaining({ llmCalls: 1, embeddingCalls: 0 }),
    });
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

  it('overlaps the extraction calls of 20 parallel adds of one scope, while their reconciles never overlap', async () => {
    const running = { extraction: 0, reconcile: 0 };
    const most = { extraction: 0, reconcile: 0 };
    const delay = () => new Promise((resolve) => setTimeout(resolve, 20));
    const { memory, llm } = memoryWith({
      fallback: async (options: LLMGenerateOptions) => {
        const kind = isExtractionRequest(options) ? 'extraction' : 'reconcile';
        running[kind]++;
        most[kind] = Math.max(most[kind], running[kind]);
        await delay();
        running[kind]--;
        return ruleBasedAnswer(options);
      },
    });
    await Promise.all(
      Array.from({ length: 20 }, (_, index) =>
        memory.add(`Likes tea. Fact ${index % 4}`, { userId: 'alice' }),
      ),
    );
    expect(most.extraction).toBeGreaterThanOrEqual(10);
    expect(llm.calls.filter(isReconcileRequest).length).toBeGreaterThan(0);
    expect(most.reconcile).toBe(1);
    const texts = (await memory.list({ userId: 'alice' })).results.map((item) => item.memory);
    expect(texts.sort()).toEqual(['Fact 0', 'Fact 1', 'Fact 2', 'Fact 3', 'Likes tea']);
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
    const memory = new Memory({ vectorStore: createInMemoryStore(), llm: null, ...offline });
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
    const memory = new Memory({ vectorStore: createInMemoryStore(), llm: null, ...offline });
    await expect(memory.add('x', { userId: 'alice', infer: true })).rejects.toThrow(
      InvalidArgumentError,
    );
  });
});
