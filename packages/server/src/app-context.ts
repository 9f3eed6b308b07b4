import type { AddResult, Memory } from '@engram/core';
import type { Logger } from 'pino';
import type { ApiKeyIdentity, ApiKeyStore } from './api-keys.js';
import type { AddJobData, JobQueue, JobRun } from './job-queue.js';
import { countAddedFacts, type ServerMetrics } from './metrics.js';
import type { ProjectMemories } from './project-memories.js';
import type { RateLimitDecision, RateLimiter } from './rate-limiter.js';
import type { ServerConfig } from './server-config.js';
import { withSpan } from './tracing.js';

/** Everything the HTTP handlers use. */
export interface AppContext {
  config: ServerConfig;
  keys: ApiKeyStore;
  projects: ProjectMemories;
  jobs: JobQueue;
  metrics: ServerMetrics;
  logger: Logger;
  limiter: RateLimiter;
  /** The per-project buckets of this process, when a project limit is configured. */
  projectLimiter?: RateLimiter;
  /**
   * Set when several server processes share the port, or replicas share Redis: rate-limit
   * tokens come from the shared buckets (of the key and of its project) instead of
   * `limiter`.
   */
  takeToken?: (keyId: string, project: string) => Promise<RateLimitDecision>;
  /** Set when several server processes share the port: the metrics of all of them. */
  scrapeMetrics?: () => Promise<string>;
  /** Set once shutdown begins: readiness fails so load balancers stop sending traffic. */
  state: { shuttingDown: boolean };
}

/** Hono variables set by the middleware. */
export interface AppEnv {
  Variables: {
    requestId: string;
    logger: Logger;
    identity: ApiKeyIdentity;
  };
}

/**
 * Runs an add for a project, recording its latency and the memories it created. A queued job's
 * id is the add's idempotency key: a job delivered twice stores its facts once.
 */
export async function runAdd(
  context: AppContext,
  data: AddJobData,
  mode: 'sync' | 'async',
  job?: JobRun,
): Promise<AddResult> {
  const memory: Memory = await context.projects.memory(data.project);
  const stopJob = job ? context.metrics.jobDuration.startTimer() : undefined;
  return withSpan(
    'memory.add',
    { 'engram.project': data.project, 'engram.add.mode': mode },
    async () => {
      const stop = context.metrics.addLatency.startTimer({ mode });
      let outcome = 'failed';
      try {
        const result = await memory.add(data.messages, {
          ...data.options,
          ...(job ? { idempotencyKey: `job:${job.id}` } : {}),
        });
        const added = countAddedFacts(context.metrics, result);
        context.metrics.projectUsage.recordAdd(data.project, added, result.usage);
        if (result.usage?.redactions) context.metrics.redactions.inc(result.usage.redactions);
        outcome = 'completed';
        return result;
      } finally {
        stop();
        if (stopJob) {
          stopJob();
          context.metrics.jobsProcessed.inc({ outcome });
        }
      }
    },
  );
}
