import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiKeyStorePath, openApiKeyStore } from './api-keys.js';
import type { AppContext } from './app-context.js';
import { createMemoryJobQueue } from './job-queue.js';
import type { MaintenanceRun } from './maintenance-runs.js';
import { createServerMetrics } from './metrics.js';
import { createProjectMemories } from './project-memories.js';
import { createRateLimiter } from './rate-limiter.js';
import { createServerApp } from './server-app.js';
import { loadServerConfig } from './server-config.js';

// The local model when the test has it (CI does), else a hash embedder of another length.
const newEmbedder = process.env.ENGRAM_MODELS_DIR ? 'local' : 'hash:64';

let directory: string;
let context: AppContext;
let app: ReturnType<typeof createServerApp>;
const keys: Record<'read' | 'write' | 'admin', string> = { read: '', write: '', admin: '' };

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), 'engram-maintenance-routes-'));
  const config = loadServerConfig(
    { dataDir: directory },
    {
      ENGRAM_LLM: 'none',
      ENGRAM_EMBEDDER: 'hash',
      ENGRAM_MODELS_DIR: process.env.ENGRAM_MODELS_DIR,
    },
  );
  const keyStore = openApiKeyStore(apiKeyStorePath(directory));
  for (const access of ['read', 'write', 'admin'] as const) {
    keys[access] = keyStore.create({ project: 'alpha', access }).key;
  }
  const metrics = createServerMetrics();
  context = {
    config,
    keys: keyStore,
    projects: createProjectMemories(config, metrics),
    jobs: createMemoryJobQueue({ attempts: 1, backoffMs: 1 }),
    metrics,
    logger: pino({ level: 'silent' }),
    limiter: createRateLimiter({ ...config.rateLimit, requestsPerSecond: 10_000, burst: 10_000 }),
    state: { shuttingDown: false },
  };
  app = createServerApp(context);
  const memory = await context.projects.memory('alpha');
  await memory.import(
    Array.from({ length: 40 }, (_, index) => ({
      userId: 'u',
      text: `note ${index} about the garden`,
    })),
  );
});

afterAll(async () => {
  await context.projects.close();
  context.keys.close();
  rmSync(directory, { recursive: true, force: true });
});

async function call(path: string, key: string, body?: unknown) {
  const response = await app.request(path, {
    method: body === undefined ? 'GET' : 'POST',
    headers: {
      Authorization: `Bearer ${key}`,
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as MaintenanceRun };
}

async function finished(id: string): Promise<MaintenanceRun> {
  for (;;) {
    const { body } = await call(`/v1/admin/jobs/${id}`, keys.admin);
    if (body.state !== 'running') return body;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function writeRun(run: Partial<MaintenanceRun> & { id: string; runner: string }) {
  const runs = join(directory, 'maintenance', 'runs');
  mkdirSync(runs, { recursive: true });
  const now = new Date().toISOString();
  writeFileSync(
    join(runs, `${run.id}.json`),
    JSON.stringify({
      job: 'reembed',
      project: 'alpha',
      state: 'running',
      done: 3,
      settings: {},
      messages: [],
      startedAt: now,
      updatedAt: now,
      ...run,
    }),
  );
}

describe('POST /v1/admin/reembed', () => {
  it('needs admin access, for starting and for reading progress', async () => {
    for (const key of [keys.read, keys.write]) {
      const refused = await call('/v1/admin/reembed', key, { embedder: newEmbedder });
      expect(refused.status).toBe(403);
      expect(JSON.stringify(refused.body)).toContain('needs admin');
      expect((await call('/v1/admin/jobs/anything', key)).status).toBe(403);
    }
    expect((await call('/v1/admin/jobs/nothing-here', keys.admin)).status).toBe(404);
  });

  it('answers 409 with the run under way in another process, and shows a dead one as interrupted', async () => {
    writeRun({ id: 'other-process', runner: `${hostname()}:${process.ppid}` });
    const busy = await call('/v1/admin/reembed', keys.admin, { embedder: newEmbedder });
    expect(busy.status).toBe(409);
    expect(busy.body).toMatchObject({ id: 'other-process', state: 'running' });
    const gone = spawnSync(process.execPath, ['-e', '']).pid;
    writeRun({ id: 'other-process', runner: `${hostname()}:${gone}` });
    const interrupted = await call('/v1/admin/jobs/other-process', keys.admin);
    expect(interrupted.body.state).toBe('interrupted');
  });

  it("re-embeds the project's memories in the background, reads answering meanwhile", async () => {
    const started = await call('/v1/admin/reembed', keys.admin, {
      embedder: newEmbedder,
      batchSize: 8,
    });
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({ job: 'reembed', project: 'alpha', state: 'running' });
    const listed = await app.request('/v1/memories?userId=u&limit=100', {
      headers: { Authorization: `Bearer ${keys.read}` },
    });
    expect(listed.status).toBe(200);
    const run = await finished(started.body.id);
    expect(run, JSON.stringify(run.error)).toMatchObject({
      state: 'completed',
      done: 40,
      total: 40,
    });
    const records = JSON.parse(readFileSync(join(directory, 'embedders.json'), 'utf8'));
    expect(records.collections.p_alpha.name).toBe(newEmbedder);
    expect(records.reembedding?.p_alpha).toBeUndefined();
    const memory = await context.projects.memory('alpha');
    expect((await memory.list({ userId: 'u', limit: 100 })).results).toHaveLength(40);

    // Recorded with that embedder now: a second run has nothing to do.
    const again = await call('/v1/admin/reembed', keys.admin, { embedder: newEmbedder });
    expect(again.status).toBe(202);
    expect(await finished(again.body.id)).toMatchObject({ state: 'completed', done: 0 });
  });
});
