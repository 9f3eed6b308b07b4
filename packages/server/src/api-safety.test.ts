import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiKeyStorePath, openApiKeyStore } from './api-keys.js';
import { openTestApp, requestApp, type TestApp } from './server-app.test-support.js';
import type { ServerConfig } from './server-config.js';

let directory: string;
const opened: TestApp[] = [];
let app: TestApp['app'];
let key: string;

function openApp(env: Record<string, string> = {}, overrides: Partial<ServerConfig> = {}) {
  const test = openTestApp({ dataDir: directory, env, overrides, countVectors: true });
  opened.push(test);
  return test.app;
}

beforeAll(() => {
  directory = mkdtempSync(join(tmpdir(), 'engram-safety-'));
  const keys = openApiKeyStore(apiKeyStorePath(directory));
  key = keys.create({ project: 'secret-customer' }).key;
  keys.close();
  app = openApp({ ENGRAM_METRICS_TOKEN: 'scrape-token-0123456789' });
});

afterAll(async () => {
  for (const test of opened) await test.close();
  rmSync(directory, { recursive: true, force: true });
});

async function call(
  path: string,
  { method = 'GET', body, on = app }: { method?: string; body?: unknown; on?: typeof app } = {},
) {
  const response = await requestApp(on, path, { method, authorization: `Bearer ${key}`, body });
  const text = await response.text();
  let parsed: { error?: { code: string; message: string } } & Record<string, unknown> = {};
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not JSON.
  }
  return { status: response.status, body: parsed, text };
}

async function addOne(userId: string, text: string): Promise<string> {
  const added = await call('/v1/memories', {
    method: 'POST',
    body: { messages: text, userId, infer: false },
  });
  expect(added.status).toBe(200);
  return (added.body.results as Array<{ id: string }>)[0]!.id;
}

describe('scope checks on by-id routes', () => {
  it('answers an id of another user exactly as a missing id, on /v1 and mem0 routes', async () => {
    const id = await addOne('alice', 'Likes green tea');
    const missing = '00000000-0000-4000-8000-000000000000';
    const routes: Array<[string, string, unknown?]> = [
      ['GET', '/v1/memories/{id}?userId=bob'],
      ['PATCH', '/v1/memories/{id}?userId=bob', { text: 'Likes coffee' }],
      ['GET', '/v1/memories/{id}/history?userId=bob'],
      ['DELETE', '/v1/memories/{id}?userId=bob'],
      ['GET', '/memories/{id}?user_id=bob'],
      ['PUT', '/memories/{id}?user_id=bob', { text: 'Likes coffee' }],
      ['GET', '/memories/{id}/history?user_id=bob'],
      ['DELETE', '/memories/{id}?user_id=bob'],
    ];
    for (const [method, path, body] of routes) {
      const foreign = await call(path.replace('{id}', id), { method, body });
      const unknown = await call(path.replace('{id}', missing), { method, body });
      expect(foreign.status, `${method} ${path}`).toBe(404);
      expect(foreign.body.error!.message.replace(id, missing), `${method} ${path}`).toBe(
        unknown.body.error!.message,
      );
    }
    const own = await call(`/v1/memories/${id}?userId=alice`);
    expect(own.status).toBe(200);
    expect(own.body.memory).toBe('Likes green tea');
    expect((await call(`/memories/${id}/history?user_id=alice`)).status).toBe(200);
    expect(
      (await call(`/v1/memories/${id}?userId=alice`, { method: 'PATCH', body: { text: 'Tea' } }))
        .status,
    ).toBe(200);
    expect((await call(`/memories/${id}?user_id=alice`, { method: 'DELETE' })).status).toBe(200);
  });
});

describe('input that cannot hurt an operator', () => {
  it('refuses control characters and lone surrogates with a 400 naming the character', async () => {
    const id = await addOne('carol', 'Likes oolong');
    const attempts: Array<[string, string, unknown]> = [
      ['POST', '/v1/memories', { messages: 'ring \u0007 bell', userId: 'carol' }],
      ['POST', '/v1/memories', { messages: 'ring \u0007 bell', userId: 'carol', async: true }],
      [
        'POST',
        '/v1/memories',
        { messages: [{ role: 'user', content: 'clear \u001b[2J' }], userId: 'carol' },
      ],
      ['POST', '/memories', { messages: 'ring \u0007 bell', user_id: 'carol' }],
      ['PATCH', `/v1/memories/${id}`, { text: 'nul \u0000 byte' }],
      ['PUT', `/memories/${id}`, { data: 'nul \u0000 byte' }],
      ['POST', '/v1/import', { items: [{ text: 'bs \u0008', userId: 'carol' }] }],
      ['POST', '/v1/memories', { messages: 'fine', userId: 'carol', metadata: { a: '\u009b' } }],
    ];
    for (const [method, path, body] of attempts) {
      const answer = await call(path, { method, body });
      expect(answer.status, `${method} ${path}`).toBe(400);
      expect(answer.body.error!.message, `${method} ${path}`).toMatch(
        /U\+00(07|1B|00|08|9B) \([A-Z]+\) at character \d+/,
      );
    }
    // A lone surrogate, as a client's JSON escape sends it.
    const lone = await call('/v1/memories', {
      method: 'POST',
      body: '{"messages": "half \\ud800 a pair", "userId": "carol"}',
    });
    expect(lone.status).toBe(400);
    expect(lone.body.error!.message).toContain('lone surrogate U+D800');
    const page = await call('/v1/memories?userId=carol');
    expect((page.body.results as unknown[]).length).toBe(1);
  });
});

describe('the API and the engine say the same', () => {
  it('refuses a threshold outside 0..1 with the engine message', async () => {
    for (const [path, scope] of [
      ['/v1/search', { userId: 'alice' }],
      ['/search', { user_id: 'alice' }],
    ] as const) {
      const answer = await call(path, {
        method: 'POST',
        body: { query: 'tea', ...scope, threshold: -0.5 },
      });
      expect(answer.status).toBe(400);
      expect(answer.body.error!.message).toBe(
        'threshold must be a number from 0 to 1 (a similarity, e.g. 0.3; 0 turns the cut-off off), got -0.5.',
      );
    }
  });

  it('says which shape messages take', async () => {
    for (const messages of [42, [{ role: 'robot', content: 'x' }], [{ content: 'x' }], {}]) {
      const answer = await call('/v1/memories', {
        method: 'POST',
        body: { messages, userId: 'alice' },
      });
      expect(answer.status, JSON.stringify(messages)).toBe(400);
      expect(answer.body.error!.message, JSON.stringify(messages)).toContain(
        'messages must be a string or an array of { role: "user" | "assistant" | "system", content: string } objects',
      );
    }
  });

  it('answers the history of an unknown id with 404', async () => {
    const answer = await call('/v1/memories/never-existed/history');
    expect(answer.status).toBe(404);
    expect(answer.body.error!.message).toContain('No memory with id "never-existed"');
  });
});

describe('/metrics', () => {
  it('needs the metrics token and shows no project names by default', async () => {
    await addOne('dave', 'Likes mint tea');
    expect((await app.request('/metrics')).status).toBe(401);
    expect(
      (await app.request('/metrics', { headers: { Authorization: `Bearer ${key}` } })).status,
    ).toBe(401);
    const scraped = await app.request('/metrics', {
      headers: { Authorization: 'Bearer scrape-token-0123456789' },
    });
    expect(scraped.status).toBe(200);
    const text = await scraped.text();
    expect(text).toMatch(/engram_vector_count \d+/);
    expect(text).not.toContain('secret-customer');
  });

  it('labels per project only when asked to', async () => {
    const labelled = openApp({
      ENGRAM_METRICS_TOKEN: 'scrape-token-0123456789',
      ENGRAM_METRICS_PROJECT_LABELS: 'true',
    });
    await addOne('erin', 'Likes chai');
    await call('/v1/memories?userId=erin', { on: labelled });
    const text = await (
      await labelled.request('/metrics', {
        headers: { Authorization: 'Bearer scrape-token-0123456789' },
      })
    ).text();
    expect(text).toMatch(/engram_vector_count\{project="secret-customer"\} \d+/);
  });

  it('is not served on the API port without a token when a metrics port is set', async () => {
    const separate = openApp({ ENGRAM_METRICS_PORT: '0' });
    expect((await separate.request('/metrics')).status).toBe(404);
  });
});
