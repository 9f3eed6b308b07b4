import { AdapterCallError, InvalidArgumentError } from '@engram/core';
import { describe, expect, it } from 'vitest';
import { createMemoryJobQueue, type JobLogger } from './job-queue.js';
import { createServerMetrics } from './metrics.js';

function recordingLogger() {
  const lines: Array<{
    level: 'warn' | 'error';
    fields: Record<string, unknown>;
    message: string;
  }> = [];
  const logger: JobLogger = {
    warn: (fields, message) => lines.push({ level: 'warn', fields: { ...fields }, message }),
    error: (fields, message) => lines.push({ level: 'error', fields: { ...fields }, message }),
  };
  return { logger, lines };
}

const data = { project: 'alpha', messages: 'hello', options: { userId: 'alice' } };

async function settled(queue: ReturnType<typeof createMemoryJobQueue>, id: string) {
  for (let attempt = 0; attempt < 100; attempt++) {
    const job = await queue.get(id, 'alpha');
    if (job?.status === 'completed' || job?.status === 'failed') return job;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('job did not settle');
}

describe('createMemoryJobQueue', () => {
  it('counts jobs by state for engram_queue_jobs', async () => {
    const queue = createMemoryJobQueue({ attempts: 1, backoffMs: 5 });
    await queue.enqueue(data);
    await queue.enqueue(data);
    expect(await queue.counts!()).toEqual({ waiting: 2, active: 0, delayed: 0, failed: 0 });
    const metrics = createServerMetrics();
    metrics.countJobs = () => queue.counts!();
    const text = await metrics.registry.metrics();
    expect(text).toContain('engram_queue_jobs{state="waiting"} 2');
    let release = () => {};
    const running = new Promise<void>((resolve) => {
      release = resolve;
    });
    await queue.startWorkers(1, async () => {
      await running;
      return { results: [] };
    });
    for (let attempt = 0; attempt < 100; attempt++) {
      if ((await queue.counts!()).active === 1) break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(await queue.counts!()).toMatchObject({ waiting: 1, active: 1 });
    release();
    await queue.close();
  });

  it('retries failed attempts with backoff until one succeeds', async () => {
    const queue = createMemoryJobQueue({ attempts: 3, backoffMs: 5 });
    let calls = 0;
    await queue.startWorkers(1, async () => {
      calls += 1;
      if (calls < 3) throw new Error('flaky');
      return { results: [] };
    });
    const id = await queue.enqueue(data);
    expect(await settled(queue, id)).toMatchObject({
      status: 'completed',
      attempts: 3,
      result: { results: [] },
    });
    expect(await queue.get(id, 'beta')).toBeUndefined();
    await queue.close();
  });

  it('does not retry errors in the input', async () => {
    const queue = createMemoryJobQueue({ attempts: 5, backoffMs: 5 });
    await queue.startWorkers(1, async () => {
      throw new InvalidArgumentError({ message: 'bad scope' });
    });
    const id = await queue.enqueue(data);
    expect(await settled(queue, id)).toMatchObject({
      status: 'failed',
      attempts: 1,
      error: { code: 'invalid_argument', message: 'bad scope' },
    });
    await queue.close();
  });

  it('finishes queued jobs on close and then refuses new ones', async () => {
    const queue = createMemoryJobQueue({ attempts: 1, backoffMs: 5 });
    const done: string[] = [];
    await queue.startWorkers(1, async (job) => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      done.push(String(job.messages));
      return { results: [] };
    });
    await queue.enqueue({ ...data, messages: 'one' });
    await queue.enqueue({ ...data, messages: 'two' });
    await queue.close();
    expect(done).toEqual(['one', 'two']);
    await expect(queue.enqueue(data)).rejects.toThrow(/closed/);
  });

  it('logs each failed attempt and the job given up, with id, project, attempt and error', async () => {
    const { logger, lines } = recordingLogger();
    const queue = createMemoryJobQueue({ attempts: 2, backoffMs: 1, logger });
    await queue.startWorkers(1, async () => {
      throw new AdapterCallError({ message: 'upstream down (HTTP 503)', isRetryable: true });
    });
    const id = await queue.enqueue(data);
    expect(await settled(queue, id)).toMatchObject({ status: 'failed', attempts: 2 });
    expect(lines).toEqual([
      {
        level: 'warn',
        message: 'job attempt failed: will retry',
        fields: {
          jobId: id,
          project: 'alpha',
          attempt: 1,
          attempts: 2,
          error: { code: 'adapter_call', message: 'upstream down (HTTP 503)' },
        },
      },
      {
        level: 'error',
        message: 'job failed: given up',
        fields: {
          jobId: id,
          project: 'alpha',
          attempt: 2,
          attempts: 2,
          permanent: false,
          error: { code: 'adapter_call', message: 'upstream down (HTTP 503)' },
        },
      },
    ]);
    await queue.close();
  });

  it('does not retry an upstream error that is not retryable (a 401)', async () => {
    const { logger, lines } = recordingLogger();
    const queue = createMemoryJobQueue({ attempts: 5, backoffMs: 1, logger });
    let calls = 0;
    await queue.startWorkers(1, async () => {
      calls += 1;
      throw new AdapterCallError({ message: 'generate failed (HTTP 401): bad key' });
    });
    const id = await queue.enqueue(data);
    expect(await settled(queue, id)).toMatchObject({ status: 'failed', attempts: 1 });
    expect(calls).toBe(1);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 'error',
      fields: { jobId: id, attempt: 1, permanent: true, error: { code: 'adapter_call' } },
    });
    await queue.close();
  });
});
