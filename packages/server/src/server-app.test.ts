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

let directory: string;
let context: AppContext;
let app: ReturnType<typeof createServerApp>;
let alphaKey: string;
let betaKey: string;

beforeAll(() => {
  directory = mkdtempSync(join(tmpdir(), 'engram-app-'));
  const config = loadServerConfig(
    { dataDir: directory },
    { ENGRAM_LLM: 'none', ENGRAM_EMBEDDER: 'hash' },
  );
  const keys = openApiKeyStore(apiKeyStorePath(directory));
  alphaKey = keys.create({ project: 'alpha' }).key;
  betaKey = keys.create({ project: 'beta' }).key;
  const metrics = createServerMetrics();
  context = {
    config,
    keys,
    projects: createProjectMemories(config, metrics),
    jobs: createMemoryJobQueue({ attempts: 1, backoffMs: 1 }),
    metrics,
    logger: pino({ level: 'silent' }),
    limiter: createRateLimiter(config.rateLimit),
    state: { shuttingDown: false },
  };
  app = createServerApp(context);
});

afterAll(async () => {
  await context.projects.close();
  context.keys.close();
  rmSync(directory, { recursive: true, force: true });
});

function call(
  path: string,
  { method = 'GET', key = alphaKey, body }: { method?: string; key?: string; body?: unknown } = {},
) {
  return app.request(path, {
    method,
    headers: {
      Authorization: `Bearer ${key}`,
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

describe('createServerApp', () => {
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
      '/v1/export',
      '/v1/import',
      '/v1/jobs/{id}',
      '/v1/memories',
      '/v1/memories/{id}',
      '/v1/memories/{id}/history',
      '/v1/reset',
      '/v1/search',
    ]);
    expect(document.paths['/v1/memories']!.post!.security).toEqual([
      { bearerAuth: [] },
      { apiKeyHeader: [] },
    ]);
    expect(Object.keys(document.components.securitySchemes)).toEqual([
      'bearerAuth',
      'apiKeyHeader',
    ]);
    expect(document.components.schemas).toHaveProperty('AddRequest');
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

  it('maps validation failures to 400 with the field named', async () => {
    const answer = await call('/v1/search', { method: 'POST', body: { query: '', userId: 'u' } });
    expect(answer.status).toBe(400);
    const body = (await answer.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('invalid_argument');
    expect(body.error.message).toContain('query');
  });

  it('fails readiness while shutting down', async () => {
    expect((await app.request('/readyz')).status).toBe(200);
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
