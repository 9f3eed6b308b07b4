import { describe, expect, it } from 'vitest';
import { conversationQueries } from './decide-changes.js';
import { addModeFromEnvironment, componentsFromEnvironment } from './environment-components.js';
import { EngramError, InvalidArgumentError } from './errors.js';
import { createHashEmbedder } from './hash-embedder.js';
import { createInMemoryStore } from './in-memory-vector-store.js';
import type { LLMGenerateOptions } from './llm.js';
import { Memory } from './memory.js';
import type { AddMode } from './memory-types.js';
import {
  createScriptedLLM,
  isExtractionRequest,
  isSingleCallRequest,
  type ScriptedAnswer,
  singleCallInput,
} from './testing/index.js';
import { normalizeText } from './text.js';

/** Every component given, so that nothing is read from the environment. */
const offline = { embedder: createHashEmbedder(), graphStore: null };

function memoryWith(
  answers: ScriptedAnswer[] | { fallback: ScriptedAnswer },
  extra: { addMode?: AddMode; now?: () => Date } = { addMode: 'single-call' },
) {
  const llm = createScriptedLLM(Array.isArray(answers) ? { answers } : answers);
  const store = createInMemoryStore();
  const memory = new Memory({ vectorStore: store, llm, ...offline, ...extra });
  return { memory, llm, store };
}

/**
 * A rule-based stand-in for the single call: every sentence of the user's turns is a fact; a
 * fact already stored (same normalized text) is NONE, anything else is ADD.
 */
function ruleBasedAnswer(options: LLMGenerateOptions): ScriptedAnswer {
  if (!isSingleCallRequest(options)) throw new Error('unexpected request');
  const { existing, conversation } = singleCallInput(options);
  const facts = conversation
    .split('\n')
    .filter((line) => line.startsWith('user: '))
    .flatMap((line) => line.slice(6).split('.'))
    .map((fact) => fact.trim())
    .filter(Boolean);
  return {
    memory: facts.map((fact) => {
      const same = existing.find((memory) => normalizeText(memory.text) === normalizeText(fact));
      return same ? { event: 'NONE', id: same.id, text: '' } : { event: 'ADD', id: '', text: fact };
    }),
  };
}

async function eventsOf(store: ReturnType<typeof createInMemoryStore>, userId: string) {
  const { events } = await store.byScope({ namespace: 'memories', scope: { userId }, limit: 100 });
  return events;
}

describe("Memory.add with addMode: 'single-call'", () => {
  it('makes one LLM call per add, with the conversation and the date, and adds what it answers', async () => {
    const { memory, llm } = memoryWith(
      [
        { memory: [{ event: 'ADD', id: '', text: 'Is vegetarian' }] },
        { memory: [{ event: 'ADD', id: '', text: 'Lives in Lisbon' }] },
      ],
      { addMode: 'single-call', now: () => new Date('2026-03-01T10:00:00Z') },
    );
    const first = await memory.add('I am vegetarian', { userId: 'alice' });
    expect(first.results.map((change) => [change.event, change.memory])).toEqual([
      ['ADD', 'Is vegetarian'],
    ]);
    expect(first.factsExtracted).toBe(1);
    expect(first.usage).toMatchObject({ llmCalls: 1 });
    const second = await memory.add('I live in Lisbon', { userId: 'alice' });
    expect(second.usage).toMatchObject({ llmCalls: 1 });
    expect(llm.calls).toHaveLength(2);
    expect(llm.calls.every(isSingleCallRequest)).toBe(true);
    expect(llm.calls[0]!.messages[0]!.content).toContain('2026-03-01');
    expect(singleCallInput(llm.calls[1]!).conversation).toBe('user: I live in Lisbon');
    expect(singleCallInput(llm.calls[1]!).existing.map((memory) => memory.text)).toEqual([
      'Is vegetarian',
    ]);
    const texts = (await memory.list({ userId: 'alice' })).results.map((item) => item.memory);
    expect(texts.sort()).toEqual(['Is vegetarian', 'Lives in Lisbon']);
  });

  it('updates and deletes existing memories by short temporary ids, with history events', async () => {
    const { memory, llm, store } = memoryWith([
      {
        memory: [
          { event: 'ADD', id: '', text: 'Likes pizza' },
          { event: 'ADD', id: '', text: 'Works at Acme' },
          { event: 'ADD', id: '', text: 'Has a cat' },
        ],
      },
      (options: LLMGenerateOptions) => {
        const shown = new Map(
          singleCallInput(options).existing.map((memory, index) => {
            expect(memory.id).toBe(String(index));
            return [memory.text, memory.id];
          }),
        );
        const decide = (event: string, about: string, text = '') => ({
          event,
          id: shown.get(about),
          text,
        });
        return {
          memory: [
            decide('UPDATE', 'Likes pizza', 'Loves pepperoni pizza'),
            decide('DELETE', 'Works at Acme'),
            decide('NONE', 'Has a cat'),
          ],
        };
      },
    ]);
    const first = await memory.add('Likes pizza. Works at Acme. Has a cat', { userId: 'alice' });
    const result = await memory.add('Loves pepperoni pizza. Left Acme. Has a cat', {
      userId: 'alice',
    });
    expect(result.results.map((change) => change.event).sort()).toEqual(['DELETE', 'UPDATE']);
    expect(result.factsExtracted).toBe(3);
    const updated = result.results.find((change) => change.event === 'UPDATE')!;
    const deleted = result.results.find((change) => change.event === 'DELETE')!;
    expect(updated.previousMemory).toBe('Likes pizza');
    expect(updated.id).toBe(first.results.find((change) => change.memory === 'Likes pizza')!.id);
    const prompt = llm.calls[1]!.messages.map((message) => message.content).join('\n');
    for (const change of first.results) expect(prompt).not.toContain(change.id);
    const texts = (await memory.list({ userId: 'alice' })).results.map((item) => item.memory);
    expect(texts.sort()).toEqual(['Has a cat', 'Loves pepperoni pizza']);
    expect(
      (await memory.history(updated.id)).map((event) => [
        event.event,
        event.previousText,
        event.newText,
      ]),
    ).toEqual([
      ['ADD', null, 'Likes pizza'],
      ['UPDATE', 'Likes pizza', 'Loves pepperoni pizza'],
    ]);
    expect((await memory.history(deleted.id)).map((event) => event.event)).toEqual([
      'ADD',
      'DELETE',
    ]);
    expect((await eventsOf(store, 'alice')).map((event) => event.event).sort()).toEqual([
      'ADD',
      'ADD',
      'ADD',
      'DELETE',
      'UPDATE',
    ]);
  });

  it('stores one memory when 20 concurrent adds of one scope bring the same fact', async () => {
    const { memory, llm } = memoryWith({ fallback: ruleBasedAnswer });
    const results = await Promise.all(
      Array.from({ length: 20 }, () => memory.add('Likes tea', { userId: 'alice' })),
    );
    expect(results.flatMap((result) => result.results)).toHaveLength(1);
    expect(llm.calls).toHaveLength(20);
    const texts = (await memory.list({ userId: 'alice' })).results.map((item) => item.memory);
    expect(texts).toEqual(['Likes tea']);
  });

  it("makes the model call under the scope's lock: calls of one scope never overlap", async () => {
    let running = 0;
    let most = 0;
    const { memory } = memoryWith({
      fallback: async (options: LLMGenerateOptions) => {
        running++;
        most = Math.max(most, running);
        await new Promise((resolve) => setImmediate(resolve));
        running--;
        return ruleBasedAnswer(options);
      },
    });
    await Promise.all(
      Array.from({ length: 10 }, (_, index) =>
        memory.add(`Likes tea. Fact ${index % 3}`, { userId: 'alice' }),
      ),
    );
    expect(most).toBe(1);
    const texts = (await memory.list({ userId: 'alice' })).results.map((item) => item.memory);
    expect(texts.sort()).toEqual(['Fact 0', 'Fact 1', 'Fact 2', 'Likes tea']);
  });

  it('repairs malformed JSON, and retries an unusable answer once', async () => {
    const { memory, llm } = memoryWith([
      'Sure:\n```json\n{"memory": [{"event": "ADD", "id": "", "text": "Plays the violin"},],}\n```',
      'I think the user plays the cello.',
      { memory: [{ event: 'ADD', id: '', text: 'Plays the cello' }] },
    ]);
    const first = await memory.add('I play the violin', { userId: 'alice' });
    expect(first.results.map((change) => change.memory)).toEqual(['Plays the violin']);
    const second = await memory.add('I play the cello', { userId: 'alice' });
    expect(second.results.map((change) => change.memory)).toEqual(['Plays the cello']);
    expect(llm.calls).toHaveLength(3);
    expect(llm.calls[2]!.messages.at(-1)!.content).toContain('JSON only');
    expect(second.warnings?.[0]).toContain('unusable');
  });

  it('writes nothing but the input in the history when every answer is unusable', async () => {
    const { memory, store } = memoryWith([
      { memory: [{ event: 'ADD', id: '', text: 'Likes tea' }] },
      'not json at all',
      '{"facts": ["Likes coffee"]}',
    ]);
    await memory.add('I like tea', { userId: 'alice' });
    const result = await memory.add('I like coffee now, not tea', { userId: 'alice' });
    expect(result.results).toEqual([]);
    expect(result.warnings?.at(-1)).toContain('INFERENCE_FAILED');
    const texts = (await memory.list({ userId: 'alice' })).results.map((item) => item.memory);
    expect(texts).toEqual(['Likes tea']);
    const events = await eventsOf(store, 'alice');
    expect(events.map((event) => event.event).sort()).toEqual(['ADD', 'INFERENCE_FAILED']);
    const failed = events.find((event) => event.event === 'INFERENCE_FAILED')!;
    expect(failed.newText).toContain('I like coffee now');
  });

  it('keeps the input in the history and rethrows the typed error when the LLM call fails', async () => {
    const { memory, store } = memoryWith({
      fallback: new EngramError({ message: 'quota exceeded', source: 'ai-sdk' }),
    });
    await expect(memory.add('remember me', { userId: 'alice' })).rejects.toThrow('quota exceeded');
    expect((await eventsOf(store, 'alice')).map((event) => event.event)).toEqual([
      'INFERENCE_FAILED',
    ]);
    expect((await memory.list({ userId: 'alice' })).results).toEqual([]);
  });

  it("never shows the model another scope's memories", async () => {
    const { memory, llm } = memoryWith({ fallback: ruleBasedAnswer });
    await memory.add('Likes tea', { userId: 'alice' });
    await memory.add('Likes tea', { userId: 'bob' });
    await memory.add('Likes tea', { userId: 'alice', agentId: 'travel' });
    expect(singleCallInput(llm.calls[1]!).existing).toEqual([]);
    expect(singleCallInput(llm.calls[2]!).existing).toEqual([]);
    expect((await memory.list({ userId: 'bob' })).results.map((item) => item.memory)).toEqual([
      'Likes tea',
    ]);
  });

  it('is chosen per call, over the default two-call mode, and leaves infer: false unchanged', async () => {
    const { memory, llm } = memoryWith({ fallback: ruleBasedAnswer }, {});
    await memory.add('Likes tea', { userId: 'alice', addMode: 'single-call' });
    expect(llm.calls.map(isSingleCallRequest)).toEqual([true]);
    const verbatim = await memory.add('Owns a bike', {
      userId: 'alice',
      addMode: 'single-call',
      infer: false,
    });
    expect(verbatim.results.map((change) => change.memory)).toEqual(['Owns a bike']);
    expect(llm.calls).toHaveLength(1);
    await expect(
      memory.add('x', { userId: 'alice', addMode: 'one-call' as AddMode }),
    ).rejects.toThrow(InvalidArgumentError);
  });

  it('lets a call go back to two calls when the Memory is in single-call mode', async () => {
    const { memory, llm } = memoryWith([{ facts: ['Likes tea'] }]);
    await memory.add('I like tea', { userId: 'alice', addMode: 'two-call' });
    expect(llm.calls.map(isExtractionRequest)).toEqual([true]);
  });

  it('asks no model again for an idempotency key already applied', async () => {
    const { memory, llm } = memoryWith({ fallback: ruleBasedAnswer });
    await memory.add('Likes tea', { userId: 'alice', idempotencyKey: 'job-1' });
    const again = await memory.add('Likes tea', { userId: 'alice', idempotencyKey: 'job-1' });
    expect(llm.calls).toHaveLength(1);
    expect(again.warnings?.[0]).toContain('already applied');
  });
});

describe('single-call helpers and settings', () => {
  it("queries related memories with the user's messages, else every spoken one", () => {
    expect(
      conversationQueries([
        { role: 'system', content: 'be brief' },
        { role: 'user', content: ' I like tea ' },
        { role: 'assistant', content: 'Noted.' },
        { role: 'user', content: 'I like tea' },
      ]),
    ).toEqual(['I like tea']);
    expect(conversationQueries([{ role: 'assistant', content: 'You said you like tea.' }])).toEqual(
      ['You said you like tea.'],
    );
  });

  it('reads ENGRAM_ADD_MODE, refusing unknown values; the option wins', async () => {
    expect(addModeFromEnvironment({})).toBeUndefined();
    expect(addModeFromEnvironment({ ENGRAM_ADD_MODE: 'single-call' })).toBe('single-call');
    expect(() => addModeFromEnvironment({ ENGRAM_ADD_MODE: 'fast' })).toThrow(/ENGRAM_ADD_MODE/);
    const store = createInMemoryStore();
    const components = { vectorStore: store, llm: null, ...offline };
    const fromEnvironment = await componentsFromEnvironment(
      { ENGRAM_ADD_MODE: 'single-call' },
      components,
    );
    expect(fromEnvironment.addMode).toBe('single-call');
    const given = await componentsFromEnvironment(
      { ENGRAM_ADD_MODE: 'single-call' },
      { ...components, addMode: 'two-call' },
    );
    expect(given.addMode).toBe('two-call');
    expect(() => new Memory({ ...components, addMode: 'x' as AddMode })).toThrow(/addMode/);
  });
});
