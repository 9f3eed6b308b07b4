import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AdapterCallError, InvalidArgumentError } from '@engram/core';
import { afterAll, describe, expect, it } from 'vitest';
import type { JobInfo, JobQueue } from './job-queue.js';
import { createSqliteJobStatusStore } from './job-status-store.js';
import {
  createTransportJobQueue,
  type QueueDelivery,
  type QueueMessage,
  type QueueTransport,
} from './queue-transport.js';

/** A transport in process memory that records what the queue asked of it. */
function recordingTransport() {
  const outcomes: string[] = [];
  let deliver: ((delivery: QueueDelivery) => Promise<void>) | undefined;
  const attempts = new Map<string, number>();
  const dispatch = (message: QueueMessage) => {
    const attempt = (attempts.get(message.id) ?? 0) + 1;
    attempts.set(message.id, attempt);
    void deliver?.({
      ...message,
      attempt,
      ack: async () => void outcomes.push(`ack ${attempt}`),
      retry: async (delayMs) => {
        outcomes.push(`retry ${attempt} after ${delayMs}`);
        setTimeout(() => dispatch(message), 1);
      },
      deadLetter: async (error) => void outcomes.push(`dead ${attempt} ${error.code}`),
    });
  };
  const transport: QueueTransport = {
    kind: 'rabbitmq',
    send: async (message) => void setTimeout(() => dispatch(message), 1),
    consume: async (_concurrency, handler) => {
      deliver = handler;
    },
    ping: async () => {},
    close: async () => {},
  };
  return { transport, outcomes };
}

const directory = mkdtempSync(join(tmpdir(), 'engram-transport-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

async function settled(queue: JobQueue, id: string): Promise<JobInfo> {
  for (let poll = 0; poll < 500; poll++) {
    const job = await queue.get(id, 'alpha');
    if (job?.status === 'completed' || job?.status === 'failed') return job;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error('job did not settle');
}

const data = { project: 'alpha', messages: 'hello', options: { userId: 'alice' } };

describe('createTransportJobQueue', () => {
  it('records states in the status store, retries with exponential backoff, then acks', async () => {
    const { transport, outcomes } = recordingTransport();
    const statuses = createSqliteJobStatusStore(join(directory, 'jobs-1.db'));
    const queue = createTransportJobQueue({ transport, statuses, attempts: 3, backoffMs: 10 });
    let calls = 0;
    await queue.startWorkers(1, async (_job, run) => {
      calls += 1;
      expect(run.attempt).toBe(calls);
      if (calls < 3) throw new AdapterCallError({ message: 'HTTP 503', isRetryable: true });
      return { results: [] };
    });
    const id = await queue.enqueue(data);
    expect(await settled(queue, id)).toMatchObject({
      id,
      status: 'completed',
      attempts: 3,
      result: { results: [] },
    });
    expect((await queue.get(id, 'alpha'))?.error).toBeUndefined();
    expect(await queue.get(id, 'beta')).toBeUndefined();
    expect(outcomes).toEqual(['retry 1 after 10', 'retry 2 after 20', 'ack 3']);
    await queue.close();
  });

  it('dead-letters after the attempts, and at once on an error retrying cannot fix', async () => {
    const { transport, outcomes } = recordingTransport();
    const statuses = createSqliteJobStatusStore(join(directory, 'jobs-2.db'));
    const queue = createTransportJobQueue({ transport, statuses, attempts: 2, backoffMs: 1 });
    await queue.startWorkers(1, async (job) => {
      if (job.messages === 'bad') throw new InvalidArgumentError({ message: 'bad scope' });
      throw new AdapterCallError({ message: 'HTTP 503', isRetryable: true });
    });
    const failing = await queue.enqueue(data);
    expect(await settled(queue, failing)).toMatchObject({
      status: 'failed',
      attempts: 2,
      error: { code: 'adapter_call' },
    });
    const bad = await queue.enqueue({ ...data, messages: 'bad' });
    expect(await settled(queue, bad)).toMatchObject({
      status: 'failed',
      attempts: 1,
      error: { code: 'invalid_argument' },
    });
    expect(outcomes).toEqual(['retry 1 after 1', 'dead 2 adapter_call', 'dead 1 invalid_argument']);
    await queue.close();
  });
});
