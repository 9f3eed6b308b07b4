import { extractionSchemaName } from '@engram/core';
import { type FakeChatRequest, type FakeOpenAIServer, startFakeOpenAI } from '@engram/fake-openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createKey,
  eventually,
  spawnEngram,
  startEngramServer,
  startTestRedis,
  temporaryDataDir,
  withQueueProject,
} from './service-harness.js';

function lastUserText(request: FakeChatRequest): string {
  const last = [...request.messages].reverse().find((message) => message.role === 'user');
  return typeof last?.content === 'string' ? last.content : '';
}

// Extraction answers one fact per add; reconciliation adds it.
function chat(request: FakeChatRequest): unknown {
  const format = request.responseFormat as { json_schema?: { name?: string } } | undefined;
  if (format?.json_schema?.name === extractionSchemaName) {
    const text = lastUserText(request);
    const fact = /remember: (.*)$/m.exec(text)?.[1] ?? 'Likes tea';
    return { facts: [fact] };
  }
  const fact = /"(Likes [^"]*)"/.exec(JSON.stringify(request.messages))?.[1] ?? 'Likes tea';
  return { memory: [{ event: 'ADD', text: fact }] };
}

let fake: FakeOpenAIServer;

beforeAll(async () => {
  fake = await startFakeOpenAI({ chat, latencyMs: 1500 });
});

afterAll(async () => {
  await fake?.close();
});

function llmEnvironment(): NodeJS.ProcessEnv {
  return {
    ENGRAM_LLM: 'openai:gpt-4.1-mini',
    ENGRAM_EMBEDDER: 'hash',
    OPENAI_API_KEY: 'sk-test',
    OPENAI_BASE_URL: fake.url,
  };
}

describe('engram serve: graceful shutdown', () => {
  it('finishes a request in flight on SIGTERM, then refuses connections and exits 0', async () => {
    const directory = await temporaryDataDir();
    try {
      const { key } = createKey(directory.path, 'alpha');
      const server = await startEngramServer(directory.path, { env: llmEnvironment() });
      const inFlight = server.request('/v1/memories', {
        method: 'POST',
        key,
        body: { messages: 'please remember: Likes green tea', userId: 'alice' },
      });
      await eventually(async () => (fake.requests.length > 0 ? true : undefined));
      server.child.kill('SIGTERM');
      const answer = await inFlight;
      expect(answer.status).toBe(200);
      expect((answer.body as { results: Array<{ event: string }> }).results[0]?.event).toBe('ADD');
      expect(await server.exited).toBe(0);
      await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
      expect(server.logs.some((line) => line.msg === 'stopped')).toBe(true);

      const metricsToken = 'metrics-token-after-restart';
      const metricsAfter = await startEngramServer(directory.path, {
        env: { ...llmEnvironment(), ENGRAM_METRICS_TOKEN: metricsToken },
      });
      try {
        const metrics = await metricsAfter.request('/metrics', { key: metricsToken });
        expect(metrics.status).toBe(200);
      } finally {
        await metricsAfter.stop();
      }
    } finally {
      await directory.dispose();
    }
  });
});

describe('async ingestion on Redis (BullMQ)', () => {
  it('a job survives a killed worker: another worker completes it', async () => {
    const redisUrl = startTestRedis();
    await withQueueProject({ queueLines: ['backoffMs: 200'] }, async ({ path, key, config }) => {
      const env = {
        ...llmEnvironment(),
        REDIS_URL: redisUrl,
        ENGRAM_INPROCESS_WORKERS: '0',
        ENGRAM_JOB_LOCK_MS: '2000',
      };
      const server = await startEngramServer(path, { env, args: ['--config', config] });
      const workerArgs = ['--data-dir', path, 'worker', '--config', config];
      try {
        const ready = await server.request('/readyz');
        expect(ready.body).toMatchObject({ checks: { queue: 'ok' } });

        const accepted = await server.request('/v1/memories', {
          method: 'POST',
          key,
          body: { messages: 'please remember: Likes oolong', userId: 'bob', async: true },
        });
        expect(accepted.status).toBe(202);
        const { statusUrl } = accepted.body as { statusUrl: string };
        expect((await server.request(statusUrl, { key })).body).toMatchObject({ status: 'queued' });

        fake.requests.length = 0;
        const first = spawnEngram(workerArgs, env);
        await first.waitForLog((line) => line.msg === 'worker started');
        await eventually(async () => {
          const job = (await server.request(statusUrl, { key })).body as { status: string };
          return job.status === 'running' && fake.requests.length > 0 ? true : undefined;
        });
        first.child.kill('SIGKILL');
        expect(await first.exited).toBe(null);

        const second = spawnEngram(workerArgs, env);
        try {
          const job = await eventually(
            async () => {
              const body = (await server.request(statusUrl, { key })).body as {
                status: string;
                result?: { results: Array<{ event: string; memory: string }> };
              };
              return body.status === 'completed' ? body : undefined;
            },
            { timeoutMs: 45_000, intervalMs: 300 },
          );
          expect(job.result?.results).toEqual([
            expect.objectContaining({ event: 'ADD', memory: 'Likes oolong' }),
          ]);
          const list = await server.request('/v1/memories?userId=bob', { key });
          expect(
            (list.body as { results: Array<{ memory: string }> }).results.map(
              (item) => item.memory,
            ),
          ).toEqual(['Likes oolong']);
        } finally {
          expect(await second.stop()).toBe(0);
        }
      } finally {
        await server.stop();
      }
    });
  });

  it('a worker gives up at once on a 401 from the model, and logs the job with its error', async () => {
    const redisUrl = startTestRedis();
    // The provider knows another key: every call is answered 401.
    const refusing = await startFakeOpenAI({ apiKey: 'the-right-key' });
    const queueLines = ['backoffMs: 100', 'attempts: 3'];
    try {
      await withQueueProject({ queueLines }, async ({ path, key, config, startWorker }) => {
        const env = {
          ...llmEnvironment(),
          OPENAI_BASE_URL: refusing.url,
          OPENAI_API_KEY: 'a-revoked-key',
          REDIS_URL: redisUrl,
          ENGRAM_INPROCESS_WORKERS: '0',
        };
        const server = await startEngramServer(path, { env, args: ['--config', config] });
        try {
          const worker = await startWorker(env);
          try {
            const accepted = await server.request('/v1/memories', {
              method: 'POST',
              key,
              body: { messages: 'please remember: Likes rooibos', userId: 'bob', async: true },
            });
            const { jobId, statusUrl } = accepted.body as { jobId: string; statusUrl: string };
            const job = await eventually(async () => {
              const body = (await server.request(statusUrl, { key })).body as { status: string };
              return body.status === 'failed' ? body : undefined;
            });
            expect(job).toMatchObject({ status: 'failed', attempts: 1 });
            const given = await worker.waitForLog((line) => line.msg === 'job failed: given up');
            expect(given).toMatchObject({
              jobId,
              project: 'alpha',
              attempt: 1,
              attempts: 3,
              permanent: true,
              error: { code: 'adapter_call', message: expect.stringContaining('401') },
            });
            expect(
              refusing.requests.filter((request) => request.path.endsWith('/chat/completions')),
            ).toHaveLength(1);
            expect(worker.logs.filter((line) => String(line.msg).startsWith('job '))).toHaveLength(
              1,
            );
          } finally {
            expect(await worker.stop()).toBe(0);
          }
        } finally {
          await server.stop();
        }
      });
    } finally {
      await refusing.close();
    }
  });

  it('engram worker refuses to start without REDIS_URL', async () => {
    const worker = spawnEngram(['worker']);
    expect(await worker.exited).toBe(1);
    expect(worker.output()).toContain('REDIS_URL');
  });
});
