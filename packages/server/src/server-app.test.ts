import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HistoryEvent } from '@engram/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiKeyStorePath } from './api-keys.js';
import type { AppContext } from './app-context.js';
import { pruneProjectHistories, scheduleHistoryRetention } from './history-retention.js';
import { createRateLimiter } from './rate-limiter.js';
import { openTestApp, requestApp, type TestApp } from './server-app.test-support.js';

let directory: string;
let opened: TestApp;
let context: AppContext;
let app: TestApp['app'];
let alphaKey: string;
let betaKey: string;
let adminKey: string;
let dataDir: string;
const day = 24 * 60 * 60 * 1000;
let time = Date.parse('2025-01-01T00:00:00.000Z');

beforeAll(() => {
  directory = mkdtempSync(join(tmpdir(), 'engram-app-'));
  // Created by the server, so that its modes can be checked.
  dataDir = join(directory, 'data');
  opened = openTestApp({
    dataDir,
    env: { ENGRAM_HISTORY_TEXT_RETENTION: '30d' },
    now: () => new Date(time),
  });
  ({ app, context } = opened);
  alphaKey = context.keys.create({ project: 'alpha' }).key;
  betaKey = context.keys.create({ project: 'beta', admin: true }).key;
  adminKey = context.keys.create({ project: 'alpha', admin: true }).key;
});

afterAll(async () => {
  await opened.close();
  rmSync(directory, { recursive: true, force: true });
});

function call(
  path: string,
  { method = 'GET', key = alphaKey, body }: { method?: string; key?: string; body?: unknown } = {},
) {
  return requestApp(app, path, { method, authorization: `Bearer ${key}`, body });
}

describe('createServerApp', () => {
  it("limits each project's keys together when a project limit is set", async () => {
    const project = { requestsPerSecond: 1 / 3600, burst: 1 };
    context.config.rateLimit.project = project;
    context.projectLimiter = createRateLimiter(project);
    try {
      expect((await call('/v1/memories?userId=p', { key: alphaKey })).status).toBe(200);
      const refused = await call('/v1/memories?userId=p', { key: adminKey });
      expect(refused.status).toBe(429);
      expect(((await refused.json()) as { error: { message: string } }).error.message).toContain(
        "project's rate limit",
      );
      expect((await call('/v1/memories?userId=p', { key: betaKey })).status).toBe(200);
    } finally {
      delete context.config.rateLimit.project;
      delete context.projectLimiter;
    }
  });

  it('publishes an OpenAPI 3.1 document generated from the request schemas', async () => {
    const document = (await (await app.request('/openapi.json')).json()) as {
      openapi: string;
      paths: Record<string, Record<string, { security?: unknown; requestBody?: unknown }>>;
      components: { securitySchemes: Record<string, unknown>; schemas: Record<string, unknown> };
    };
    expect(document.openapi).toBe('3.1.0');
    expect(Object.keys(document.paths).sort()).toEqual([
      '/healthz',
      '/memories',
      '/memories/{id}',
      '/memories/{id}/history',
      '/metrics',
      '/readyz',
      '/search',
      '/v1/admin/jobs/{id}',
      '/v1/admin/reembed',
      '/v1/batch/',
      '/v1/event/{event_id}/',
      '/v1/export',
      '/v1/graph',
      '/v1/import',
      '/v1/jobs/{id}',
      '/v1/memories',
      '/v1/memories/',
      '/v1/memories/{id}',
      '/v1/memories/{id}/history',
      '/v1/memories/{memory_id}/',
      '/v1/memories/{memory_id}/history/',
      '/v1/ping/',
      '/v1/reset',
      '/v1/scopes',
      '/v1/search',
      '/v1/usage',
      '/v3/memories/',
      '/v3/memories/add/',
      '/v3/memories/search/',
    ]);
    expect(document.paths['/v1/memories']!.post!.security).toEqual([
      { bearerAuth: [] },
      { apiKeyHeader: [] },
    ]);
    expect(Object.keys(document.components.securitySchemes)).toEqual([
      'bearerAuth',
      'apiKeyHeader',
      'tokenAuth',
    ]);
    expect(document.components.schemas).toHaveProperty('AddRequest');
  });

  it('refuses a body over the limit with 413, whether its length is declared or streamed', async () => {
    const limit = context.config.bodyLimitBytes;
    const oversized = JSON.stringify({ messages: 'x'.repeat(limit), userId: 'alice' });
    const headers = { Authorization: `Bearer ${alphaKey}`, 'Content-Type': 'application/json' };
    const stream = (text: string) => {
      const bytes = new TextEncoder().encode(text);
      return new ReadableStream<Uint8Array>({
        start(controller) {
          for (let start = 0; start < bytes.length; start += 65_536) {
            controller.enqueue(bytes.subarray(start, start + 65_536));
          }
          controller.close();
        },
      });
    };
    const declared = await app.request('/v1/memories', {
      method: 'POST',
      headers: { ...headers, 'Content-Length': String(Buffer.byteLength(oversized)) },
      body: oversized,
    });
    expect(declared.status).toBe(413);
    expect(((await declared.json()) as { error: { code: string } }).error.code).toBe(
      'payload_too_large',
    );
    const streamed = await app.request('/v1/memories', {
      method: 'POST',
      headers,
      body: stream(oversized),
      duplex: 'half',
    } as RequestInit);
    expect(streamed.status).toBe(413);
    const small = JSON.stringify({ messages: 'Likes tea', userId: 'body-limit' });
    const accepted = await app.request('/v1/memories', {
      method: 'POST',
      headers,
      body: stream(small),
      duplex: 'half',
    } as RequestInit);
    expect(accepted.status).toBe(200);
  });

  it('adds and reads back within a project, and answers 404 to another project', async () => {
    const added = await call('/v1/memories', {
      method: 'POST',
      body: { messages: 'likes tea', userId: 'u' },
    });
    expect(added.status).toBe(200);
    const { results } = (await added.json()) as { results: Array<{ id: string }> };
    const id = results[0]!.id;
    expect((await call(`/v1/memories/${id}`)).status).toBe(200);
    expect((await call(`/v1/memories/${id}`, { key: betaKey })).status).toBe(404);
    expect((await call(`/v1/memories/${id}/history`, { key: betaKey })).status).toBe(404);
  });

  it('searches with scores in the order of the results, explained on request', async () => {
    for (const text of ['drinks green tea every morning', 'tea with milk, no sugar']) {
      await call('/v1/memories', { method: 'POST', body: { messages: text, userId: 'scores' } });
    }
    const answer = await call('/v1/search', {
      method: 'POST',
      body: { query: 'green tea', userId: 'scores', explain: true },
    });
    expect(answer.status).toBe(200);
    const { results } = (await answer.json()) as {
      results: Array<{
        score: number;
        scores: { vector: number; fused: number };
        explanation: { contributions: Array<{ signal: string }> };
      }>;
    };
    expect(results.length).toBeGreaterThan(1);
    expect(results[0]!.score).toBe(results[0]!.scores.fused);
    expect(results[0]!.score).toBeGreaterThanOrEqual(results[1]!.score);
    expect(results[0]!.explanation.contributions.map((part) => part.signal)).toEqual([
      'vector',
      'keyword',
    ]);
  });

  it('maps validation failures to 400 with the field named', async () => {
    const answer = await call('/v1/search', { method: 'POST', body: { query: '', userId: 'u' } });
    expect(answer.status).toBe(400);
    const body = (await answer.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('invalid_argument');
    expect(body.error.message).toContain('query');
  });

  it('fails readiness while shutting down', async () => {
    // The models are probed in the background and reported beside the checks once answered.
    let models: Record<string, string> = {};
    for (let attempt = 0; attempt < 200 && models.embedder !== 'ok'; attempt++) {
      const ready = await app.request('/readyz');
      expect(ready.status).toBe(200);
      models = ((await ready.json()) as { models: Record<string, string> }).models;
      if (models.embedder !== 'ok') await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(models).toEqual({ embedder: 'ok', llm: 'off' });
    context.state.shuttingDown = true;
    try {
      const answer = await app.request('/readyz');
      expect(answer.status).toBe(503);
      expect(await answer.json()).toMatchObject({ checks: { server: 'shutting down' } });
    } finally {
      context.state.shuttingDown = false;
    }
  });
});

async function add(text: string, scope: Record<string, string>, key = alphaKey) {
  const answer = await call('/v1/memories', {
    method: 'POST',
    key,
    body: { messages: text, ...scope },
  });
  expect(answer.status).toBe(200);
  return ((await answer.json()) as { results: Array<{ id: string }> }).results[0]!.id;
}

async function history(id: string, key = alphaKey): Promise<HistoryEvent[]> {
  const answer = await call(`/v1/memories/${id}/history`, { key });
  expect(answer.status).toBe(200);
  return ((await answer.json()) as { results: HistoryEvent[] }).results;
}

const mode = (path: string) => (statSync(path).mode & 0o777).toString(8);

describe('erasure over the API', () => {
  it('creates the data directory, the key file and project databases private', async () => {
    await add('private fact', { userId: 'modes' });
    expect(mode(dataDir)).toBe('700');
    expect(mode(join(dataDir, 'projects'))).toBe('700');
    expect(mode(apiKeyStorePath(dataDir))).toBe('600');
    for (const suffix of ['', '-wal', '-shm']) {
      expect(mode(join(dataDir, 'projects', `alpha.db${suffix}`)), suffix).toBe('600');
    }
  });

  it('DELETE /v1/memories/{id}?erase=true leaves events without texts', async () => {
    const id = await add('Alice lives at 12 Rue X', { userId: 'alice' });
    const patched = await call(`/v1/memories/${id}`, {
      method: 'PATCH',
      body: { text: 'Alice lives at 3 Rue Y' },
    });
    expect(patched.status).toBe(200);
    const kept = await add('Alice likes tea', { userId: 'alice' });
    expect((await call(`/v1/memories/${id}?erase=true`, { method: 'DELETE' })).status).toBe(200);
    const events = await history(id);
    expect(events.map((event) => [event.event, event.previousText, event.newText])).toEqual([
      ['ADD', null, null],
      ['UPDATE', null, null],
      ['DELETE', null, null],
    ]);
    expect(
      events.every((event) => event.userId === 'alice' && event.actor === 'project:alpha'),
    ).toBe(true);
    expect((await history(kept))[0]!.newText).toBe('Alice likes tea');
    expect((await call(`/v1/memories/${id}?erase=maybe`, { method: 'DELETE' })).status).toBe(400);
  });

  it('DELETE /v1/memories?userId=...&erase=true and the mem0 routes erase too', async () => {
    const ids = [await add('b one', { userId: 'bob' }), await add('b two', { userId: 'bob' })];
    const carol = await add('carol fact', { userId: 'carol' });
    const answer = await call('/v1/memories?userId=bob&erase=true', { method: 'DELETE' });
    expect(await answer.json()).toEqual({ deleted: 2 });
    for (const id of ids) {
      expect(
        (await history(id)).every((event) => event.newText === null && event.previousText === null),
      ).toBe(true);
    }
    expect((await history(carol))[0]!.newText).toBe('carol fact');

    const dave = await add('dave fact', { userId: 'dave' });
    expect((await call(`/memories/${dave}?erase=true`, { method: 'DELETE' })).status).toBe(200);
    expect((await history(dave)).map((event) => event.newText ?? event.previousText)).toEqual([
      null,
      null,
    ]);
    const erin = await add('erin fact', { userId: 'erin' });
    expect((await call('/memories?user_id=erin&erase=true', { method: 'DELETE' })).status).toBe(
      200,
    );
    expect((await history(erin)).map((event) => event.newText ?? event.previousText)).toEqual([
      null,
      null,
    ]);
    expect((await history(carol))[0]!.newText).toBe('carol fact');
  });

  it('POST /v1/reset needs an admin key and forgets one scope of the key’s project', async () => {
    const id = await add('frank fact', { userId: 'frank' });
    const betaId = await add('beta frank fact', { userId: 'frank' }, betaKey);
    const refused = await call('/v1/reset', { method: 'POST', body: { userId: 'frank' } });
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({
      error: { code: 'forbidden', message: expect.stringContaining('--admin') },
    });
    expect((await call(`/v1/memories/${id}`)).status).toBe(200);

    const empty = await call('/v1/reset', { method: 'POST', key: adminKey, body: {} });
    expect(empty.status).toBe(400);
    const reset = await call('/v1/reset', {
      method: 'POST',
      key: adminKey,
      body: { userId: 'frank' },
    });
    expect(reset.status).toBe(200);
    expect(await reset.json()).toEqual({ deleted: 1 });
    expect((await call(`/v1/memories/${id}`)).status).toBe(404);
    expect((await call(`/v1/memories/${id}/history`)).status).toBe(404);
    expect((await history(betaId, betaKey))[0]!.newText).toBe('beta frank fact');
  });

  it('prunes history texts older than ENGRAM_HISTORY_TEXT_RETENTION in every project', async () => {
    const old = await add('old fact', { userId: 'grace' });
    const betaOld = await add('old beta fact', { userId: 'grace' }, betaKey);
    time += 20 * day;
    const recent = await add('recent fact', { userId: 'grace' });
    time += 15 * day;
    const erased = await pruneProjectHistories(context);
    expect(erased.alpha).toBeGreaterThanOrEqual(1);
    expect(erased.beta).toBeGreaterThanOrEqual(1);
    expect((await history(old))[0]!.newText).toBeNull();
    expect((await history(betaOld, betaKey))[0]!.newText).toBeNull();
    expect((await history(recent))[0]!.newText).toBe('recent fact');
  });

  it('runs the retention at start and on its interval until stopped', async () => {
    const old = await add('scheduled old fact', { userId: 'heidi' });
    time += 31 * day;
    const stop = scheduleHistoryRetention(context, 20);
    try {
      await expect.poll(async () => (await history(old))[0]!.newText).toBeNull();
      const later = await add('scheduled later fact', { userId: 'heidi' });
      time += 31 * day;
      await expect.poll(async () => (await history(later))[0]!.newText).toBeNull();
    } finally {
      stop();
    }
  });
});
