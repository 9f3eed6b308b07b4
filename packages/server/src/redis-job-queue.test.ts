import type { Job } from 'bullmq';
import { describe, expect, it } from 'vitest';
import type { AddJobData, JobLogger } from './job-queue.js';
import { logStalledGiveUp } from './redis-job-queue.js';

describe('logStalledGiveUp', () => {
  const lines: Array<{ fields: Record<string, unknown>; message: string }> = [];
  const logger: JobLogger = {
    warn: () => {},
    error: (fields, message) => lines.push({ fields: { ...fields }, message }),
  };
  const job = {
    id: 'job-1',
    data: { project: 'alpha' },
    attemptsMade: 0,
    attemptsStarted: 4,
  } as unknown as Job<AddJobData>;

  it('logs a job BullMQ gives up for stalling as given up, like a failed last attempt', () => {
    lines.length = 0;
    const onFailed = logStalledGiveUp({ attempts: 3, logger });
    onFailed(job, new Error('job stalled more than allowable limit'));
    expect(lines).toEqual([
      {
        message: 'job failed: given up',
        fields: {
          jobId: 'job-1',
          project: 'alpha',
          attempt: 4,
          attempts: 3,
          permanent: false,
          error: {
            code: 'job_stalled',
            message: expect.stringContaining('job stalled more than allowable limit'),
          },
        },
      },
    ]);
  });

  it('leaves failures of the handler to the queue, which logs them already', () => {
    lines.length = 0;
    const onFailed = logStalledGiveUp({ attempts: 3, logger });
    onFailed(job, new Error('adapter_call: upstream down'));
    onFailed(undefined, new Error('job stalled more than allowable limit'));
    expect(lines).toEqual([]);
  });
});
