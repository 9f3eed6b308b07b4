import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppContext } from './app-context.js';
import { isMem0PlatformPath } from './mem0-platform-routes.js';
import { createRateLimiter } from './rate-limiter.js';
import { openTestApp, requestApp, type TestApp } from './server-app.test-support.js';

let directory: string;
let opened: TestApp;
let context: AppContext;
let app: TestApp['app'];
let alphaKey: string;
let betaKey: string;

beforeAll(() => {
  directory = mkdtempSync(join(tmpdir(), 'engram-mem0-platform-'));
  opened = openTestApp({ dataDir: join(directory, 'data') });
  ({ app, context } = opened);
  alphaKey = context.keys.create({ project: 'alpha' }).key;
  betaKey = context.keys.create({ project: 'beta' }).key;
});

afterAll(async () => {
  await opened.close();
  rmSync(directory, { recursive: true, force: true });
});

async function call(
  path: string,
  { method = 'GET', key = alphaKey, body }: { method?: string; key?: string; body?: unknown } = {},
) {
  const response = await requestApp(app, path, { method, authorization: `Token ${key}`, body });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('mem0 platform routes', () => {
  it('tells platform paths from the /v1 API by their trailing slash', () => {
    expect(isMem0PlatformPath('/v1/memories/abc/')).toBe(true);
    expect(isMem0PlatformPath('/v3/memories/add')).toBe(true);
    expect(isMem0PlatformPath('/api/v1/orgs/organizations/')).toBe(true);
    expect(isMem0PlatformPath('/v1/memories/abc')).toBe(false);
    expect(isMem0PlatformPath('/memories/abc/')).toBe(false);
  });

  it('documents the routes with the Token scheme', async () => {
    const document = (await (await app.request('/openapi.json')).json()) as {
      paths: Record<string, Record<string, { security?: unknown }>>;
    };
    expect(document.paths['/v3/memories/add/']!.post!.security).toEqual([
      { tokenAuth: [] },
      { bearerAuth: [] },
      { apiKeyHeader: [] },
    ]);
    expect(Object.keys(document.paths)).toContain('/v1/memories/{memory_id}/history/');
  });

  it('accepts "Token <key>" as an API key of its project, on both APIs', async () => {
    expect(await call('/v1/ping/')).toEqual({
      status: 200,
      body: { status: 'ok', org_id: 'engram', project_id: 'alpha' },
    });
    expect((await call('/v1/memories?userId=u')).status).toBe(200);
    const refused = await call('/v1/ping/', { key: 'engram_k_000000000000_nope' });
    expect(refused.status).toBe(401);
    expect(refused.body).toMatchObject({ code: 'unauthorized', detail: expect.any(String) });
  });

  it('counts "Token <key>" requests against the key\'s rate limit, answering 429 in mem0\'s shape', async () => {
    const strict = createRateLimiter({ requestsPerSecond: 0.001, burst: 1 });
    const seen: string[] = [];
    context.takeToken = async (keyId) => {
      seen.push(keyId);
      return strict.take(keyId);
    };
    try {
      expect((await call('/v1/ping/')).status).toBe(200);
      const limited = await app.request('/v3/memories/', {
        method: 'POST',
        headers: { Authorization: `Token ${alphaKey}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ filters: { user_id: 'u' } }),
      });
      expect(limited.status).toBe(429);
      expect(limited.headers.get('Retry-After')).not.toBeNull();
      expect(await limited.json()).toMatchObject({ code: 'rate_limited' });
      expect((await call('/v1/memories?userId=u')).status).toBe(429);
      expect(new Set(seen).size).toBe(1);
    } finally {
      delete context.takeToken;
    }
  });

  it("answers errors in mem0's shape on platform paths only", async () => {
    const platform = await call('/v3/memories/search/', { method: 'POST', body: { query: '' } });
    expect(platform.status).toBe(400);
    expect(platform.body.code).toBe('invalid_argument');
    expect(platform.body.detail).toContain('query');
    const own = await call('/v1/search', { method: 'POST', body: { query: '', userId: 'u' } });
    expect(own.body).toMatchObject({ error: { code: 'invalid_argument' } });
  });

  it('keeps /v1/memories/{id} and /v1/memories/{id}/ apart, each in its own shape', async () => {
    const added = await call('/v3/memories/add/', {
      method: 'POST',
      body: { messages: [{ role: 'user', content: 'likes tea' }], user_id: 'u', infer: false },
    });
    const id = (added.body.results as Array<{ id: string }>)[0]!.id;
    expect((await call(`/v1/memories/${id}`)).body).toMatchObject({ userId: 'u' });
    expect((await call(`/v1/memories/${id}/`)).body).toMatchObject({ user_id: 'u', run_id: null });
    expect((await call(`/v1/memories/${id}/`, { key: betaKey })).status).toBe(404);
  });

  it('answers 501 naming an unimplemented platform route, 404 elsewhere', async () => {
    const summary = await call('/v1/summary/', { method: 'POST', body: {} });
    expect(summary.status).toBe(501);
    expect(summary.body.detail).toContain('POST /v1/summary/');
    expect((await call('/v2/memories/', { method: 'POST', body: {} })).status).toBe(501);
    const wrongMethod = await call('/v1/batch/', { method: 'POST', body: {} });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.body.detail).toContain('PUT, DELETE');
    const missing = await call('/v1/nothing');
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ error: { code: 'not_found' } });
  });

  it('takes expiration_date on add and update, shows it, and leaves expired memories out', async () => {
    const added = await call('/v3/memories/add/', {
      method: 'POST',
      body: {
        messages: 'keeps a spare key',
        user_id: 'expiring',
        infer: false,
        expiration_date: '2999-12-31',
      },
    });
    expect(added.status).toBe(200);
    const id = (added.body as { results: Array<{ id: string }> }).results[0]!.id;
    const shown = await call(`/v1/memories/${id}/`);
    expect(shown.body.expiration_date).toBe('3000-01-01T00:00:00.000Z');
    const expired = await call(`/v1/memories/${id}/`, {
      method: 'PUT',
      body: { expiration_date: '2001-01-01T00:00:00Z' },
    });
    expect(expired.status).toBe(200);
    expect((await call(`/v1/memories/${id}/`)).status).toBe(404);
    const bad = await call('/v3/memories/add/', {
      method: 'POST',
      body: { messages: 'x', user_id: 'expiring', infer: false, expiration_date: 'soon' },
    });
    expect(bad.status).toBe(400);
  });

  it('refuses what Engram does not implement, naming it', async () => {
    const add = await call('/v3/memories/add/', {
      method: 'POST',
      body: { messages: 'x', user_id: 'u', immutable: true, timestamp: 1 },
    });
    expect(add.status).toBe(400);
    expect(add.body.detail).toContain('timestamp, immutable');
    const noScope = await call('/v1/memories/', { method: 'DELETE' });
    expect(noScope.status).toBe(400);
    expect(noScope.body.detail).toContain('user_id');
    const list = await call('/v3/memories/', {
      method: 'POST',
      body: { filters: { user_id: { in: ['a', 'b'] } } },
    });
    expect(list.status).toBe(400);
    expect(list.body.detail).toContain('one call per user_id');
  });
});
