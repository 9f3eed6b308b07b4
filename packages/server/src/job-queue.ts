import { randomUUID } from 'node:crypto';
import {
  AdapterCallError,
  type AddResult,
  InvalidArgumentError,
  type JsonValue,
  type Message,
  NotFoundError,
  UnsupportedFunctionalityError,
} from '@engram/core';

/** What an asynchronous add carries to a worker. */
export interface AddJobData {
  /** Project the memories belong to. */
  project: string;
  /** The conversation to remember. */
  messages: string | Message[];
  /** Options of `Memory.add`. */
  options: {
    userId?: string;
    agentId?: string;
    runId?: string;
    metadata?: Record<string, JsonValue>;
    infer?: boolean;
    /** When the memories the add creates expire (ISO-8601). */
    expiresAt?: string;
  };
}

/** State of an asynchronous add. */
export interface JobInfo {
  id: string;
  status: 'queued' | 'running' | 'completed' | 'failed';
  /** Attempts made so far. */
  attempts: number;
  /** ISO-8601 time the job was queued. */
  createdAt: string;
  /** ISO-8601 time the job completed or finally failed. */
  finishedAt?: string;
  /** What `add` returned, once completed. */
  result?: AddResult;
  /** Why the last attempt failed, once failed. */
  error?: { code: string; message: string };
}

/** States `engram_queue_jobs` reports. */
export type JobState = 'waiting' | 'active' | 'delayed' | 'failed';

/** Which job a processor runs. */
export interface JobRun {
  /** Job id: the idempotency key of its add, so a job delivered twice applies once. */
  id: string;
  /** 1-based attempt. */
  attempt: number;
}

/** Runs one job; throwing retries it (with backoff) unless the error is the caller's fault. */
export type AddJobProcessor = (data: AddJobData, job: JobRun) => Promise<AddResult>;

/**
 * A queue of asynchronous adds: in-process, BullMQ on Redis, RabbitMQ or SQS. Same interface
 * every way.
 */
export interface JobQueue {
  /** `memory`, `redis` (BullMQ), `rabbitmq` or `sqs`. */
  readonly kind: 'memory' | 'redis' | 'rabbitmq' | 'sqs';
  /** Queues a job; resolves with its id. */
  enqueue(data: AddJobData): Promise<string>;
  /** A job of the project, or `undefined` (also for other projects' jobs). */
  get(id: string, project: string): Promise<JobInfo | undefined>;
  /** Starts `concurrency` workers in this process. */
  startWorkers(concurrency: number, processor: AddJobProcessor): Promise<void>;
  /** Jobs by state right now (`waiting`, `active`, `delayed`, `failed`), for the metrics. */
  counts?(): Promise<Partial<Record<JobState, number>>>;
  /** Throws when the queue's backend cannot be reached. */
  ping(): Promise<void>;
  /** Stops taking jobs, waits for running ones (up to `timeoutMs`), and disconnects. */
  close(timeoutMs?: number): Promise<void>;
}

/** Where the queues report failed attempts: a pino logger, or anything with its two methods. */
export interface JobLogger {
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

/** Options shared by both queues. */
export interface JobQueueOptions {
  /** Attempts per job. */
  attempts: number;
  /** First retry delay in ms; doubles with every attempt. */
  backoffMs: number;
  /** Receives one line per failed attempt and one per job given up. Default: none. */
  logger?: JobLogger;
}

/**
 * Errors that retrying cannot fix: bad input, and calls a database or model API refused for
 * good (an `AdapterCallError` not marked retryable, e.g. a provider's 400, 401, 403, 404 or 422;
 * 429 and 5xx are retryable and retried).
 */
export function isPermanentJobError(error: unknown): boolean {
  return (
    InvalidArgumentError.isInstance(error) ||
    NotFoundError.isInstance(error) ||
    UnsupportedFunctionalityError.isInstance(error) ||
    (AdapterCallError.isInstance(error) && !error.isRetryable)
  );
}

/** What a failed attempt of a job was. */
export interface FailedAttempt {
  jobId: string;
  project: string;
  /** 1-based number of the attempt that failed. */
  attempt: number;
  /** Attempts the job may make in all. */
  attempts: number;
  /** Whether the job is given up (no attempt follows). */
  givenUp: boolean;
  error: unknown;
}

/**
 * Logs a failed attempt (a warning, with the retry to come) or a job given up (an error), with
 * the job id, project, attempt and the error's code and message.
 */
export function logFailedAttempt(logger: JobLogger | undefined, failure: FailedAttempt): void {
  if (!logger) return;
  const { code, message } = jobError(failure.error);
  const fields = {
    jobId: failure.jobId,
    project: failure.project,
    attempt: failure.attempt,
    attempts: failure.attempts,
    error: { code, message },
  };
  if (failure.givenUp) {
    logger.error(
      { ...fields, permanent: isPermanentJobError(failure.error) },
      'job failed: given up',
    );
  } else {
    logger.warn(fields, 'job attempt failed: will retry');
  }
}

/** The code and message a failed job reports. */
export function jobError(error: unknown): { code: string; message: string } {
  const code =
    error != null &&
    typeof error === 'object' &&
    typeof (error as { code?: unknown }).code === 'string'
      ? (error as { code: string }).code
      : 'internal';
  const message = error instanceof Error ? error.message : String(error);
  return { code, message };
}

interface MemoryJob {
  info: JobInfo;
  data: AddJobData;
}

/**
 * The in-process queue used without Redis: jobs live in this process only (a restart loses
 * queued ones), with the same retries and backoff as the Redis queue. Finished jobs are kept
 * for an hour, at most 10,000 of them.
 */
export function createMemoryJobQueue(options: JobQueueOptions): JobQueue {
  const jobs = new Map<string, MemoryJob>();
  const pending: MemoryJob[] = [];
  const waiting: Array<() => void> = [];
  const running = new Set<Promise<void>>();
  const timers = new Set<NodeJS.Timeout>();
  let closed = false;
  const keepMs = 60 * 60 * 1000;
  const keepCount = 10_000;

  function wake() {
    waiting.shift()?.();
  }

  function prune() {
    const now = Date.now();
    for (const [id, job] of jobs) {
      if (jobs.size <= keepCount && !job.info.finishedAt) continue;
      if (
        job.info.finishedAt &&
        (now - Date.parse(job.info.finishedAt) > keepMs || jobs.size > keepCount)
      ) {
        jobs.delete(id);
      }
    }
  }

  async function run(job: MemoryJob, processor: AddJobProcessor) {
    job.info.status = 'running';
    job.info.attempts += 1;
    try {
      job.info.result = await processor(job.data, {
        id: job.info.id,
        attempt: job.info.attempts,
      });
      job.info.status = 'completed';
      job.info.finishedAt = new Date().toISOString();
      delete job.info.error;
    } catch (error) {
      job.info.error = jobError(error);
      const givenUp = isPermanentJobError(error) || job.info.attempts >= options.attempts || closed;
      logFailedAttempt(options.logger, {
        jobId: job.info.id,
        project: job.data.project,
        attempt: job.info.attempts,
        attempts: options.attempts,
        givenUp,
        error,
      });
      if (givenUp) {
        job.info.status = 'failed';
        job.info.finishedAt = new Date().toISOString();
        return;
      }
      job.info.status = 'queued';
      const delay = options.backoffMs * 2 ** (job.info.attempts - 1);
      const timer = setTimeout(() => {
        timers.delete(timer);
        pending.push(job);
        wake();
      }, delay);
      timers.add(timer);
    }
  }

  return {
    kind: 'memory',
    async enqueue(data) {
      if (closed) throw new Error('The job queue is closed.');
      prune();
      const job: MemoryJob = {
        info: {
          id: randomUUID(),
          status: 'queued',
          attempts: 0,
          createdAt: new Date().toISOString(),
        },
        data,
      };
      jobs.set(job.info.id, job);
      pending.push(job);
      wake();
      return job.info.id;
    },
    async get(id, project) {
      const job = jobs.get(id);
      if (!job || job.data.project !== project) return undefined;
      return structuredClone(job.info);
    },
    async counts() {
      const counts = { waiting: 0, active: 0, delayed: 0, failed: 0 };
      for (const { info } of jobs.values()) {
        if (info.status === 'running') counts.active += 1;
        else if (info.status === 'failed') counts.failed += 1;
      }
      // Retries wait in timers until due; the rest of the queued jobs wait for a worker.
      counts.waiting = pending.length;
      counts.delayed = Math.max(
        0,
        [...jobs.values()].filter(({ info }) => info.status === 'queued').length - pending.length,
      );
      return counts;
    },
    async startWorkers(concurrency, processor) {
      for (let index = 0; index < concurrency; index++) {
        const loop = (async () => {
          // Once closed, workers still drain what was queued, then stop.
          for (;;) {
            const job = pending.shift();
            if (!job) {
              if (closed) return;
              await new Promise<void>((resolve) => waiting.push(resolve));
              continue;
            }
            await run(job, processor);
          }
        })();
        running.add(loop);
      }
    },
    async ping() {},
    async close(timeoutMs = 30_000) {
      closed = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      while (waiting.length > 0) wake();
      await Promise.race([
        Promise.all(running),
        new Promise((resolve) => setTimeout(resolve, timeoutMs).unref()),
      ]);
      for (const job of pending.splice(0)) {
        job.info.status = 'failed';
        job.info.error = {
          code: 'unavailable',
          message: 'The server shut down before the job ran.',
        };
        job.info.finishedAt = new Date().toISOString();
      }
    },
  };
}
