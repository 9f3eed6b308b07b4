import { createOpenAI } from '@ai-sdk/openai';
import { AbortedError, AdapterCallError } from '@engram/core';
import {
  type FakeChatRequest,
  type FakeOpenAIOptions,
  type FakeOpenAIServer,
  startFakeOpenAI,
  toolCallsAnswer,
} from '@engram/fake-openai';
import { streamText } from 'ai';
import { afterEach, describe, expect, it } from 'vitest';
import { createAISDKLLM } from './ai-sdk-llm.js';

const servers: FakeOpenAIServer[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function setup(options: FakeOpenAIOptions = {}, maxRetries = 0) {
  const server = await startFakeOpenAI({ apiKey: 'test-key', ...options });
  servers.push(server);
  const openai = createOpenAI({ apiKey: 'test-key', baseURL: server.url });
  const llm = createAISDKLLM({ model: openai.chat('gpt-4.1-mini'), maxRetries });
  return { server, llm, openai };
}

const factsSchema = {
  type: 'object',
  properties: { facts: { type: 'array', items: { type: 'string' } } },
  required: ['facts'],
  additionalProperties: false,
};

describe('createAISDKLLM', () => {
  it('reports provider and model id from the model', async () => {
    const { llm } = await setup();
    expect(llm.specificationVersion).toBe('v1');
    expect(llm.provider).toBe('openai.chat');
    expect(llm.modelId).toBe('gpt-4.1-mini');
  });

  it('generates text and maps usage', async () => {
    const { llm, server } = await setup({ chat: () => 'Paris is the capital of France.' });
    const result = await llm.generate({
      messages: [
        { role: 'system', content: 'Answer briefly.' },
        { role: 'user', content: 'What is the capital of France?' },
      ],
      temperature: 0,
      maxOutputTokens: 100,
    });
    expect(result.text).toBe('Paris is the capital of France.');
    expect(result.object).toBeUndefined();
    expect(result.toolCalls).toBeUndefined();
    const body = server.requests[0]!.body as Record<string, unknown>;
    expect(server.requests[0]?.path).toBe('/v1/chat/completions');
    expect(body.temperature).toBe(0);
    expect(body.max_tokens).toBe(100);
    expect(body.response_format).toBeUndefined();
    expect(body.messages).toEqual([
      { role: 'system', content: 'Answer briefly.' },
      { role: 'user', content: 'What is the capital of France?' },
    ]);
    // The fake counts about four characters per token.
    expect(result.usage).toEqual({
      inputTokens: Math.ceil('Answer briefly.\nWhat is the capital of France?'.length / 4),
      outputTokens: Math.ceil('Paris is the capital of France.'.length / 4),
    });
  });

  it('requests JSON with the schema and returns both the text and the parsed object', async () => {
    const seen: FakeChatRequest[] = [];
    const { llm, server } = await setup({
      chat: (request) => {
        seen.push(request);
        return { facts: ['likes green tea'] };
      },
    });
    const result = await llm.generate({
      messages: [{ role: 'user', content: 'I like green tea.' }],
      responseFormat: { type: 'json', schema: factsSchema, name: 'facts' },
    });
    expect(result.text).toBe('{"facts":["likes green tea"]}');
    expect(result.object).toEqual({ facts: ['likes green tea'] });
    const body = server.requests[0]!.body as Record<string, unknown>;
    expect(body.response_format).toEqual({
      type: 'json_schema',
      json_schema: { name: 'facts', schema: factsSchema, strict: true },
    });
    expect(seen[0]?.responseFormat?.type).toBe('json_schema');
  });

  it('sends schemas that strict mode would reject as non-strict', async () => {
    const { llm, server } = await setup({ chat: () => ({ facts: [] }) });
    const looseSchema = { type: 'object', properties: { facts: { type: 'array' } } };
    await llm.generate({
      messages: [{ role: 'user', content: 'x' }],
      responseFormat: { type: 'json', schema: looseSchema },
    });
    const body = server.requests[0]!.body as { response_format: { json_schema: unknown } };
    expect(body.response_format.json_schema).toMatchObject({ name: 'response', strict: false });
  });

  it('requests a JSON object when no schema is given', async () => {
    const { llm, server } = await setup({ chat: () => ({ ok: true }) });
    const result = await llm.generate({
      messages: [{ role: 'user', content: 'x' }],
      responseFormat: { type: 'json' },
    });
    expect(result.object).toEqual({ ok: true });
    const body = server.requests[0]!.body as Record<string, unknown>;
    expect(body.response_format).toEqual({ type: 'json_object' });
  });

  it('returns malformed JSON as raw text without throwing', async () => {
    const malformed = '```json\n{"facts": ["likes tea",]\n```';
    const { llm } = await setup({ chat: () => malformed });
    const result = await llm.generate({
      messages: [{ role: 'user', content: 'x' }],
      responseFormat: { type: 'json', schema: factsSchema },
    });
    expect(result.text).toBe(malformed);
    expect(result.object).toBeUndefined();
    expect(result.usage.outputTokens).toBeGreaterThan(0);
  });

  it('returns JSON that parses but breaks the schema, leaving validation to the engine', async () => {
    const { llm } = await setup({ chat: () => ({ unexpected: 1 }) });
    const result = await llm.generate({
      messages: [{ role: 'user', content: 'x' }],
      responseFormat: { type: 'json', schema: factsSchema },
    });
    expect(result.object).toEqual({ unexpected: 1 });
  });

  it('passes tools and returns tool calls', async () => {
    const { llm, server } = await setup({
      chat: () =>
        toolCallsAnswer([
          { id: 'call_a', name: 'add_memory', arguments: { text: 'likes tea' } },
          { id: 'call_b', name: 'delete_memory', arguments: { id: '3' } },
        ]),
    });
    const result = await llm.generate({
      messages: [{ role: 'user', content: 'x' }],
      tools: [
        {
          name: 'add_memory',
          description: 'Store a fact',
          inputSchema: {
            type: 'object',
            properties: { text: { type: 'string' } },
            required: ['text'],
          },
        },
        {
          name: 'delete_memory',
          inputSchema: { type: 'object', properties: { id: { type: 'string' } } },
        },
      ],
    });
    expect(result.toolCalls).toEqual([
      { id: 'call_a', name: 'add_memory', input: { text: 'likes tea' } },
      { id: 'call_b', name: 'delete_memory', input: { id: '3' } },
    ]);
    const body = server.requests[0]!.body as { tools: Array<{ function: { name: string } }> };
    expect(body.tools.map((tool) => tool.function.name)).toEqual(['add_memory', 'delete_memory']);
    expect(server.requests).toHaveLength(1);
  });

  it('maps 401 to a non-retryable AdapterCallError', async () => {
    const server = await startFakeOpenAI({ apiKey: 'right-key' });
    servers.push(server);
    const openai = createOpenAI({ apiKey: 'wrong-key', baseURL: server.url });
    const llm = createAISDKLLM({ model: openai.chat('gpt-4.1-mini') });
    const error = await llm
      .generate({ messages: [{ role: 'user', content: 'x' }] })
      .catch((e) => e);
    expect(AdapterCallError.isInstance(error)).toBe(true);
    expect(error.isRetryable).toBe(false);
    expect(error.source).toBe('ai-sdk');
    expect(String(error)).toMatch(/\[engram\/ai-sdk\] .*HTTP 401.*Incorrect API key/);
    expect(error.cause).toBeDefined();
    // Not retryable, so the SDK made exactly one request despite its default retries.
    expect(server.requests).toHaveLength(1);
  });

  it.each([429, 500, 503])('maps %i to a retryable AdapterCallError', async (status) => {
    const { llm, server } = await setup();
    server.failNext(1, status);
    const error = await llm
      .generate({ messages: [{ role: 'user', content: 'x' }] })
      .catch((e) => e);
    expect(AdapterCallError.isInstance(error)).toBe(true);
    expect(error.isRetryable).toBe(true);
    expect(error.message).toContain(`HTTP ${status}`);
  });

  it('keeps the retryable flag when the SDK gives up after retries', async () => {
    const { llm, server } = await setup({}, 1);
    server.failNext(2, 429, { retryAfterMs: 1 });
    const error = await llm
      .generate({ messages: [{ role: 'user', content: 'x' }] })
      .catch((e) => e);
    expect(AdapterCallError.isInstance(error)).toBe(true);
    expect(error.isRetryable).toBe(true);
    expect(server.requests).toHaveLength(2);
  });

  it('succeeds once the SDK retry gets through', async () => {
    const { llm, server } = await setup({ chat: () => 'ok' }, 2);
    server.failNext(1, 503, { retryAfterMs: 1 });
    const result = await llm.generate({ messages: [{ role: 'user', content: 'x' }] });
    expect(result.text).toBe('ok');
    expect(server.requests).toHaveLength(2);
  });

  it('maps connection failures to a retryable AdapterCallError', async () => {
    const { llm, server } = await setup();
    await server.close();
    const error = await llm
      .generate({ messages: [{ role: 'user', content: 'x' }] })
      .catch((e) => e);
    expect(AdapterCallError.isInstance(error)).toBe(true);
    expect(error.isRetryable).toBe(true);
  });

  it('maps an abort to AbortedError', async () => {
    const { llm } = await setup({ latencyMs: 500 });
    const controller = new AbortController();
    const pending = llm.generate({
      messages: [{ role: 'user', content: 'x' }],
      abortSignal: controller.signal,
    });
    setTimeout(() => controller.abort(), 20);
    const error = await pending.catch((e) => e);
    expect(AbortedError.isInstance(error)).toBe(true);
  });

  it('works against the Responses API model too', async () => {
    const { openai, server } = await setup({ chat: () => ({ facts: ['a'] }) });
    const llm = createAISDKLLM({ model: openai.responses('gpt-4.1-mini'), maxRetries: 0 });
    const result = await llm.generate({
      messages: [{ role: 'user', content: 'x' }],
      responseFormat: { type: 'json', schema: factsSchema, name: 'facts' },
    });
    expect(result.object).toEqual({ facts: ['a'] });
    expect(result.usage.inputTokens).toBeGreaterThan(0);
    expect(server.requests[0]?.path).toBe('/v1/responses');
  });

  it("speaks the fake server's streaming format that the SDK parses", async () => {
    const { openai, server } = await setup({ chat: () => 'streamed words arrive in order' });
    const result = streamText({
      model: openai.chat('gpt-4.1-mini'),
      prompt: 'x',
      maxRetries: 0,
    });
    let text = '';
    for await (const delta of result.textStream) text += delta;
    expect(text).toBe('streamed words arrive in order');
    expect(await result.finishReason).toBe('stop');
    expect((await result.usage).outputTokens).toBeGreaterThan(0);
    expect((server.requests[0]!.body as { stream: boolean }).stream).toBe(true);
  });
});
