import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import type { Logger } from 'pino';
import { AggregatorRegistry, type Registry } from 'prom-client';
import { openServingKeyStore } from './bootstrap-key.js';
import type { JobInfo, JobQueue } from './job-queue.js';
import { createRateLimiter, type RateLimitDecision } from './rate-limiter.js';
import type { ServerConfig } from './server-config.js';
import { exitOnSignals } from './shutdown-signals.js';

/** Environment variable that tells a forked process which worker of the cluster it is. */
const workerIndexVariable = 'ENGRAM_CLUSTER_WORKER_INDEX';
const workerCountVariable = 'ENGRAM_CLUSTER_WORKERS';
const answerTimeoutMs = 5000;

/** Graph stores kept in a local file that one process at a time may open. */
const singleProcessGraphs = new Set(['kuzu']);

/**
 * How many server processes `engram serve` runs: `workers` from the flag, `ENGRAM_WORKERS` or
 * the file, else one per available core. An embedded graph (Kuzu) allows only one process.
 */
export function resolveWorkerCount(config: ServerConfig): { workers: number; reason?: string } {
  const requested = config.workers ?? availableParallelism();
  const graph = config.env.ENGRAM_GRAPH?.trim().toLowerCase();
  if (requested > 1 && graph && singleProcessGraphs.has(graph)) {
    return {
      workers: 1,
      reason: `ENGRAM_GRAPH=${graph} keeps the graph in a file one process at a time may open`,
    };
  }
  return { workers: Math.max(1, requested) };
}

/** This process's place in a cluster started by {@link startServerCluster}, if any. */
export function clusterWorkerIndex(): number | undefined {
  const value = process.env[workerIndexVariable];
  return cluster.isWorker && value !== undefined ? Number(value) : undefined;
}

interface Envelope {
  engram: string;
  id: number;
  [field: string]: unknown;
}

function isEnvelope(message: unknown): message is Envelope {
  return (
    typeof message === 'object' &&
    message !== null &&
    typeof (message as Envelope).engram === 'string' &&
    typeof (message as Envelope).id === 'number'
  );
}

/** What a server worker asks of the cluster's primary process, and what it answers it. */
export interface ClusterLinks {
  /** 0-based index of this worker. */
  index: number;
  /** Workers in the cluster. */
  workers: number;
  /**
   * Takes a rate-limit token of a key from the cluster-wide bucket and, with a project limit,
   * one of its project from the project's cluster-wide bucket.
   */
  takeToken(keyId: string, project?: string): Promise<RateLimitDecision>;
  /** Metrics of every worker, aggregated, in the Prometheus text format. */
  scrapeMetrics(): Promise<string>;
  /** A job queued by any worker's in-process queue. */
  jobs(local: JobQueue): JobQueue;
  /** Tells the primary this worker listens. */
  ready(): void;
}

/**
 * The worker side of the cluster. Rate-limit tokens are handed out by the primary in small
 * leases (at most a fraction of what a key has left, one token when it is nearly empty), so the
 * limit holds for the cluster as a whole while a generous limit costs almost no messages.
 */
export function connectClusterWorker(index: number, registry: Registry): ClusterLinks {
  const workers = Number(process.env[workerCountVariable] ?? '1');
  const waiting = new Map<number, (value: Envelope) => void>();
  let counter = 0;
  let localJobs: JobQueue | undefined;
  const ask = (engram: string, fields: Record<string, unknown>): Promise<Envelope> => {
    const id = ++counter;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        waiting.delete(id);
        reject(new Error('The primary process of the cluster did not answer; retry.'));
      }, answerTimeoutMs);
      waiting.set(id, (answer) => {
        clearTimeout(timer);
        waiting.delete(id);
        resolve(answer);
      });
      process.send?.({ engram, id, ...fields });
    });
  };
  process.on('message', (message: unknown) => {
    if (!isEnvelope(message)) return;
    const part = (fields: Record<string, unknown>) =>
      process.send?.({ engram: 'part', id: message.id, ...fields });
    if (message.engram === 'answer') {
      waiting.get(message.id)?.(message);
    } else if (message.engram === 'job-lookup') {
      const lookup = localJobs
        ? localJobs.get(String(message.jobId), String(message.project))
        : Promise.resolve(undefined);
      lookup.then(
        (info) => part({ info: info ?? null }),
        () => part({ info: null }),
      );
    } else if (message.engram === 'metrics-collect') {
      registry.getMetricsAsJSON().then(
        (metrics) => part({ metrics }),
        () => part({ metrics: [] }),
      );
    }
  });
  const leases = new Map<string, { tokens: number; expires: number }>();
  return {
    index,
    workers,
    async takeToken(keyId, project) {
      const now = Date.now();
      // Lent tokens were taken from the key's bucket and its project's: they pay for that pair only.
      const leaseKey = project === undefined ? keyId : `${keyId}\n${project}`;
      const lease = leases.get(leaseKey);
      if (lease && lease.tokens >= 1 && lease.expires > now) {
        lease.tokens -= 1;
        return { allowed: true, retryAfterSeconds: 0, remaining: Math.floor(lease.tokens) };
      }
      // Tokens of an expired lease go back to the buckets: the client did not spend them.
      const unused = lease && lease.tokens >= 1 ? Math.floor(lease.tokens) : 0;
      const answer = await ask('rate-take', {
        keyId,
        ...(project === undefined ? {} : { project }),
        ...(unused > 0 ? { unused } : {}),
      });
      const decision = answer.decision as RateLimitDecision & { granted: number };
      if (decision.granted > 1) {
        leases.set(leaseKey, { tokens: decision.granted - 1, expires: now + 1000 });
      } else {
        leases.delete(leaseKey);
      }
      return {
        allowed: decision.allowed,
        retryAfterSeconds: decision.retryAfterSeconds,
        remaining: decision.remaining,
      };
    },
    async scrapeMetrics() {
      const answer = await ask('metrics', {});
      if (typeof answer.error === 'string') throw new Error(answer.error);
      return String(answer.text);
    },
    jobs(local) {
      localJobs = local;
      if (local.kind !== 'memory' || workers < 2) return local;
      return {
        ...local,
        kind: local.kind,
        async get(id, project) {
          const own = await local.get(id, project);
          if (own) return own;
          const answer = await ask('job-get', { jobId: id, project });
          return (answer.info as JobInfo | null) ?? undefined;
        },
      };
    },
    ready() {
      process.send?.({ engram: 'ready', id: 0 });
    },
  };
}

/** A lease of rate-limit tokens: the decision for one request, and the tokens lent with it. */
export interface RateLimitLease extends RateLimitDecision {
  /** Tokens taken from the bucket, this request's included (0 when refused). */
  granted: number;
}

/**
 * The token buckets of a whole cluster, kept by the primary: one per key and, with a project
 * limit (`rateLimit.project`), one per project, so neither limit is multiplied by the number of
 * processes. A request takes a token from the key's bucket and its project's, or from neither.
 * Each request a worker cannot pay from its lease takes one token and borrows up to
 * `remaining / (2 x workers)` more, so a generous limit costs few messages and a nearly empty
 * bucket lends one token at a time. A lease lasts a second; the tokens a worker did not spend
 * in it come back with its next request (`unused`), so lending never lowers the limit.
 */
export function createRateLimitLeases(
  rateLimit: ServerConfig['rateLimit'],
  workers: number,
  now?: () => number,
): (keyId: string, project?: string, unused?: number) => RateLimitLease {
  const keys = createRateLimiter(rateLimit, now);
  const projects = rateLimit.project ? createRateLimiter(rateLimit.project, now) : undefined;
  const takeBoth = (keyId: string, project: string | undefined) => {
    const byKey = keys.take(keyId);
    if (!byKey.allowed || !projects || project === undefined) return byKey;
    const byProject = projects.take(project);
    if (byProject.allowed) {
      return { ...byKey, remaining: Math.min(byKey.remaining, byProject.remaining) };
    }
    keys.give(keyId, 1);
    return byProject;
  };
  return (keyId, project, unused = 0) => {
    const returned = Math.max(0, Math.floor(unused));
    if (returned > 0) {
      keys.give(keyId, returned);
      if (projects && project !== undefined) projects.give(project, returned);
    }
    const first = takeBoth(keyId, project);
    if (!first.allowed) return { ...first, granted: 0 };
    // The extra tokens in one step per bucket: a loop of single takes cost the primary 28-31 ms
    // per lease with a burst of a million.
    const wanted = Math.floor(first.remaining / (2 * workers));
    let extra = keys.takeUpTo(keyId, wanted);
    if (extra > 0 && projects && project !== undefined) {
      const fromProject = projects.takeUpTo(project, extra);
      keys.give(keyId, extra - fromProject);
      extra = fromProject;
    }
    return { ...first, remaining: first.remaining - extra, granted: 1 + extra };
  };
}

/** A running cluster of `engram serve` processes. */
export interface RunningCluster {
  /** Stops every worker (each finishes its requests and jobs) and resolves once all exited. */
  close(): Promise<void>;
}

/**
 * Runs `engram serve` as `workers` processes that share the port (node:cluster): the primary
 * forks them, hands out rate-limit tokens, aggregates metrics and job lookups across them,
 * restarts a worker that dies, and on SIGTERM or SIGINT stops them all and exits.
 */
export async function startServerCluster(
  config: ServerConfig,
  workers: number,
  logger: Logger,
): Promise<RunningCluster> {
  if (!config.insecureLocal) {
    const keys = await openServingKeyStore(config);
    try {
      if (keys.activeCount() === 0) {
        throw new Error(
          `No API keys exist in ${config.dataDir}. Create one with \`engram keys create --project <name>\` (same data directory), or start with --insecure-local for a local trial.`,
        );
      }
    } finally {
      keys.close();
    }
  }
  const takeLease = createRateLimitLeases(config.rateLimit, workers);
  let stopping = false;
  const byIndex = new Map<number, Worker>();
  const ready = new Set<Worker>();
  const send = (worker: Worker, message: Record<string, unknown>) => {
    if (worker.isConnected()) worker.send(message);
  };

  // Questions the primary puts to its listening workers, by id: each answer goes to `onPart`.
  const gatherings = new Map<
    number,
    { pending: number; onPart(part: Envelope): void; done(): void }
  >();
  let gatheringCounter = 0;
  /** Asks every listening worker but `except`; `done` runs once all answered or time ran out. */
  const gather = (
    question: Record<string, unknown>,
    except: Worker | undefined,
    onPart: (part: Envelope) => void,
    done: () => void,
  ) => {
    const asked = [...ready].filter((worker) => worker !== except && worker.isConnected());
    if (asked.length === 0) {
      done();
      return;
    }
    const id = ++gatheringCounter;
    const timer = setTimeout(() => {
      if (gatherings.delete(id)) done();
    }, answerTimeoutMs - 500);
    timer.unref();
    gatherings.set(id, {
      pending: asked.length,
      onPart,
      done: () => {
        clearTimeout(timer);
        gatherings.delete(id);
        done();
      },
    });
    for (const worker of asked) send(worker, { ...question, id });
  };

  const onMessage = (worker: Worker, message: unknown) => {
    if (!isEnvelope(message)) return;
    const answer = (fields: Record<string, unknown>) =>
      send(worker, { engram: 'answer', id: message.id, ...fields });
    switch (message.engram) {
      case 'rate-take':
        answer({
          decision: takeLease(
            String(message.keyId),
            typeof message.project === 'string' ? message.project : undefined,
            typeof message.unused === 'number' ? message.unused : 0,
          ),
        });
        return;
      case 'metrics': {
        const parts: unknown[][] = [];
        gather(
          { engram: 'metrics-collect' },
          undefined,
          (part) => parts.push(part.metrics as unknown[]),
          () => {
            AggregatorRegistry.aggregate(parts as never)
              .metrics()
              .then(
                (text) => answer({ text }),
                (error: Error) => answer({ error: error.message }),
              );
          },
        );
        return;
      }
      case 'job-get': {
        let found: unknown = null;
        gather(
          { engram: 'job-lookup', jobId: message.jobId, project: message.project },
          worker,
          (part) => {
            found ??= part.info ?? null;
          },
          () => answer({ info: found }),
        );
        return;
      }
      case 'part': {
        const gathering = gatherings.get(message.id);
        if (!gathering) return;
        gathering.onPart(message);
        gathering.pending -= 1;
        if (gathering.pending === 0) gathering.done();
        return;
      }
      default:
    }
  };
  cluster.on('message', onMessage);

  const fork = (index: number): Promise<void> =>
    new Promise((resolve, reject) => {
      const worker = cluster.fork({
        [workerIndexVariable]: String(index),
        [workerCountVariable]: String(workers),
      });
      byIndex.set(index, worker);
      let listening = false;
      worker.on('message', (message: unknown) => {
        if (isEnvelope(message) && message.engram === 'ready' && !listening) {
          listening = true;
          ready.add(worker);
          resolve();
        }
      });
      worker.once('exit', (code, signal) => {
        ready.delete(worker);
        if (byIndex.get(index) === worker) byIndex.delete(index);
        if (!listening) {
          reject(new Error(`Server worker ${index} exited with ${code ?? signal} while starting.`));
          return;
        }
        if (stopping) return;
        logger.error({ worker: index, code, signal }, 'server worker died: starting another');
        setTimeout(() => {
          if (!stopping)
            fork(index).catch((error) => logger.error({ err: error }, 'restart failed'));
        }, 1000).unref();
      });
    });

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      stopping = true;
      const running = [...byIndex.values()];
      const exits = running.map(
        (worker) =>
          new Promise<number>((resolve) => {
            if (worker.isDead()) resolve(worker.process.exitCode ?? 0);
            // A worker stopped by the signal before it set up its own shutdown is stopped too.
            else
              worker.once('exit', (code, signal) =>
                resolve(signal === 'SIGTERM' ? 0 : (code ?? 1)),
              );
          }),
      );
      for (const worker of running) if (!worker.isDead()) worker.process.kill('SIGTERM');
      const codes = await Promise.all(exits);
      cluster.off('message', onMessage);
      if (codes.some((code) => code !== 0))
        throw new Error('A server worker failed to stop cleanly.');
      logger.info('stopped');
    })();
    return closing;
  };

  exitOnSignals(logger, 'signal received: stopping the server workers', close);
  try {
    await Promise.all(Array.from({ length: workers }, (_, index) => fork(index)));
  } catch (error) {
    await close().catch(() => {});
    throw error;
  }
  logger.info({ workers, host: config.host }, 'cluster started');

  return { close };
}
