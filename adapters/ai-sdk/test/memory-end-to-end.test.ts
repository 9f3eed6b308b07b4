import {
  createInMemoryStore,
  createMemoryFromEnvironment,
  type Memory,
  normalizeText,
} from '@engram/core';
import { type FakeChatRequest, type FakeOpenAIServer, startFakeOpenAI } from '@engram/fake-openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * A model stand-in behind the real OpenAI wire format: every sentence of the user's turns is a
 * fact, and reconciliation answers NONE for facts already stored, UPDATE when a stored memory
 * starts with the same first two words, ADD otherwise.
 */
function ruleBasedChat(request: FakeChatRequest): unknown {
  const format = request.responseFormat as { json_schema?: { name?: string } } | undefined;
  const lastUser = [...request.messages].reverse().find((message) => message.role === 'user');
  const content = String(lastUser?.content ?? '');
  if (format?.json_schema?.name === 'engram_facts') {
    const facts = content
      .replace(/^Conversation:\n/, '')
      .split('\n')
      .filter((line) => line.startsWith('user: '))
      .flatMap((line) => line.slice(6).split('.'))
      .map((fact) => fact.trim())
      .filter(Boolean);
    return { facts };
  }
  if (format?.json_schema?.name === 'engram_memory_changes') {
    const match = /^Existing memories:\n([\s\S]*?)\n\nNew facts:\n([\s\S]*)$/.exec(content);
    const existing = JSON.parse(match![1]!) as { id: string; text: string }[];
    const facts = JSON.parse(match![2]!) as string[];
    const prefix = (text: string) => normalizeText(text).split(' ').slice(0, 2).join(' ');
    return {
      memory: facts.map((fact) => {
        const same = existing.find((memory) => normalizeText(memory.text) === normalizeText(fact));
        if (same) return { event: 'NONE', id: same.id, text: '' };
        const related = existing.find((memory) => prefix(memory.text) === prefix(fact));
        if (related) return { event: 'UPDATE', id: related.id, text: fact };
        return { event: 'ADD', id: '', text: fact };
      }),
    };
  }
  return 'unexpected request';
}

describe('Memory over the OpenAI wire format, configured from the environment', () => {
  let server: FakeOpenAIServer;
  let memory: Memory;

  beforeAll(async () => {
    server = await startFakeOpenAI({
      apiKey: 'test-key',
      chat: ruleBasedChat,
      embeddingDimensions: 1536,
    });
    memory = await createMemoryFromEnvironment(
      { OPENAI_API_KEY: 'test-key', OPENAI_BASE_URL: server.url },
      { vectorStore: createInMemoryStore(), importModule: (specifier) => import(specifier) },
    );
  });

  afterAll(async () => {
    await memory.close();
    await server.close();
  });

  it('extracts, embeds and reconciles through chat completions and embeddings', async () => {
    const first = await memory.add(
      [
        { role: 'user', content: 'Likes green tea. Lives in Oslo.' },
        { role: 'assistant', content: 'Nice! Oslo is lovely.' },
      ],
      { userId: 'alice' },
    );
    expect(first.results.map((change) => [change.event, change.memory])).toEqual([
      ['ADD', 'Likes green tea'],
      ['ADD', 'Lives in Oslo'],
    ]);

    const second = await memory.add('Likes green tea. Lives in Bergen now.', { userId: 'alice' });
    expect(
      second.results.map((change) => [change.event, change.memory, change.previousMemory]),
    ).toEqual([['UPDATE', 'Lives in Bergen now', 'Lives in Oslo']]);

    const { results } = await memory.search('where does she live', { userId: 'alice' });
    expect(results.map((item) => item.memory)).toContain('Lives in Bergen now');
    expect(results.map((item) => item.memory)).not.toContain('Lives in Oslo');

    const paths = server.requests.map((request) => request.path);
    expect(paths.filter((path) => path === '/v1/chat/completions')).toHaveLength(3);
    const chat = server.requests.find((request) => request.path === '/v1/chat/completions')!;
    expect(chat.headers.authorization).toBe('Bearer test-key');
    expect((chat.body as { model: string }).model).toBe('gpt-4.1-mini');
    const embeddingCalls = server.requests.filter((request) => request.path === '/v1/embeddings');
    expect(embeddingCalls.length).toBeGreaterThanOrEqual(3);
  });

  it('keeps the input when the model keeps answering garbage', async () => {
    const garbage = await startFakeOpenAI({ chat: () => 'I would rather not answer in JSON.' });
    const store = createInMemoryStore();
    const broken = await createMemoryFromEnvironment(
      { OPENAI_API_KEY: 'any', OPENAI_BASE_URL: garbage.url, ENGRAM_EMBEDDER: 'hash' },
      { vectorStore: store, importModule: (specifier) => import(specifier) },
    );
    const result = await broken.add('My locker code is 4711', { userId: 'carol' });
    expect(result.results).toEqual([]);
    const { events } = await store.byScope({
      namespace: 'memories',
      scope: { userId: 'carol' },
      limit: 10,
    });
    expect(events.map((event) => event.event)).toEqual(['INFERENCE_FAILED']);
    expect(events[0]!.newText).toContain('4711');
    await broken.close();
    await garbage.close();
  });
});
