import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createKey,
  type EngramServer,
  runKeys,
  spawnEngram,
  startEngramServer,
  temporaryDataDir,
} from './service-harness.js';

interface Item {
  id: string;
  memory: string;
  userId?: string;
  metadata: Record<string, unknown>;
}

let dataDir: { path: string; dispose(): Promise<void> };
let server: EngramServer;
let alpha: { id: string; key: string };
let beta: { id: string; key: string };
const metricsToken = 'metrics-token-for-the-service-test';

beforeAll(async () => {
  dataDir = await temporaryDataDir();
  alpha = createKey(dataDir.path, 'alpha');
  beta = createKey(dataDir.path, 'beta');
  server = await startEngramServer(dataDir.path, {
    env: { ENGRAM_METRICS_TOKEN: metricsToken, ENGRAM_METRICS_PORT: '0' },
  });
});

afterAll(async () => {
  await server?.stop();
  await dataDir?.dispose();
});

describe('engram serve: the /v1 API', () => {
  it('adds, searches, gets, updates, shows history and deletes a memory', async () => {
    const added = await server.request('/v1/memories', {
      method: 'POST',
      key: alpha.key,
      body: {
        messages: 'I am vegetarian and allergic to peanuts',
        userId: 'alice',
        metadata: { topic: 'food' },
      },
    });
    expect(added.status).toBe(200);
    const [change] = (added.body as { results: Array<{ id: string; event: string }> }).results;
    expect(change!.event).toBe('ADD');
    const id = change!.id;

    const search = await server.request('/v1/search', {
      method: 'POST',
      key: alpha.key,
      body: {
        query: 'what does alice eat?',
        userId: 'alice',
        limit: 3,
        filters: { topic: 'food' },
      },
    });
    expect(search.status).toBe(200);
    const results = (search.body as { results: Array<Item & { score: number }> }).results;
    expect(results[0]!.id).toBe(id);
    expect(typeof results[0]!.score).toBe('number');

    const got = await server.request(`/v1/memories/${id}`, { key: alpha.key });
    expect(got.status).toBe(200);
    expect((got.body as Item).memory).toBe('I am vegetarian and allergic to peanuts');

    const updated = await server.request(`/v1/memories/${id}`, {
      method: 'PATCH',
      key: alpha.key,
      body: { text: 'Vegetarian, allergic to peanuts and shellfish', metadata: { checked: true } },
    });
    expect(updated.status).toBe(200);
    expect((updated.body as Item).metadata).toEqual({ topic: 'food', checked: true });

    const history = await server.request(`/v1/memories/${id}/history`, { key: alpha.key });
    expect(history.status).toBe(200);
    expect(
      (history.body as { results: Array<{ event: string }> }).results.map((event) => event.event),
    ).toEqual(['ADD', 'UPDATE']);

    const deleted = await server.request(`/v1/memories/${id}`, {
      method: 'DELETE',
      key: alpha.key,
    });
    expect(deleted.status).toBe(200);
    expect(deleted.body).toEqual({ id, deleted: true });
    expect((await server.request(`/v1/memories/${id}`, { key: alpha.key })).status).toBe(404);
  });

  it('lists with a cursor, exports as JSONL and JSON pages, imports, and deletes a scope', async () => {
    const imported = await server.request('/v1/import', {
      method: 'POST',
      key: alpha.key,
      body: {
        items: Array.from({ length: 5 }, (_, index) => ({
          text: `fact number ${index}`,
          userId: 'lister',
        })),
      },
    });
    expect(imported.status).toBe(200);
    expect((imported.body as { results: unknown[] }).results).toHaveLength(5);

    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await server.request(
        `/v1/memories?userId=lister&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        { key: alpha.key },
      );
      expect(page.status).toBe(200);
      const body = page.body as { results: Item[]; nextCursor?: string };
      expect(body.results.length).toBeLessThanOrEqual(2);
      seen.push(...body.results.map((item) => item.id));
      cursor = body.nextCursor;
    } while (cursor);
    expect(new Set(seen).size).toBe(5);

    const jsonl = await server.request('/v1/export?userId=lister', { key: alpha.key });
    expect(jsonl.status).toBe(200);
    expect(jsonl.headers.get('content-type')).toContain('application/x-ndjson');
    const lines = jsonl.text
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Item);
    expect(lines).toHaveLength(5);

    const page = await server.request('/v1/export?userId=lister&format=json&limit=3', {
      key: alpha.key,
    });
    expect((page.body as { results: Item[]; nextCursor?: string }).results).toHaveLength(3);
    expect((page.body as { nextCursor?: string }).nextCursor).toBeTruthy();

    const cleared = await server.request('/v1/memories?userId=lister', {
      method: 'DELETE',
      key: alpha.key,
    });
    expect(cleared.body).toEqual({ deleted: 5 });
    const empty = await server.request('/v1/memories?userId=lister', { key: alpha.key });
    expect((empty.body as { results: Item[] }).results).toEqual([]);
  });

  it('runs an async add as a job and reports it', async () => {
    const accepted = await server.request('/v1/memories', {
      method: 'POST',
      key: alpha.key,
      body: { messages: 'I live in Lisbon', userId: 'jobber', async: true },
    });
    expect(accepted.status).toBe(202);
    const { jobId, statusUrl } = accepted.body as { jobId: string; statusUrl: string };
    let job: { status: string; result?: { results: unknown[] } } | undefined;
    for (let attempt = 0; attempt < 50; attempt++) {
      job = (await server.request(statusUrl, { key: alpha.key })).body as typeof job;
      if (job?.status === 'completed') break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(job?.status).toBe('completed');
    expect(job?.result?.results).toHaveLength(1);
    expect((await server.request(`/v1/jobs/${jobId}`, { key: beta.key })).status).toBe(404);
  });
});

describe('engram serve: mem0-compatible routes', () => {
  it('accepts mem0 shapes with snake_case fields', async () => {
    const added = await server.request('/memories', {
      method: 'POST',
      key: alpha.key,
      body: {
        messages: [{ role: 'user', content: 'My favourite colour is green' }],
        user_id: 'mem0user',
        metadata: { source: 'chat' },
      },
    });
    expect(added.status).toBe(200);
    const id = (added.body as { results: Array<{ id: string }> }).results[0]!.id;

    const list = await server.request('/memories?user_id=mem0user', { key: alpha.key });
    const items = (list.body as { results: Array<Record<string, unknown>> }).results;
    expect(items[0]).toMatchObject({ id, user_id: 'mem0user', metadata: { source: 'chat' } });
    expect(items[0]).toHaveProperty('created_at');

    const search = await server.request('/search', {
      method: 'POST',
      key: alpha.key,
      body: { query: 'favourite colour', user_id: 'mem0user' },
    });
    expect((search.body as { results: Array<{ id: string; score: number }> }).results[0]!.id).toBe(
      id,
    );

    const one = await server.request(`/memories/${id}`, { key: alpha.key });
    expect((one.body as { memory: string }).memory).toBe('My favourite colour is green');

    const put = await server.request(`/memories/${id}`, {
      method: 'PUT',
      key: alpha.key,
      body: { data: 'My favourite colour is blue' },
    });
    expect(put.status).toBe(200);
    const history = await server.request(`/memories/${id}/history`, { key: alpha.key });
    expect(history.body).toMatchObject([
      { memory_id: id, event: 'ADD', old_memory: null, new_memory: 'My favourite colour is green' },
      { event: 'UPDATE', new_memory: 'My favourite colour is blue' },
    ]);

    expect(
      (await server.request(`/memories/${id}`, { method: 'DELETE', key: alpha.key })).status,
    ).toBe(200);
    await server.request('/memories', {
      method: 'POST',
      key: alpha.key,
      body: { messages: [{ role: 'user', content: 'one more' }], user_id: 'mem0user' },
    });
    const cleared = await server.request('/memories?user_id=mem0user', {
      method: 'DELETE',
      key: alpha.key,
    });
    expect(cleared.body).toEqual({ message: 'All relevant memories deleted' });
  });
});

describe('engram serve: auth, tenancy and errors', () => {
  it('answers 401 without a key, with a wrong key, and with a revoked key', async () => {
    const none = await server.request('/v1/memories?userId=alice');
    expect(none.status).toBe(401);
    expect(none.body).toMatchObject({ error: { code: 'unauthorized' } });
    expect(none.headers.get('www-authenticate')).toContain('Bearer');

    const wrong = await server.request('/v1/memories?userId=alice', {
      key: `${alpha.key.slice(0, -4)}AAAA`,
    });
    expect(wrong.status).toBe(401);

    const temporary = createKey(dataDir.path, 'alpha');
    expect((await server.request('/v1/memories?userId=x', { key: temporary.key })).status).toBe(
      200,
    );
    expect(runKeys(dataDir.path, ['keys', 'revoke', temporary.id]).code).toBe(0);
    expect((await server.request('/v1/memories?userId=x', { key: temporary.key })).status).toBe(
      401,
    );

    const listed = runKeys(dataDir.path, ['--json', 'keys', 'list']);
    const keys = (JSON.parse(listed.stdout) as { results: Array<Record<string, unknown>> }).results;
    expect(keys.find((key) => key.id === temporary.id)?.revokedAt).toBeTruthy();
    expect(listed.stdout).not.toContain(temporary.key);

    const viaHeader = await server.request('/v1/memories?userId=alice', {
      headers: { 'X-API-Key': alpha.key },
    });
    expect(viaHeader.status).toBe(200);
  });

  it("never shows one project another project's memories", async () => {
    const added = await server.request('/v1/memories', {
      method: 'POST',
      key: alpha.key,
      body: { messages: 'alpha secret', userId: 'shared-user' },
    });
    const id = (added.body as { results: Array<{ id: string }> }).results[0]!.id;

    for (const [method, path, body] of [
      ['GET', `/v1/memories/${id}`],
      ['PATCH', `/v1/memories/${id}`, { text: 'stolen' }],
      ['DELETE', `/v1/memories/${id}`],
      ['GET', `/v1/memories/${id}/history`],
      ['GET', `/memories/${id}`],
      ['PUT', `/memories/${id}`, { text: 'stolen' }],
      ['DELETE', `/memories/${id}`],
      ['GET', `/memories/${id}/history`],
    ] as const) {
      const answer = await server.request(path, {
        method,
        key: beta.key,
        ...(body ? { body } : {}),
      });
      expect(answer.status, `${method} ${path}`).toBe(404);
      expect(answer.body).toMatchObject({ error: { code: 'not_found' } });
    }
    const list = await server.request('/v1/memories?userId=shared-user', { key: beta.key });
    expect((list.body as { results: unknown[] }).results).toEqual([]);
    const search = await server.request('/v1/search', {
      method: 'POST',
      key: beta.key,
      body: { query: 'secret', userId: 'shared-user' },
    });
    expect((search.body as { results: unknown[] }).results).toEqual([]);
    const cleared = await server.request('/v1/memories?userId=shared-user', {
      method: 'DELETE',
      key: beta.key,
    });
    expect(cleared.body).toEqual({ deleted: 0 });
    expect((await server.request(`/v1/memories/${id}`, { key: alpha.key })).status).toBe(200);
  });

  it('answers bad input with 400, 404, 413 and 422 in one error shape, never 500', async () => {
    const cases: Array<[string, string, unknown, number, string]> = [
      ['POST', '/v1/memories', '{"messages": ', 400, 'invalid_argument'],
      ['POST', '/v1/memories', { messages: 'no scope' }, 400, 'invalid_argument'],
      ['POST', '/v1/memories', { messages: [], userId: 'a' }, 400, 'invalid_argument'],
      [
        'POST',
        '/v1/memories',
        { messages: 'x', userId: 'a', metadata: [1] },
        400,
        'invalid_argument',
      ],
      [
        'POST',
        '/v1/search',
        { query: 'x', userId: 'a', filters: { score: { nope: 1 } } },
        400,
        'invalid_argument',
      ],
      ['POST', '/v1/search', { query: 'x', userId: 'a', limit: 5000 }, 400, 'invalid_argument'],
      ['GET', '/v1/memories?userId=a&cursor=garbage', undefined, 400, 'invalid_argument'],
      ['GET', '/v1/memories?userId=a&limit=abc', undefined, 400, 'invalid_argument'],
      ['PATCH', '/v1/memories/some-id', {}, 400, 'invalid_argument'],
      ['GET', '/v1/nothing-here', undefined, 404, 'not_found'],
      [
        'POST',
        '/v1/memories',
        { messages: 'x'.repeat(1_100_000), userId: 'a' },
        413,
        'payload_too_large',
      ],
    ];
    for (const [method, path, body, status, code] of cases) {
      const answer = await server.request(path, {
        method,
        key: alpha.key,
        ...(body === undefined ? {} : { body }),
      });
      expect(answer.status, `${method} ${path} ${JSON.stringify(body)?.slice(0, 80)}`).toBe(status);
      expect(answer.body).toMatchObject({ error: { code } });
      expect(typeof (answer.body as { error: { message: string } }).error.message).toBe('string');
    }
  });

  it('echoes request ids and never logs API keys', async () => {
    const answer = await server.request('/v1/memories?userId=alice', {
      key: alpha.key,
      headers: { 'X-Request-Id': 'trace-123' },
    });
    expect(answer.headers.get('x-request-id')).toBe('trace-123');
    await server.waitForLog((line) => line.requestId === 'trace-123' && line.msg === 'request');
    expect(server.output()).not.toContain(alpha.key);
    expect(server.output()).not.toContain(beta.key);
  });
});

describe('engram serve: operations', () => {
  it('serves health, readiness, the OpenAPI document and metrics after traffic', async () => {
    expect((await server.request('/healthz')).body).toEqual({ status: 'ok' });
    const ready = await server.request('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({ status: 'ready' });

    const openapi = (await server.request('/openapi.json')).body as {
      openapi: string;
      paths: Record<string, unknown>;
    };
    expect(openapi.openapi).toBe('3.1.0');
    for (const path of [
      '/v1/memories',
      '/v1/search',
      '/v1/memories/{id}',
      '/v1/export',
      '/v1/jobs/{id}',
      '/memories',
      '/search',
    ]) {
      expect(openapi.paths, path).toHaveProperty([path]);
    }

    expect((await server.request('/metrics')).status).toBe(401);
    expect((await server.request('/metrics', { key: alpha.key })).status).toBe(401);
    const metrics = await server.request('/metrics', { key: metricsToken });
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toContain('text/plain');
    for (const name of [
      'engram_add_latency_seconds',
      'engram_search_latency_seconds',
      'engram_embedding_latency_seconds',
      'engram_llm_latency_seconds',
      'engram_requests_total',
      'engram_memories_added_total',
      'engram_searches_total',
      'engram_llm_tokens_used_total',
      'engram_llm_api_errors_total',
      'engram_vector_count',
    ]) {
      expect(metrics.text, name).toContain(`# TYPE ${name} `);
    }
    expect(metrics.text).toMatch(/engram_searches_total [1-9]/);
    // Totals only: a scrape does not tell which projects exist.
    expect(metrics.text).toMatch(/engram_vector_count \d+/);
    expect(metrics.text).not.toContain('alpha');
    expect(metrics.text).toMatch(
      /engram_requests_total\{method="POST",route="\/v1\/search",status="200"\} \d+/,
    );

    // The metrics port answers /metrics (with the token, as it is set) and nothing else.
    const listening = await server.waitForLog((line) => line.msg === 'metrics listening');
    const metricsUrl = `http://127.0.0.1:${listening.port as number}`;
    expect((await fetch(`${metricsUrl}/metrics`)).status).toBe(401);
    const scraped = await fetch(`${metricsUrl}/metrics`, {
      headers: { Authorization: `Bearer ${metricsToken}` },
    });
    expect(scraped.status).toBe(200);
    expect(await scraped.text()).toContain('# TYPE engram_searches_total counter');
    expect((await fetch(`${metricsUrl}/v1/memories`)).status).toBe(404);
  });

  it('exposes add, search, list and delete as MCP tools scoped by the key', async () => {
    const call = async (key: string, id: number, method: string, params: unknown) => {
      const answer = await server.request('/mcp', {
        method: 'POST',
        key,
        headers: { Accept: 'application/json, text/event-stream' },
        body: { jsonrpc: '2.0', id, method, params },
      });
      expect(answer.status).toBe(200);
      return answer.body as {
        result: {
          tools?: Array<{ name: string }>;
          content?: Array<{ text: string }>;
          isError?: boolean;
        };
      };
    };
    const initialized = await call(alpha.key, 1, 'initialize', {
      protocolVersion: '2025-06-18',
      capabilities: {},
      clientInfo: { name: 'test', version: '1' },
    });
    expect(initialized.result).toBeDefined();
    const tools = await call(alpha.key, 2, 'tools/list', {});
    expect(tools.result.tools!.map((tool) => tool.name).sort()).toEqual([
      'add_memory',
      'delete_memory',
      'list_memories',
      'search_memories',
    ]);
    const added = await call(alpha.key, 3, 'tools/call', {
      name: 'add_memory',
      arguments: { text: 'Prefers window seats', user_id: 'mcp-user' },
    });
    const id = (JSON.parse(added.result.content![0]!.text) as { results: Array<{ id: string }> })
      .results[0]!.id;
    const found = await call(alpha.key, 4, 'tools/call', {
      name: 'search_memories',
      arguments: { query: 'seat preference', user_id: 'mcp-user' },
    });
    expect(found.result.content![0]!.text).toContain(id);
    const otherProject = await call(beta.key, 5, 'tools/call', {
      name: 'list_memories',
      arguments: { user_id: 'mcp-user' },
    });
    expect(JSON.parse(otherProject.result.content![0]!.text)).toEqual({ results: [] });
    const deniedDelete = await call(beta.key, 6, 'tools/call', {
      name: 'delete_memory',
      arguments: { id, user_id: 'mcp-user' },
    });
    expect(deniedDelete.result.isError).toBe(true);
    // Another user's id answers exactly as a missing id does.
    const otherUser = await call(alpha.key, 8, 'tools/call', {
      name: 'delete_memory',
      arguments: { id, user_id: 'someone-else' },
    });
    const missing = await call(alpha.key, 9, 'tools/call', {
      name: 'delete_memory',
      arguments: { id: 'no-such-id', user_id: 'someone-else' },
    });
    expect(otherUser.result.isError).toBe(true);
    expect(otherUser.result.content![0]!.text.replace(id, 'no-such-id')).toBe(
      missing.result.content![0]!.text,
    );
    const deleted = await call(alpha.key, 7, 'tools/call', {
      name: 'delete_memory',
      arguments: { id, user_id: 'mcp-user' },
    });
    expect(deleted.result.isError).toBeFalsy();
    expect((await server.request('/mcp', { method: 'POST', body: {} })).status).toBe(401);
  });
});

describe('engram serve: startup', () => {
  it('refuses to start without API keys, and starts with --insecure-local on 127.0.0.1 only', async () => {
    const empty = await temporaryDataDir();
    try {
      const refused = spawnEngram(['--data-dir', empty.path, 'serve', '--port', '0']);
      expect(await refused.exited).toBe(1);
      expect(refused.output()).toContain('No API keys exist');

      const local = await startEngramServer(empty.path, { args: ['--insecure-local'] });
      try {
        const warning = local.logs.find((line) => String(line.msg).includes('INSECURE LOCAL MODE'));
        expect(warning?.level).toBe(40);
        const listening = local.logs.find((line) => line.msg === 'listening');
        expect(listening?.host).toBe('127.0.0.1');
        const added = await local.request('/v1/memories', {
          method: 'POST',
          body: { messages: 'local note', userId: 'me' },
        });
        expect(added.status).toBe(200);
      } finally {
        await local.stop();
      }
    } finally {
      await empty.dispose();
    }
  });

  it('rejects an invalid configuration file with a message naming the field', async () => {
    const directory = await temporaryDataDir();
    try {
      const { writeFile } = await import('node:fs/promises');
      const file = `${directory.path}/engram.yaml`;
      await writeFile(file, 'port: "eighty"\nrateLimit:\n  burst: 0\n');
      createKey(directory.path, 'alpha');
      const refused = spawnEngram(['--data-dir', directory.path, 'serve', '--config', file]);
      expect(await refused.exited).toBe(1);
      expect(refused.output()).toContain('port');
      expect(refused.output()).toContain('rateLimit.burst');
    } finally {
      await directory.dispose();
    }
  });
});

describe('engram serve: rate limits', () => {
  it('answers 429 with Retry-After once a key has used its burst', async () => {
    const directory = await temporaryDataDir();
    const key = createKey(directory.path, 'limited');
    const other = createKey(directory.path, 'limited');
    const limited = await startEngramServer(directory.path, {
      env: { ENGRAM_RATE_LIMIT_RPS: '0.5', ENGRAM_RATE_LIMIT_BURST: '3' },
    });
    try {
      const statuses: number[] = [];
      let retryAfter: string | null = null;
      for (let index = 0; index < 5; index++) {
        const answer = await limited.request('/v1/memories?userId=a', { key: key.key });
        statuses.push(answer.status);
        if (answer.status === 429) {
          retryAfter = answer.headers.get('retry-after');
          expect(answer.body).toMatchObject({ error: { code: 'rate_limited' } });
        }
      }
      expect(statuses.slice(0, 3)).toEqual([200, 200, 200]);
      expect(statuses.slice(3)).toEqual([429, 429]);
      expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
      expect((await limited.request('/v1/memories?userId=a', { key: other.key })).status).toBe(200);
    } finally {
      await limited.stop();
      await directory.dispose();
    }
  });
});
