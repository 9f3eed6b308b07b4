import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import {
  AdapterCallError,
  createHashEmbedder,
  createInMemoryStore,
  InvalidArgumentError,
  Memory,
} from '@engram/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AddJobData, JobInfo, JobQueue } from '../src/job-queue.js';
import { loadServerConfig, type ServerConfig } from '../src/server-config.js';
import { createJobQueue } from '../src/server-runtime.js';
import { eventually, temporaryDataDir } from './service-harness.js';

/** One queue backend under test. */
export interface QueueHarness {
  /** Backend name, in the suite title. */
  name: string;
  /** Where its server came from, in the suite title. */
  server: string;
  /** Environment selecting the backend and naming its server (`ENGRAM_QUEUE`, URLs). */
  environment(): Record<string, string>;
  /** Ids of the jobs in the dead-letter queue of queue `name`. */
  deadLetters(name: string): Promise<string[]>;
}

const child = fileURLToPath(new URL('./queue-consumer-child.mjs', import.meta.url));
const data = (text: string, userId = 'alice'): AddJobData => ({
  project: 'alpha',
  messages: text,
  options: { userId, infer: false },
});

/**
 * The same tests for every queue backend: delivery and ack, retries, dead letters (after the
 * attempts, and at once for a permanent error), redelivery of a job whose consumer process was
 * killed with SIGKILL mid-job, and an add delivered twice storing its facts once.
 */
export function describeJobQueue(harness: QueueHarness): void {
  // Generous: a loaded machine slows every round trip; the checks themselves never time anything.
  describe(`JobQueue ${harness.name} [server: ${harness.server}]`, { timeout: 180_000 }, () => {
    let directory: { path: string; dispose(): Promise<void> };
    const open: JobQueue[] = [];

    beforeAll(async () => {
      directory = await temporaryDataDir();
    });

    afterAll(async () => {
      await Promise.all(open.map((queue) => queue.close(5000)));
      await directory?.dispose();
    });

    function configFor(name: string, attempts = 3): ServerConfig {
      const config = loadServerConfig(
        { dataDir: directory.path },
        { ...harness.environment(), ENGRAM_JOB_LOCK_MS: '2000' },
      );
      return { ...config, queue: { ...config.queue, name, attempts, backoffMs: 50 } };
    }

    function queueFor(name: string, attempts = 3): JobQueue {
      const queue = createJobQueue(configFor(name, attempts));
      open.push(queue);
      return queue;
    }

    async function settled(queue: JobQueue, id: string, timeoutMs = 60_000): Promise<JobInfo> {
      return eventually(
        async () => {
          const job = await queue.get(id, 'alpha');
          return job?.status === 'completed' || job?.status === 'failed' ? job : undefined;
        },
        { timeoutMs, intervalMs: 100 },
      );
    }

    const uniqueName = (label: string) => `engram-test-${label}-${randomUUID().slice(0, 8)}`;

    it('delivers every job once, acknowledged with its result, and reports its state', async () => {
      const queue = queueFor(uniqueName('deliver'));
      const seen: string[] = [];
      await queue.startWorkers(2, async (job) => {
        seen.push(String(job.messages));
        return { results: [{ id: String(job.messages), memory: 'm', event: 'ADD' }] };
      });
      const ids = await Promise.all(
        ['one', 'two', 'three', 'four'].map((text) => queue.enqueue(data(text))),
      );
      for (const [index, id] of ids.entries()) {
        const job = await settled(queue, id);
        expect(job).toMatchObject({ id, status: 'completed', attempts: 1 });
        expect(job.result?.results[0]?.id).toBe(['one', 'two', 'three', 'four'][index]);
      }
      expect(await queue.get(ids[0]!, 'beta')).toBeUndefined();
      expect(seen.sort()).toEqual(['four', 'one', 'three', 'two']);
    });

    it('counts waiting jobs for the metrics, and none once they are done', async () => {
      const queue = queueFor(uniqueName('counts'));
      expect(queue.counts).toBeTypeOf('function');
      await Promise.all(['a', 'b', 'c'].map((text) => queue.enqueue(data(text))));
      await eventually(async () => ((await queue.counts!()).waiting === 3 ? true : undefined), {
        timeoutMs: 30_000,
        intervalMs: 200,
      });
      await queue.startWorkers(1, async () => ({ results: [] }));
      const after = await eventually(
        async () => {
          const counts = await queue.counts!();
          return counts.waiting === 0 && (counts.active ?? 0) === 0 ? counts : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 200 },
      );
      expect(after.failed ?? 0).toBe(0);
    });

    it('retries a failed attempt after the backoff, then completes', async () => {
      const queue = queueFor(uniqueName('retry'));
      let calls = 0;
      await queue.startWorkers(1, async () => {
        calls += 1;
        if (calls === 1) throw new AdapterCallError({ message: 'HTTP 503', isRetryable: true });
        return { results: [] };
      });
      const id = await queue.enqueue(data('flaky'));
      expect(await settled(queue, id)).toMatchObject({ status: 'completed', attempts: 2 });
    });

    it('dead-letters a job after its attempts, and at once on a permanent error', async () => {
      const name = uniqueName('dead');
      const queue = queueFor(name, 2);
      const attemptsSeen = new Map<string, number>();
      await queue.startWorkers(1, async (job, run) => {
        attemptsSeen.set(run.id, run.attempt);
        if (job.messages === 'bad input') throw new InvalidArgumentError({ message: 'bad scope' });
        throw new AdapterCallError({ message: 'HTTP 503', isRetryable: true });
      });
      const failing = await queue.enqueue(data('always failing'));
      const permanent = await queue.enqueue(data('bad input'));
      expect(await settled(queue, failing)).toMatchObject({
        status: 'failed',
        error: { message: expect.stringContaining('503') },
      });
      expect(attemptsSeen.get(failing)).toBe(2);
      expect(await settled(queue, permanent)).toMatchObject({ status: 'failed' });
      expect(attemptsSeen.get(permanent)).toBe(1);
      const dead = await eventually(
        async () => {
          const ids = await harness.deadLetters(name);
          return ids.length >= 2 ? ids : undefined;
        },
        { timeoutMs: 30_000 },
      );
      expect(dead.sort()).toEqual([failing, permanent].sort());
    });

    it('a job whose consumer process is killed mid-job is finished by another consumer', async () => {
      const name = uniqueName('killed');
      const queue = queueFor(name, 3);
      const id = await queue.enqueue(data('survives a crash'));
      const first = startChild(name, configFor(name, 3));
      try {
        await first.started;
        first.process.kill('SIGKILL');
        await first.exited;
      } finally {
        first.process.kill('SIGKILL');
      }
      const runs: Array<{ id: string; attempt: number }> = [];
      await queue.startWorkers(1, async (_job, run) => {
        runs.push(run);
        return { results: [] };
      });
      expect(await settled(queue, id, 90_000)).toMatchObject({ status: 'completed' });
      expect(runs).toEqual([{ id, attempt: expect.any(Number) }]);
      expect(runs[0]!.attempt).toBeGreaterThanOrEqual(2);
    });

    it('an add delivered twice (applied, then its ack lost) stores its memories once', async () => {
      const queue = queueFor(uniqueName('idempotent'));
      const memory = new Memory({
        vectorStore: createInMemoryStore(),
        embedder: createHashEmbedder(),
        llm: null,
        collection: `idempotent_${randomUUID().slice(0, 8)}`,
      });
      try {
        let calls = 0;
        await queue.startWorkers(1, async (job, run) => {
          const result = await memory.add(job.messages, {
            ...job.options,
            idempotencyKey: `job:${run.id}`,
          });
          calls += 1;
          // The first delivery applies the add, then fails before its acknowledgement.
          if (calls === 1) throw new AdapterCallError({ message: 'lost ack', isRetryable: true });
          return result;
        });
        const id = await queue.enqueue(data('Likes oolong tea', 'idem'));
        const job = await settled(queue, id);
        expect(job).toMatchObject({ status: 'completed', attempts: 2 });
        expect(job.result?.results).toEqual([
          expect.objectContaining({ event: 'ADD', memory: 'Likes oolong tea' }),
        ]);
        const stored = await memory.list({ userId: 'idem' });
        expect(stored.results.map((item) => item.memory)).toEqual(['Likes oolong tea']);
      } finally {
        await memory.close();
      }
    });
  });
}

/** A consumer in a child process that reports its first job and then hangs in it. */
function startChild(name: string, config: ServerConfig) {
  const process_: ChildProcess = spawn(process.execPath, [child], {
    env: { ...process.env, ENGRAM_TEST_QUEUE_CONFIG: JSON.stringify(config) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const started = new Promise<void>((resolve, reject) => {
    let output = '';
    process_.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('started ')) resolve();
    });
    process_.once('exit', (code) => reject(new Error(`consumer of ${name} exited (${code})`)));
  });
  const exited = new Promise<void>((resolve) => process_.once('exit', () => resolve()));
  return { process: process_, started, exited };
}
