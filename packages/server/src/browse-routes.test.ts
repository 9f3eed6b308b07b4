import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiKeyStorePath, openApiKeyStore } from './api-keys.js';
import type { AppContext } from './app-context.js';
import { createMemoryJobQueue } from './job-queue.js';
import { createServerMetrics } from './metrics.js';
import { createProjectMemories } from './project-memories.js';
import { createRateLimiter } from './rate-limiter.js';
import { createServerApp } from './server-app.js';
import { loadServerConfig } from './server-config.js';
import { registerUiRoutes } from './ui-routes.js';

let directory: string;
let context: AppContext;
let app: ReturnType<typeof createServerApp>;
const keys: Record<'alpha' | 'beta' | 'reader', string> = { alpha: '', beta: '', reader: '' };

beforeAll(() => {
  directory = mkdtempSync(join(tmpdir(), 'engram-browse-'));
  const dataDir = join(directory, 'data');
  const config = loadServerConfig({ dataDir }, { ENGRAM_LLM: 'none', ENGRAM_EMBEDDER: 'hash' });
  const store = openApiKeyStore(apiKeyStorePath(dataDir));
  keys.alpha = store.create({ project: 'alpha' }).key;
  keys.beta = store.create({ project: 'beta' }).key;
  keys.reader = store.create({ project: 'alpha', access: 'read' }).key;
  const metrics = createServerMetrics();
  context = {
    config,
    keys: store,
    projects: createProjectMemories(config, metrics),
    jobs: createMemoryJobQueue({ attempts: 1, backoffMs: 1 }),
    metrics,
    logger: pino({ level: 'silent' }),
    limiter: createRateLimiter({ requestsPerSecond: 10_000, burst: 10_000 }),
    state: { shuttingDown: false },
  };
  app = createServerApp(context);
});

afterAll(async () => {
  await context.projects.close();
  context.keys.close();
  rmSync(directory, { recursive: true, force: true });
});

async function call(path: string, key: string | undefined, body?: unknown) {
  const response = await app.request(path, {
    method: body === undefined ? 'GET' : 'POST',
    headers: {
      ...(key ? { Authorization: `Bearer ${key}` } : {}),
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('routes of the memory browser', () => {
  it('counts users, agents and runs of the key project only, and usage per project', async () => {
    for (const [userId, agentId, text] of [
      ['alice', 'chef', 'Likes ramen'],
      ['alice', undefined, 'Lives in Oslo'],
      ['bob', 'chef', 'Likes tea'],
    ] as const) {
      const added = await call('/v1/memories', keys.alpha, {
        messages: text,
        userId,
        ...(agentId ? { agentId } : {}),
        infer: false,
        metadata: { topic: text.startsWith('Likes') ? 'food' : 'place' },
      });
      expect(added.status).toBe(200);
    }
    await call('/v1/memories', keys.beta, { messages: 'Secret', userId: 'carol', infer: false });
    expect((await call('/v1/search', keys.alpha, { query: 'ramen', userId: 'alice' })).status).toBe(
      200,
    );

    const scopes = await call('/v1/scopes', keys.reader);
    expect(scopes.status).toBe(200);
    expect(scopes.body).toMatchObject({
      users: [
        { id: 'alice', memories: 2 },
        { id: 'bob', memories: 1 },
      ],
      agents: [{ id: 'chef', memories: 2 }],
      runs: [],
      memories: 3,
      complete: true,
    });
    const beta = await call('/v1/scopes', keys.beta);
    expect(beta.body).toMatchObject({ users: [{ id: 'carol', memories: 1 }], memories: 1 });
    expect((await call('/v1/scopes?limit=1', keys.alpha)).body).toMatchObject({
      users: [{ id: 'alice' }],
    });
    expect((await call('/v1/scopes', undefined)).status).toBe(401);

    const usage = await call('/v1/usage', keys.alpha);
    expect(usage.body).toMatchObject({ project: 'alpha', adds: 3, memoriesAdded: 3, searches: 1 });
    expect((await call('/v1/usage', keys.beta)).body).toMatchObject({
      project: 'beta',
      adds: 1,
      searches: 0,
    });
  });

  it('filters a list by metadata given as JSON, and refuses a filter that is not', async () => {
    const filters = encodeURIComponent('{"topic":"food"}');
    const page = await call(`/v1/memories?userId=alice&filters=${filters}`, keys.alpha);
    expect(page.status).toBe(200);
    expect((page.body.results as Array<{ memory: string }>).map((item) => item.memory)).toEqual([
      'Likes ramen',
    ]);
    const refused = await call('/v1/memories?userId=alice&filters=%5B1%5D', keys.alpha);
    expect(refused.status).toBe(400);
    expect(JSON.stringify(refused.body)).toContain('JSON object');
  });

  it('answers that graph memory is off, and needs a scope', async () => {
    expect((await call('/v1/graph?userId=alice', keys.alpha)).body).toEqual({
      enabled: false,
      relations: [],
    });
    expect((await call('/v1/graph', keys.alpha)).status).toBe(400);
  });

  it('serves the UI files with content types, CSP and ETags, and nothing else', async () => {
    const files = new Map([
      [
        'index.html',
        {
          name: 'index.html',
          contentType: 'text/html; charset=utf-8',
          body: new TextEncoder().encode('<!doctype html>'),
        },
      ],
      [
        'app.js',
        {
          name: 'app.js',
          contentType: 'text/javascript; charset=utf-8',
          body: new TextEncoder().encode('export {};'),
        },
      ],
    ]);
    let loads = 0;
    const { Hono } = await import('hono');
    const ui = new Hono();
    registerUiRoutes(ui as never, () => {
      loads += 1;
      return files;
    });
    const page = await ui.request('/ui/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    const etag = page.headers.get('etag')!;
    expect((await ui.request('/ui/', { headers: { 'If-None-Match': etag } })).status).toBe(304);
    expect((await ui.request('/ui/app.js')).headers.get('content-type')).toBe(
      'text/javascript; charset=utf-8',
    );
    expect((await ui.request('/ui/missing.js')).status).toBe(404);
    expect((await ui.request('/ui/app.js.map')).status).toBe(404);
    expect((await ui.request('/ui')).headers.get('location')).toBe('/ui/');
    expect(loads).toBe(1);
    // The real package's files are there once built.
    expect((await app.request('/ui/')).headers.get('content-type')).toBe(
      'text/html; charset=utf-8',
    );
  });
});
