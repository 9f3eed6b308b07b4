import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type FakeOpenAIServer, startFakeOpenAI } from '@engram/fake-openai';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiKeyStorePath, openApiKeyStore } from './api-keys.js';
import { type AppContext, runAdd } from './app-context.js';
import { createMemoryJobQueue } from './job-queue.js';
import { createServerMetrics } from './metrics.js';
import { createProjectMemories } from './project-memories.js';
import { createRateLimiter } from './rate-limiter.js';
import { createServerApp } from './server-app.js';
import { loadServerConfig } from './server-config.js';

let directory: string;
let upstream: FakeOpenAIServer;
let context: AppContext;
let app: ReturnType<typeof createServerApp>;
let key: string;
const logLines: Array<Record<string, unknown>> = [];

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), 'engram-upstream-'));
  // The provider knows another key: every call is answered 401.
  upstream = await startFakeOpenAI({ apiKey: 'the-right-key' });
  const config = loadServerConfig(
    { dataDir: directory },
    {
      ENGRAM_LLM: 'openai:gpt-4.1-mini',
      ENGRAM_EMBEDDER: 'hash',
      OPENAI_API_KEY: 'a-revoked-key',
      OPENAI_BASE_URL: upstream.url,
    },
  );
  const keys = openApiKeyStore(apiKeyStorePath(directory));
  key = keys.create({ project: 'alpha' }).key;
  const logger = pino(
    { level: 'info' },
    { write: (line: string) => logLines.push(JSON.parse(line) as Record<string, unknown>) },
  );
  const metrics = createServerMetrics();
  context = {
    config,
    keys,
    projects: createProjectMemories(config, metrics),
    jobs: createMemoryJobQueue({ attempts: 3, backoffMs: 1, logger }),
    metrics,
    logger,
    limiter: createRateLimiter(config.rateLimit),
    state: { shuttingDown: false },
  };
  await context.jobs.startWorkers(1, (data) => runAdd(context, data, 'async'));
  app = createServerApp(context);
});

afterAll(async () => {
  await context.jobs.close(0);
  await context.projects.close();
  context.keys.close();
  await upstream.close();
  rmSync(directory, { recursive: true, force: true });
});

describe('an async add whose LLM answers 401', () => {
  it('fails after one call, logged with job id, project, attempt and error', async () => {
    const accepted = await app.request('/v1/memories', {
      method: 'POST',
      headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ messages: 'I like green tea', userId: 'alice', async: true }),
    });
    expect(accepted.status).toBe(202);
    const { jobId } = (await accepted.json()) as { jobId: string };
    let job: { status: string; attempts: number; error?: { code: string } } | undefined;
    for (let poll = 0; poll < 200; poll++) {
      job = (await (
        await app.request(`/v1/jobs/${jobId}`, { headers: { Authorization: `Bearer ${key}` } })
      ).json()) as typeof job;
      if (job?.status === 'failed' || job?.status === 'completed') break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(job).toMatchObject({ status: 'failed', attempts: 1, error: { code: 'adapter_call' } });
    expect(
      upstream.requests.filter((request) => request.path.endsWith('/chat/completions')),
    ).toHaveLength(1);
    const failures = logLines.filter((line) => String(line.msg).startsWith('job '));
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({
      level: 50,
      jobId,
      project: 'alpha',
      attempt: 1,
      error: { code: 'adapter_call', message: expect.stringContaining('401') },
    });
  });
});
