import { extractionSchemaName } from '@engram/core';
import { type FakeChatRequest, type FakeOpenAIServer, startFakeOpenAI } from '@engram/fake-openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type EngramProcess,
  eventually,
  startEngramServer,
  startTestRedis,
  withQueueProject,
} from './service-harness.js';

/** Extraction: the text after "remember:" is the fact. Reconciliation: a stored fact is kept. */
function chat(request: FakeChatRequest): unknown {
  const format = request.responseFormat as { json_schema?: { name?: string } } | undefined;
  const content = String(request.messages.at(-1)?.content ?? '');
  if (format?.json_schema?.name === extractionSchemaName) {
    return { facts: [/remember: (.*)$/m.exec(content)?.[1] ?? 'nothing'] };
  }
  const [, existing, facts] = /^Existing memories:\n(.*)\n\nNew facts:\n(.*)$/s.exec(content) ?? [];
  const stored = JSON.parse(existing ?? '[]') as { id: string; text: string }[];
  return {
    memory: (JSON.parse(facts ?? '[]') as string[]).map((fact) => {
      const same = stored.find((memory) => memory.text === fact);
      return same ? { event: 'NONE', id: same.id, text: '' } : { event: 'ADD', id: '', text: fact };
    }),
  };
}

let fake: FakeOpenAIServer;

beforeAll(async () => {
  fake = await startFakeOpenAI({ chat, latencyMs: 300 });
});

afterAll(async () => {
  await fake?.close();
});

describe('several engram workers on Redis', () => {
  it('store a fact once when they process adds of it for one user at the same time', async () => {
    const redisUrl = startTestRedis();
    const workers: EngramProcess[] = [];
    // The store's own lock is off, so the Redis lock is what keeps the workers apart.
    const configLines = [
      'vectorStore:',
      '  provider: sqlite',
      '  options:',
      '    scopeLock: false',
    ];
    await withQueueProject({ configLines }, async ({ path, key, config, startWorker }) => {
      const env = {
        ENGRAM_LLM: 'openai:gpt-4.1-mini',
        ENGRAM_EMBEDDER: 'hash',
        OPENAI_API_KEY: 'sk-test',
        OPENAI_BASE_URL: fake.url,
        REDIS_URL: redisUrl,
        ENGRAM_INPROCESS_WORKERS: '0',
      };
      const server = await startEngramServer(path, { env, args: ['--config', config] });
      try {
        for (let index = 0; index < 3; index++) workers.push(await startWorker(env));
        const add = async (fact: string) => {
          const accepted = await server.request('/v1/memories', {
            method: 'POST',
            key,
            body: { messages: `please remember: ${fact}`, userId: 'alice', async: true },
          });
          expect(accepted.status).toBe(202);
          return (accepted.body as { statusUrl: string }).statusUrl;
        };
        const completed = (statusUrl: string) =>
          eventually(
            async () => {
              const job = (await server.request(statusUrl, { key })).body as { status: string };
              if (job.status === 'failed') throw new Error(JSON.stringify(job));
              return job.status === 'completed' ? job : undefined;
            },
            { timeoutMs: 45_000, intervalMs: 200 },
          );
        // With a memory already there, each add asks the model to reconcile before it writes.
        await completed(await add('Lives in Oslo'));
        const jobs = await Promise.all(Array.from({ length: 6 }, () => add('Likes green tea')));
        await Promise.all(jobs.map(completed));
        const list = await server.request('/v1/memories?userId=alice', { key });
        expect(
          (list.body as { results: Array<{ memory: string }> }).results
            .map((item) => item.memory)
            .sort(),
        ).toEqual(['Likes green tea', 'Lives in Oslo']);
        for (const worker of workers) {
          const logged = await worker.waitForLog((line) => line.msg === 'configuration');
          expect(logged.scopeLock).toBe('redis');
        }
      } finally {
        for (const worker of workers) await worker.stop();
        await server.stop();
      }
    });
  });
});
