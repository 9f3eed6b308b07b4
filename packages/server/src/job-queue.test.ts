import { InvalidArgumentError } from '@engram/core';
import { describe, expect, it } from 'vitest';
import { createMemoryJobQueue } from './job-queue.js';

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
});
