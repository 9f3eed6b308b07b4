import { afterEach, describe, expect, it } from 'vitest';
import {
  echoChat,
  type FakeOpenAIOptions,
  type FakeOpenAIServer,
  fixedChatText,
  startFakeOpenAI,
} from './fake-openai-server.js';
import { toolCallsAnswer } from './fake-openai-wire.js';

const servers: FakeOpenAIServer[] = [];

async function start(options: FakeOpenAIOptions = {}): Promise<FakeOpenAIServer> {
  const server = await startFakeOpenAI(options);
  servers.push(server);
  return server;
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function post(server: FakeOpenAIServer, path: string, body: unknown, headers = {}) {
  const response = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text };
}

async function postJson(server: FakeOpenAIServer, path: string, body: unknown, headers = {}) {
  const response = await post(server, path, body, headers);
  // biome-ignore lint/suspicious/noExplicitAny: tests read wire responses loosely
  return { ...response, json: JSON.parse(response.text) as Record<string, any> };
}

describe('startFakeOpenAI', () => {
  it('listens on a random port and exposes a /v1 base URL', async () => {
    const server = await start();
    expect(server.port).toBeGreaterThan(0);
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/v1`);
  });

  it('answers a chat completion in the wire format', async () => {
    const server = await start();
    const { status, json } = await postJson(server, '/chat/completions', {
      model: 'gpt-4.1-mini',
      messages: [{ role: 'user', content: 'Hello there' }],
    });
    expect(status).toBe(200);
    expect(json.object).toBe('chat.completion');
    expect(json.id).toMatch(/^chatcmpl-/);
    expect(json.model).toBe('gpt-4.1-mini');
    expect(typeof json.created).toBe('number');
    expect(json.choices[0].message).toMatchObject({ role: 'assistant', content: fixedChatText });
    expect(json.choices[0].finish_reason).toBe('stop');
    expect(json.usage.prompt_tokens).toBeGreaterThan(0);
    expect(json.usage.total_tokens).toBe(json.usage.prompt_tokens + json.usage.completion_tokens);
  });

  it('passes the request to the chat handler and serializes objects as JSON text', async () => {
    const seen: unknown[] = [];
    const server = await start({
      chat: (request) => {
        seen.push(request);
        return { facts: ['likes tea'] };
      },
    });
    const responseFormat = {
      type: 'json_schema',
      json_schema: { name: 'facts', schema: { type: 'object' }, strict: false },
    };
    const { json } = await postJson(server, '/chat/completions', {
      model: 'm',
      messages: [{ role: 'user', content: 'x' }],
      response_format: responseFormat,
    });
    expect(JSON.parse(json.choices[0].message.content)).toEqual({ facts: ['likes tea'] });
    expect(seen[0]).toMatchObject({ api: 'chat', model: 'm', responseFormat, stream: false });
  });

  it('answers with tool calls', async () => {
    const server = await start({
      chat: () => toolCallsAnswer([{ name: 'remember', arguments: { fact: 'a' }, id: 'call_1' }]),
    });
    const { json } = await postJson(server, '/chat/completions', {
      model: 'm',
      messages: [{ role: 'user', content: 'x' }],
      tools: [{ type: 'function', function: { name: 'remember', parameters: { type: 'object' } } }],
    });
    expect(json.choices[0].finish_reason).toBe('tool_calls');
    expect(json.choices[0].message.content).toBeNull();
    expect(json.choices[0].message.tool_calls).toEqual([
      { id: 'call_1', type: 'function', function: { name: 'remember', arguments: '{"fact":"a"}' } },
    ]);
  });

  it('truncates at max_tokens with finish_reason length', async () => {
    const server = await start({ chat: () => 'word '.repeat(100) });
    const { json } = await postJson(server, '/chat/completions', {
      model: 'm',
      messages: [{ role: 'user', content: 'x' }],
      max_tokens: 5,
    });
    expect(json.choices[0].finish_reason).toBe('length');
    expect(json.choices[0].message.content).toHaveLength(20);
  });

  it('streams server-sent events with usage when asked', async () => {
    const server = await start({ chat: echoChat });
    const { headers, text } = await post(server, '/chat/completions', {
      model: 'm',
      messages: [{ role: 'user', content: 'one two three' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(headers.get('content-type')).toContain('text/event-stream');
    const events = text
      .split('\n\n')
      .filter((block) => block.startsWith('data: '))
      .map((block) => block.slice('data: '.length));
    expect(events.at(-1)).toBe('[DONE]');
    const chunks = events.slice(0, -1).map((event) => JSON.parse(event));
    expect(chunks.every((chunk) => chunk.object === 'chat.completion.chunk')).toBe(true);
    expect(chunks[0].choices[0].delta.role).toBe('assistant');
    const content = chunks
      .flatMap((chunk) => chunk.choices)
      .map((choice: { delta: { content?: string } }) => choice.delta.content ?? '')
      .join('');
    expect(content).toBe('one two three');
    const finish = chunks.find((chunk) => chunk.choices[0]?.finish_reason);
    expect(finish.choices[0].finish_reason).toBe('stop');
    const last = chunks.at(-1);
    expect(last.choices).toEqual([]);
    expect(last.usage.completion_tokens).toBeGreaterThan(0);
  });

  it('returns deterministic, normalized embeddings as floats', async () => {
    const server = await start();
    const body = { model: 'text-embedding-3-small', input: ['the cat sat', 'the cat sat', 'tax'] };
    const { json } = await postJson(server, '/embeddings', body);
    expect(json.object).toBe('list');
    expect(json.model).toBe('text-embedding-3-small');
    expect(json.data).toHaveLength(3);
    expect(json.data.map((item: { index: number }) => item.index)).toEqual([0, 1, 2]);
    expect(json.data[0].object).toBe('embedding');
    const [first, second, third] = json.data.map((item: { embedding: number[] }) => item.embedding);
    expect(first).toHaveLength(384);
    expect(first).toEqual(second);
    expect(first).not.toEqual(third);
    const norm = Math.sqrt(first.reduce((sum: number, value: number) => sum + value * value, 0));
    expect(norm).toBeCloseTo(1, 6);
    expect(json.usage.prompt_tokens).toBeGreaterThan(0);
  });

  it('honours dimensions and base64 encoding', async () => {
    const server = await start({ embeddingDimensions: 64 });
    const float = await postJson(server, '/embeddings', { model: 'm', input: 'hello world' });
    expect(float.json.data[0].embedding).toHaveLength(64);
    const base64 = await postJson(server, '/embeddings', {
      model: 'm',
      input: 'hello world',
      encoding_format: 'base64',
    });
    const bytes = Buffer.from(base64.json.data[0].embedding, 'base64');
    const decoded = Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4));
    expect(decoded).toHaveLength(64);
    decoded.forEach((value, index) => {
      expect(value).toBeCloseTo(float.json.data[0].embedding[index], 6);
    });
    const smaller = await postJson(server, '/embeddings', {
      model: 'm',
      input: 'x',
      dimensions: 16,
    });
    expect(smaller.json.data[0].embedding).toHaveLength(16);
  });

  it('lists models', async () => {
    const server = await start({ models: ['a', 'b'] });
    const list = await (await fetch(`${server.url}/models`)).json();
    expect(list).toEqual({
      object: 'list',
      data: [
        { id: 'a', object: 'model', created: expect.any(Number), owned_by: 'engram-fake' },
        { id: 'b', object: 'model', created: expect.any(Number), owned_by: 'engram-fake' },
      ],
    });
    expect((await fetch(`${server.url}/models/a`)).status).toBe(200);
    expect((await fetch(`${server.url}/models/zzz`)).status).toBe(404);
  });

  it('answers the Responses API', async () => {
    const seen: unknown[] = [];
    const server = await start({
      chat: (request) => {
        seen.push(request);
        return { ok: true };
      },
    });
    const { json } = await postJson(server, '/responses', {
      model: 'gpt-4.1-mini',
      instructions: 'Be brief.',
      input: [{ role: 'user', content: [{ type: 'input_text', text: 'hi' }] }],
      text: { format: { type: 'json_schema', name: 'answer', schema: { type: 'object' } } },
    });
    expect(json.object).toBe('response');
    expect(json.status).toBe('completed');
    expect(json.output[0]).toMatchObject({
      type: 'message',
      role: 'assistant',
      content: [{ type: 'output_text', text: '{"ok":true}' }],
    });
    expect(json.usage.input_tokens).toBeGreaterThan(0);
    expect(seen[0]).toMatchObject({
      api: 'responses',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'hi' },
      ],
      responseFormat: { type: 'json_schema', json_schema: { name: 'answer' } },
    });
  });

  it('rejects requests without the right bearer key in the OpenAI error format', async () => {
    const server = await start({ apiKey: 'secret' });
    const body = { model: 'm', messages: [{ role: 'user', content: 'x' }] };
    const missing = await postJson(server, '/chat/completions', body);
    expect(missing.status).toBe(401);
    expect(missing.json.error).toMatchObject({ type: 'invalid_request_error', param: null });
    expect(missing.json.error.message).toContain('API key');
    const wrong = await postJson(server, '/chat/completions', body, {
      authorization: 'Bearer nope',
    });
    expect(wrong.status).toBe(401);
    expect(wrong.json.error.code).toBe('invalid_api_key');
    const right = await postJson(server, '/chat/completions', body, {
      authorization: 'Bearer secret',
    });
    expect(right.status).toBe(200);
  });

  it('fails the next N requests on demand, then recovers', async () => {
    const server = await start();
    server.failNext(2, 429, { retryAfterMs: 5 });
    const body = { model: 'm', input: 'x' };
    const first = await postJson(server, '/embeddings', body);
    expect(first.status).toBe(429);
    expect(first.headers.get('retry-after-ms')).toBe('5');
    expect(first.json.error.code).toBe('rate_limit_exceeded');
    expect((await postJson(server, '/embeddings', body)).status).toBe(429);
    expect((await postJson(server, '/embeddings', body)).status).toBe(200);
  });

  it('logs every request with path, body and headers', async () => {
    const server = await start();
    await postJson(server, '/embeddings', { model: 'm', input: 'x' }, { 'x-test': 'yes' });
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]).toMatchObject({
      method: 'POST',
      path: '/v1/embeddings',
      body: { model: 'm', input: 'x' },
      headers: { 'x-test': 'yes' },
    });
  });

  it('answers 400 for invalid bodies and 404 for unknown routes', async () => {
    const server = await start();
    const noMessages = await postJson(server, '/chat/completions', { model: 'm' });
    expect(noMessages.status).toBe(400);
    expect(noMessages.json.error.param).toBe('messages');
    const badJson = await fetch(`${server.url}/embeddings`, { method: 'POST', body: '{nope' });
    expect(badJson.status).toBe(400);
    const unknown = await postJson(server, '/nothing', {});
    expect(unknown.status).toBe(404);
    expect(unknown.json.error.message).toBe('Invalid URL (POST /v1/nothing)');
  });

  it('waits latencyMs before answering', async () => {
    const server = await start({ latencyMs: 60 });
    const started = performance.now();
    await postJson(server, '/embeddings', { model: 'm', input: 'x' });
    expect(performance.now() - started).toBeGreaterThanOrEqual(55);
  });

  it('reports handler failures as 500', async () => {
    const server = await start({
      chat: () => {
        throw new Error('boom');
      },
    });
    const { status, json } = await postJson(server, '/chat/completions', {
      model: 'm',
      messages: [{ role: 'user', content: 'x' }],
    });
    expect(status).toBe(500);
    expect(json.error.message).toContain('boom');
  });
});
