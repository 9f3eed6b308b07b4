import { randomUUID } from 'node:crypto';
import type { AddResult } from '@engram/core';
import {
  type AddJobData,
  type AddJobProcessor,
  isPermanentJobError,
  type JobInfo,
  type JobQueue,
  type JobQueueOptions,
  type JobState,
  jobError,
  logFailedAttempt,
} from './job-queue.js';

/** A message as a queue carries it: the job id and what the job does. */
export interface QueueMessage {
  /** Job id, unique; also the idempotency key of the add. */
  id: string;
  /** The add to run. */
  data: AddJobData;
}

/**
 * One delivery of a message to a consumer. Exactly one of `ack`, `retry` or `deadLetter` ends
 * it; a consumer that dies before that (a crash, SIGKILL) leaves the message to be delivered
 * again once the queue's visibility timeout or lock expires, or at once when the broker sees
 * the connection drop (RabbitMQ).
 */
export interface QueueDelivery extends QueueMessage {
  /** 1-based number of this attempt, redeliveries after a dead consumer included. */
  attempt: number;
  /** Done: the message is removed. */
  ack(result: AddResult): Promise<void>;
  /** Failed, try again: the message comes back after `delayMs`. */
  retry(delayMs: number, error: { code: string; message: string }): Promise<void>;
  /** Failed for good: the message moves to the dead-letter queue. */
  deadLetter(error: { code: string; message: string }): Promise<void>;
}

/**
 * The small contract every queue backend implements: at-least-once delivery with manual
 * acknowledgement, redelivery of a dead consumer's messages, delayed retries and a dead-letter
 * queue. Attempts and backoff are decided once, by {@link createTransportJobQueue}.
 */
export interface QueueTransport {
  /** Backend name, as logs and `/readyz` show it. */
  readonly kind: 'redis' | 'rabbitmq' | 'sqs';
  /** Queues a message durably. */
  send(message: QueueMessage): Promise<void>;
  /** Starts consuming, at most `concurrency` deliveries at a time in this process. */
  consume(concurrency: number, handler: (delivery: QueueDelivery) => Promise<void>): Promise<void>;
  /**
   * Messages by state as the broker reports them (what it cannot report is left out), for the
   * `engram_queue_jobs` gauge.
   */
  counts?(): Promise<Partial<Record<JobState, number>>>;
  /** Throws when the backend cannot be reached. */
  ping(): Promise<void>;
  /** Stops consuming, waits for deliveries in hand (up to `timeoutMs`), disconnects. */
  close(timeoutMs: number): Promise<void>;
}

/** Where job states live for the API's `GET /v1/jobs/{id}`, shared by servers and workers. */
export interface JobStatusStore {
  /** Writes (merges) the state of a job. */
  record(id: string, project: string, info: Partial<JobInfo>): Promise<void>;
  /** The job of the project, or `undefined` (also for another project's job). */
  get(id: string, project: string): Promise<JobInfo | undefined>;
  /** Releases connections. */
  close(): Promise<void>;
}

/** Options of {@link createTransportJobQueue}. */
export interface TransportJobQueueOptions extends JobQueueOptions {
  /** The queue backend. */
  transport: QueueTransport;
  /** Where job states are kept. */
  statuses: JobStatusStore;
}

/**
 * A {@link JobQueue} over any {@link QueueTransport}: records each job's state, runs it, and on
 * failure retries with exponential backoff or dead-letters it (after `attempts`, or at once for
 * an error retrying cannot fix), logging every failed attempt. Delivery is at least once; the
 * processor receives the job id, which the add uses as its idempotency key, so a job delivered
 * twice stores its facts once.
 */
export function createTransportJobQueue(options: TransportJobQueueOptions): JobQueue {
  const { transport, statuses } = options;

  async function handle(delivery: QueueDelivery, processor: AddJobProcessor) {
    const { id, data, attempt } = delivery;
    await statuses.record(id, data.project, { status: 'running', attempts: attempt });
    let result: AddResult;
    try {
      result = await processor(data, { id, attempt });
    } catch (error) {
      const failure = jobError(error);
      const givenUp = isPermanentJobError(error) || attempt >= options.attempts;
      logFailedAttempt(options.logger, {
        jobId: id,
        project: data.project,
        attempt,
        attempts: options.attempts,
        givenUp,
        error,
      });
      if (givenUp) {
        await statuses.record(id, data.project, {
          status: 'failed',
          error: failure,
          finishedAt: new Date().toISOString(),
        });
        await delivery.deadLetter(failure);
      } else {
        await statuses.record(id, data.project, { status: 'queued', error: failure });
        await delivery.retry(options.backoffMs * 2 ** (attempt - 1), failure);
      }
      return;
    }
    await statuses.record(id, data.project, {
      status: 'completed',
      result,
      finishedAt: new Date().toISOString(),
    });
    await delivery.ack(result);
  }

  return {
    kind: transport.kind,
    async enqueue(data) {
      const id = randomUUID();
      await statuses.record(id, data.project, {
        id,
        status: 'queued',
        attempts: 0,
        createdAt: new Date().toISOString(),
      });
      await transport.send({ id, data });
      return id;
    },
    get: (id, project) => statuses.get(id, project),
    async startWorkers(concurrency, processor) {
      if (concurrency === 0) return;
      await transport.consume(concurrency, (delivery) => handle(delivery, processor));
    },
    ...(transport.counts ? { counts: () => transport.counts!() } : {}),
    ping: () => transport.ping(),
    async close(timeoutMs = 30_000) {
      await transport.close(timeoutMs);
      await statuses.close();
    },
  };
}
