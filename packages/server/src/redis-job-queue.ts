import { randomUUID } from 'node:crypto';
import type { AddResult } from '@engram/core';
import { type Job, Queue, UnrecoverableError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import {
  type AddJobData,
  isPermanentJobError,
  type JobInfo,
  type JobQueue,
  type JobQueueOptions,
  jobError,
  logFailedAttempt,
} from './job-queue.js';

/** Options of {@link createRedisJobQueue}. */
export interface RedisJobQueueOptions extends JobQueueOptions {
  /** `redis://` or `rediss://` URL. */
  url: string;
  /** Queue name, shared by the API and every worker. */
  name: string;
  /**
   * How long a worker holds a job before it counts as stalled and another worker takes it over
   * (the recovery after a worker crash).
   */
  lockDurationMs: number;
}

function statusOf(state: string): JobInfo['status'] {
  if (state === 'active') return 'running';
  if (state === 'completed') return 'completed';
  if (state === 'failed') return 'failed';
  return 'queued';
}

/**
 * BullMQ on Redis: jobs survive restarts, any number of `engram worker` processes take them,
 * failed attempts are retried with exponential backoff, and a job whose worker died is picked
 * up again once its lock expires.
 */
export function createRedisJobQueue(options: RedisJobQueueOptions): JobQueue {
  const connection = new Redis(options.url, {
    maxRetriesPerRequest: null,
    lazyConnect: true,
  });
  // Errors surface through the calls that need Redis; an unhandled 'error' event would crash.
  connection.on('error', () => {});
  const queue = new Queue<AddJobData, AddResult>(options.name, { connection });
  queue.on('error', () => {});
  const workers: Worker<AddJobData, AddResult>[] = [];

  return {
    kind: 'redis',
    async enqueue(data) {
      const id = randomUUID();
      await queue.add('add', data, {
        jobId: id,
        attempts: options.attempts,
        backoff: { type: 'exponential', delay: options.backoffMs },
        removeOnComplete: { age: 24 * 60 * 60, count: 100_000 },
        removeOnFail: { age: 7 * 24 * 60 * 60 },
      });
      return id;
    },
    async counts() {
      const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed');
      return {
        waiting: counts.waiting ?? 0,
        active: counts.active ?? 0,
        delayed: counts.delayed ?? 0,
        failed: counts.failed ?? 0,
      };
    },
    async get(id, project) {
      const job: Job<AddJobData, AddResult> | undefined = await queue.getJob(id);
      if (!job || job.data.project !== project) return undefined;
      const status = statusOf(await job.getState());
      const info: JobInfo = {
        id,
        status,
        attempts: job.attemptsMade,
        createdAt: new Date(job.timestamp).toISOString(),
      };
      if (job.finishedOn && (status === 'completed' || status === 'failed')) {
        info.finishedAt = new Date(job.finishedOn).toISOString();
      }
      if (status === 'completed' && job.returnvalue) info.result = job.returnvalue;
      if (job.failedReason && status !== 'completed') {
        info.error = { code: 'job_failed', message: job.failedReason };
      }
      return info;
    },
    async startWorkers(concurrency, processor) {
      if (concurrency === 0) return;
      const worker = new Worker<AddJobData, AddResult>(
        options.name,
        async (job) => {
          try {
            return await processor(job.data);
          } catch (error) {
            const { code, message } = jobError(error);
            const permanent = isPermanentJobError(error);
            // attemptsMade counts the attempts that finished before this one.
            const attempt = job.attemptsMade + 1;
            const attempts = job.opts.attempts ?? 1;
            logFailedAttempt(options.logger, {
              jobId: job.id ?? 'unknown',
              project: job.data.project,
              attempt,
              attempts,
              givenUp: permanent || attempt >= attempts,
              error,
            });
            if (permanent) throw new UnrecoverableError(`${code}: ${message}`);
            throw new Error(`${code}: ${message}`);
          }
        },
        {
          connection: connection.duplicate(),
          concurrency,
          lockDuration: options.lockDurationMs,
          stalledInterval: Math.max(1000, Math.floor(options.lockDurationMs / 2)),
          maxStalledCount: 3,
        },
      );
      worker.on('error', () => {});
      workers.push(worker);
      await worker.waitUntilReady();
    },
    async ping() {
      if (connection.status === 'wait') await connection.connect();
      await connection.ping();
    },
    async close(timeoutMs = 30_000) {
      await Promise.race([
        Promise.all(workers.map((worker) => worker.close())),
        new Promise((resolve) => setTimeout(resolve, timeoutMs).unref()),
      ]);
      await Promise.all(workers.map((worker) => worker.close(true).catch(() => {})));
      await queue.close().catch(() => {});
      connection.disconnect();
    },
  };
}
