import type { AddResult } from '@engram/core';
import { type Job, Queue, UnrecoverableError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import {
  type AddJobData,
  type JobInfo,
  type JobQueue,
  type JobQueueOptions,
  logFailedAttempt,
} from './job-queue.js';
import {
  createTransportJobQueue,
  type JobStatusStore,
  type QueueTransport,
} from './queue-transport.js';

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
 * up again once its lock expires. BullMQ keeps each job's state itself (the failed set is the
 * dead-letter queue), so no other status store is needed.
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
  const jobs = createTransportJobQueue({
    ...options,
    transport: createBullmqTransport(options, connection, queue),
    statuses: bullmqStatuses(queue),
  });
  return {
    ...jobs,
    async counts() {
      const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed');
      return {
        waiting: counts.waiting ?? 0,
        active: counts.active ?? 0,
        delayed: counts.delayed ?? 0,
        failed: counts.failed ?? 0,
      };
    },
  };
}

/** Job states read from BullMQ, which records them as it moves jobs; writes are no-ops. */
function bullmqStatuses(queue: Queue<AddJobData, AddResult>): JobStatusStore {
  return {
    async record() {},
    async get(id, project) {
      // The state first, then the job: BullMQ finishes a job (its state, attempts, result) in one
      // script, so a job read after a finished state holds that finish. Read the other way round,
      // a job finishing between the two reads showed "completed" with the attempts of before.
      const state = await queue.getJobState(id);
      const job: Job<AddJobData, AddResult> | undefined = await queue.getJob(id);
      if (!job || job.data.project !== project) return undefined;
      const status = statusOf(state);
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
    async close() {},
  };
}

/**
 * BullMQ as a {@link QueueTransport}: the processor waits for the delivery's outcome; `ack`
 * completes the job with its result, `retry` fails the attempt (BullMQ's exponential backoff,
 * the same formula, schedules the next), `deadLetter` fails it for good.
 */
function createBullmqTransport(
  options: RedisJobQueueOptions,
  connection: Redis,
  queue: Queue<AddJobData, AddResult>,
): QueueTransport {
  const workers: Worker<AddJobData, AddResult>[] = [];
  const workerConnections: Redis[] = [];
  return {
    kind: 'redis',
    async send({ id, data }) {
      await queue.add('add', data, {
        jobId: id,
        attempts: options.attempts,
        backoff: { type: 'exponential', delay: options.backoffMs },
        removeOnComplete: { age: 24 * 60 * 60, count: 100_000 },
        removeOnFail: { age: 7 * 24 * 60 * 60 },
      });
    },
    async consume(concurrency, handler) {
      const workerConnection = connection.duplicate();
      workerConnections.push(workerConnection);
      const worker = new Worker<AddJobData, AddResult>(
        options.name,
        (job) =>
          new Promise<AddResult>((resolve, reject) => {
            handler({
              id: job.id ?? 'unknown',
              data: job.data,
              // attemptsMade counts the attempts that finished before this one; attemptsStarted
              // also counts those whose worker died (stalled jobs taken over).
              attempt: Math.max(job.attemptsMade + 1, job.attemptsStarted),
              ack: async (result) => resolve(result),
              retry: async (_delayMs, { code, message }) =>
                reject(new Error(`${code}: ${message}`)),
              deadLetter: async ({ code, message }) =>
                reject(new UnrecoverableError(`${code}: ${message}`)),
            }).catch(reject);
          }),
        {
          connection: workerConnection,
          concurrency,
          lockDuration: options.lockDurationMs,
          stalledInterval: Math.max(1000, Math.floor(options.lockDurationMs / 2)),
          maxStalledCount: 3,
        },
      );
      worker.on('error', () => {});
      worker.on('failed', logStalledGiveUp(options));
      workers.push(worker);
      await worker.waitUntilReady();
    },
    async ping() {
      if (connection.status === 'wait') await connection.connect();
      await connection.ping();
    },
    async close(timeoutMs) {
      await Promise.race([
        Promise.all(workers.map((worker) => worker.close())),
        new Promise((resolve) => setTimeout(resolve, timeoutMs).unref()),
      ]);
      await Promise.all(workers.map((worker) => worker.close(true).catch(() => {})));
      await queue.close().catch(() => {});
      for (const workerConnection of workerConnections) workerConnection.disconnect();
      connection.disconnect();
    },
  };
}

/** What BullMQ fails a job with once it stalled more often than `maxStalledCount` allows. */
const stalledFailure = /stalled more than/i;

/**
 * The worker's `failed` listener for jobs BullMQ gives up on for stalling (their workers kept
 * dying or losing the lock): those never reach the handler, so nothing else logs them. Failures
 * of the handler's own attempts are logged where they happen.
 */
export function logStalledGiveUp(
  options: Pick<JobQueueOptions, 'attempts' | 'logger'>,
): (job: Job<AddJobData> | undefined, error: Error) => void {
  return (job, error) => {
    if (!job || !stalledFailure.test(error.message)) return;
    logFailedAttempt(options.logger, {
      jobId: job.id ?? 'unknown',
      project: job.data.project,
      attempt: Math.max(job.attemptsMade, job.attemptsStarted, 1),
      attempts: options.attempts,
      givenUp: true,
      error: Object.assign(
        new Error(
          `BullMQ gave the job up: ${error.message} (its worker died or lost the job's lock each time; if adds run longer than the lock, raise ENGRAM_JOB_LOCK_MS).`,
        ),
        { code: 'job_stalled' },
      ),
    });
  };
}
