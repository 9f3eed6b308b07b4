import {
  AdapterCallError,
  createHashEmbedder,
  createInMemoryStore,
  generateJson,
  Memory,
} from '@engram/core';
import { type FakeOpenAIServer, startFakeOpenAI } from '@engram/fake-openai';
import { afterEach, describe, expect, it } from 'vitest';
import { createEmbedderFromName, createLLMFromName } from './ai-sdk-model-names.js';

const servers: FakeOpenAIServer[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

/** Models named as configuration names them, with the AI SDK's default retries. */
async function setup() {
  const server = await startFakeOpenAI({ apiKey: 'test-key' });
  servers.push(server);
  const env = { OPENAI_API_KEY: 'test-key', OPENAI_BASE_URL: server.url };
  return {
    server,
    llm: createLLMFromName('openai:gpt-4.1-mini', { env }),
    embedder: createEmbedderFromName('openai:text-embedding-3-small?dimensions=64', { env }),
  };
}

const clientErrors = [400, 401, 403, 404, 422];

describe('a non-retryable upstream error is tried once', () => {
  it.each(clientErrors)('LLM answering %i: one request, through the engine too', async (status) => {
    const { server, llm } = await setup();
    server.failNext(10, status);
    const error = await generateJson({
      llm,
      messages: [{ role: 'user', content: 'x' }],
      schemaName: 'facts',
      schema: { type: 'object' },
      shape: '{}',
      parse: (value) => value,
      retries: 3,
      warnings: [],
    }).catch((caught: unknown) => caught);
    expect(AdapterCallError.isInstance(error)).toBe(true);
    expect((error as AdapterCallError).isRetryable).toBe(false);
    expect(server.requests).toHaveLength(1);

    server.requests.length = 0;
    const memory = new Memory({
      vectorStore: createInMemoryStore(),
      embedder: createHashEmbedder(),
      llm,
      graphStore: null,
      llmRetries: 3,
    });
    await expect(memory.add('I like tea', { userId: 'alice' })).rejects.toSatisfy(
      (caught) => AdapterCallError.isInstance(caught) && !caught.isRetryable,
    );
    expect(server.requests.map((request) => request.path)).toEqual(['/v1/chat/completions']);
  });

  it.each(clientErrors)('embedder answering %i: one request', async (status) => {
    const { server, embedder } = await setup();
    server.failNext(10, status);
    const error = await embedder
      .embed({ values: ['x'], purpose: 'document' })
      .catch((caught: unknown) => caught);
    expect(AdapterCallError.isInstance(error)).toBe(true);
    expect((error as AdapterCallError).isRetryable).toBe(false);
    expect(server.requests).toHaveLength(1);
  });

  it.each([429, 500, 503])('%i is still retried by the SDK', async (status) => {
    const { server, llm } = await setup();
    server.failNext(1, status, { retryAfterMs: 1 });
    await llm.generate({ messages: [{ role: 'user', content: 'x' }] });
    expect(server.requests).toHaveLength(2);
  });
});
