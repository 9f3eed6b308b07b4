import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createAdaptorServer } from '@hono/node-server';
import { type DestinationStream, type Logger, pino } from 'pino';
import type { ApiKeyStore } from './api-keys.js';
import { type AppContext, runAdd } from './app-context.js';
import { scheduleBackups } from './backup-schedule.js';
import { openServingKeyStore } from './bootstrap-key.js';
import { scheduleHistoryRetention } from './history-retention.js';
import { openJobLeases } from './job-lease.js';
import { createMemoryJobQueue, type JobQueue } from './job-queue.js';
import { createRedisJobStatusStore, createSqliteJobStatusStore } from './job-status-store.js';
import { maintenanceSchedule, scheduleMaintenance } from './maintenance.js';
import { createServerMetrics, type ServerMetrics } from './metrics.js';
import { createProjectMemories, type ProjectMemories } from './project-memories.js';
import { createTransportJobQueue } from './queue-transport.js';
import { createRabbitmqTransport } from './rabbitmq-queue-transport.js';
import { createRateLimiter } from './rate-limiter.js';
import { createRedisJobQueue } from './redis-job-queue.js';
import { createRedisRateLimiter } from './redis-rate-limiter.js';
import { createMetricsApp, createServerApp } from './server-app.js';
import { type ClusterLinks, clusterWorkerIndex, connectClusterWorker } from './server-cluster.js';
import type { ServerConfig } from './server-config.js';
import { exitOnSignals } from './shutdown-signals.js';
import { createSqsTransport } from './sqs-queue-transport.js';
import { startTracing } from './tracing.js';

/** Hides the password of a URL such as `redis://:secret@host:6379`. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = 'redacted';
    return parsed.toString();
  } catch {
    return '[unparsable url]';
  }
}

let standardOutput: DestinationStream | undefined;

/**
 * Standard output for log lines, written once per turn of the event loop: a busy server logs a
 * line per request, and one write of a turn's lines costs a fraction of one write each. Lines
 * still waiting when the process exits are written on the way out.
 */
function batchedStandardOutput(): DestinationStream {
  if (standardOutput) return standardOutput;
  const target = pino.destination({ dest: 1, sync: true });
  let pending: string[] = [];
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (pending.length === 0) return;
    const text = pending.length === 1 ? pending[0]! : pending.join('');
    pending = [];
    target.write(text);
  };
  process.once('exit', flush);
  standardOutput = {
    write(line: string) {
      pending.push(line);
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
  };
  return standardOutput;
}

/** A JSON logger that never writes API keys, passwords or tokens. */
export function createLogger(level: ServerConfig['logLevel']): Logger {
  return pino(
    {
      level,
      base: { service: 'engram', pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: [
          'key',
          'apiKey',
          'authorization',
          'password',
          'secret',
          'token',
          '*.key',
          '*.apiKey',
          '*.authorization',
          '*.password',
          '*.secret',
          '*.token',
          'headers.authorization',
          'headers["x-api-key"]',
          'req.headers.authorization',
          'req.headers["x-api-key"]',
        ],
        censor: '[redacted]',
      },
    },
    batchedStandardOutput(),
  );
}

/** The queue `ENGRAM_QUEUE` names, for the API, the in-process workers and `engram worker`. */
export function createJobQueue(config: ServerConfig, logger?: Logger): JobQueue {
  const { queue } = config;
  const common = {
    attempts: queue.attempts,
    backoffMs: queue.backoffMs,
    ...(logger ? { logger } : {}),
  };
  if (queue.backend === 'memory') return createMemoryJobQueue(common);
  if (queue.backend === 'bullmq') {
    return createRedisJobQueue({
      ...common,
      url: queue.redisUrl!,
      name: queue.name,
      lockDurationMs: queue.lockDurationMs,
    });
  }
  const statuses = queue.redisUrl
    ? createRedisJobStatusStore(queue.redisUrl)
    : createSqliteJobStatusStore(join(config.dataDir, 'jobs.db'));
  const transport =
    queue.backend === 'rabbitmq'
      ? createRabbitmqTransport({
          url: queue.rabbitmqUrl!,
          name: queue.name,
          // Beyond the attempts a failing job makes, room for a few consumers dying on it.
          deliveryLimit: queue.attempts + 3,
        })
      : createSqsTransport({
          ...(queue.sqsEndpoint ? { endpoint: queue.sqsEndpoint } : {}),
          name: queue.name,
          visibilityTimeoutMs: queue.lockDurationMs,
          maxReceiveCount: queue.attempts + 3,
        });
  return createTransportJobQueue({ ...common, transport, statuses });
}

/** How the startup log names the queue (passwords hidden). */
function describeQueue(config: ServerConfig): string {
  const { queue } = config;
  if (queue.backend === 'memory') return 'in-process';
  if (queue.backend === 'bullmq') return `redis ${redactUrl(queue.redisUrl!)}`;
  if (queue.backend === 'rabbitmq') return `rabbitmq ${redactUrl(queue.rabbitmqUrl!)}`;
  return `sqs ${queue.sqsEndpoint ?? 'aws'}`;
}

/**
 * Listens on the metrics port when one is configured (`ENGRAM_METRICS_PORT`); resolves with a
 * function that stops it.
 */
async function listenMetrics(
  context: AppContext,
  port = context.config.metrics.port,
): Promise<() => Promise<void>> {
  const { host } = context.config.metrics;
  if (port === undefined) return async () => {};
  const app = createMetricsApp(context);
  const server = createAdaptorServer({ fetch: app.fetch, hostname: host }) as Server;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  context.logger.info({ host: address.address, port: address.port }, 'metrics listening');
  return () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
}

/** A running `engram serve`. */
export interface RunningServer {
  /** The address it listens on. */
  host: string;
  port: number;
  /** Stops accepting connections, finishes requests and jobs in flight, closes the stores. */
  close(): Promise<void>;
}

/** What the server and other entry points share: logs, metrics, project memories, the queue. */
export interface Shared {
  logger: Logger;
  metrics: ServerMetrics;
  projects: ProjectMemories;
  jobs: JobQueue;
  stopTracing: () => Promise<void>;
}

/** Opens the stores, metrics, queue and tracing of a configuration. */
export async function openShared(config: ServerConfig, logger: Logger): Promise<Shared> {
  const stopTracing = config.otlpEndpoint
    ? await startTracing(config.otlpEndpoint, logger)
    : async () => {};
  let projects: ProjectMemories | undefined;
  const metrics = createServerMetrics(
    () => projects?.counts() ?? Promise.resolve([]),
    config.metrics,
  );
  projects = createProjectMemories(config, metrics);
  const opened = projects;
  if (opened.sizes) metrics.storeSizes = () => opened.sizes!();
  if (opened.userCounts) metrics.userCounts = () => opened.userCounts!();
  const models = await projects.describe();
  const jobs = createJobQueue(config, logger);
  if (jobs.counts) metrics.countJobs = () => jobs.counts!();
  logger.info(
    {
      dataDir: config.dataDir,
      ...models,
      queue: describeQueue(config),
      tracing: config.otlpEndpoint ? 'otlp' : 'off',
    },
    'configuration',
  );
  return { logger, metrics, projects, jobs, stopTracing };
}

/**
 * Starts `engram serve`: validates the configuration, refuses to start without API keys unless
 * `insecureLocal`, listens, and shuts down gracefully on SIGTERM and SIGINT.
 */
export async function startServer(
  config: ServerConfig,
  { handleSignals = true, logger = createLogger(config.logLevel) } = {},
): Promise<RunningServer> {
  let keys: ApiKeyStore | undefined;
  let shared: Shared | undefined;
  try {
    keys = await openServingKeyStore(config);
    if (config.insecureLocal) {
      logger.warn(
        { host: config.host },
        'INSECURE LOCAL MODE: requests without an API key are accepted and use the project "default". Listening on 127.0.0.1 only. Never expose this.',
      );
    } else if (keys.activeCount() === 0) {
      throw new Error(
        `No API keys exist in ${config.dataDir}. Create one with \`engram keys create --project <name>\` (same data directory), set ENGRAM_BOOTSTRAP_KEY (e.g. from a Secret), or start with --insecure-local for a local trial.`,
      );
    }
    shared = await openShared(config, logger);
  } catch (error) {
    keys?.close();
    await shared?.jobs.close(0);
    throw error;
  }
  const { metrics, projects } = shared;
  const workerIndex = clusterWorkerIndex();
  const links: ClusterLinks | undefined =
    workerIndex === undefined ? undefined : connectClusterWorker(workerIndex, metrics.registry);
  const jobs = links ? links.jobs(shared.jobs) : shared.jobs;
  const state = { shuttingDown: false };
  // With Redis every replica takes from the same buckets, of each key and of each project.
  const sharedLimiter = config.queue.redisUrl
    ? createRedisRateLimiter({
        url: config.queue.redisUrl,
        perKey: config.rateLimit,
        perProject: config.rateLimit.project,
      })
    : undefined;
  const context: AppContext = {
    config,
    keys,
    projects,
    jobs,
    metrics,
    logger,
    limiter: createRateLimiter(config.rateLimit),
    // In a cluster the primary keeps the project buckets with the keys'.
    ...(config.rateLimit.project && !sharedLimiter && !links
      ? { projectLimiter: createRateLimiter(config.rateLimit.project) }
      : {}),
    ...(links ? { takeToken: links.takeToken, scrapeMetrics: links.scrapeMetrics } : {}),
    ...(sharedLimiter ? { takeToken: sharedLimiter.take } : {}),
    state,
  };
  await jobs.startWorkers(config.queue.inProcessWorkers, (data, job) =>
    runAdd(context, data, 'async', job),
  );
  const stopMetrics = await listenMetrics(context);
  // One process of a cluster prunes history, under the lease every replica and worker takes.
  const retentionEveryMs = maintenanceSchedule(config.env, config).get('history-retention');
  const leases =
    retentionEveryMs === undefined || (links && links.index > 0)
      ? undefined
      : openJobLeases(config, (name, error) =>
          logger.warn({ err: error, job: name }, 'job lease lost: another process may take over'),
        );
  const stopRetention = leases
    ? scheduleHistoryRetention(context, retentionEveryMs, {
        leases,
        registry: metrics.registry,
      })
    : () => {};
  const app = createServerApp(context);
  const server = (
    config.tls
      ? createAdaptorServer({
          fetch: app.fetch,
          hostname: config.host,
          createServer: createHttpsServer,
          serverOptions: {
            cert: readFileSync(config.tls.cert),
            key: readFileSync(config.tls.key),
            minVersion: config.tls.minVersion,
          },
        })
      : createAdaptorServer({ fetch: app.fetch, hostname: config.host })
  ) as Server;
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  logger.info(
    {
      host: address.address,
      port: address.port,
      ...(config.tls ? { tls: config.tls.minVersion } : {}),
    },
    'listening',
  );
  links?.ready();

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      state.shuttingDown = true;
      stopRetention();
      logger.info('shutting down: finishing requests in flight');
      const timeout = setTimeout(() => {
        logger.warn('shutdown timeout reached: closing remaining connections');
        server.closeAllConnections();
      }, config.shutdownTimeoutMs);
      timeout.unref();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await closed;
      clearTimeout(timeout);
      await stopMetrics();
      await jobs.close(config.shutdownTimeoutMs);
      await projects.close();
      keys.close();
      await sharedLimiter?.close();
      await leases?.close();
      await shared.stopTracing();
      logger.info('stopped');
    })();
    return closing;
  };

  if (handleSignals) exitOnSignals(logger, 'signal received', close);
  return { host: address.address, port: address.port, close };
}

/** A running `engram worker`. */
export interface RunningWorker {
  close(): Promise<void>;
}

/**
 * Starts `engram worker`: takes asynchronous adds from the Redis queue (`REDIS_URL`) until
 * SIGTERM or SIGINT, then finishes the jobs it holds.
 */
export async function startWorker(
  config: ServerConfig,
  {
    handleSignals = true,
    logger = createLogger(config.logLevel),
    concurrency = 2,
    metricsPort,
  }: {
    handleSignals?: boolean;
    logger?: Logger;
    concurrency?: number;
    /**
     * Port of the worker's own `/metrics` (`--metrics-port`). Default:
     * `ENGRAM_WORKER_METRICS_PORT`, else the configuration's metrics port.
     */
    metricsPort?: number;
  } = {},
): Promise<RunningWorker> {
  if (config.queue.backend === 'memory') {
    throw new Error(
      'engram worker takes jobs from a shared queue: set REDIS_URL (e.g. redis://127.0.0.1:6379), or ENGRAM_QUEUE=rabbitmq with RABBITMQ_URL, or ENGRAM_QUEUE=sqs (SQS_ENDPOINT for an SQS-compatible server), the same as the servers that queue them.',
    );
  }
  const shared = await openShared(config, logger);
  const { metrics, projects, jobs } = shared;
  const context = { config, projects, metrics, logger } as AppContext;
  await jobs.ping();
  const stopMetrics = await listenMetrics(
    context,
    metricsPort ?? config.metrics.workerPort ?? config.metrics.port,
  );
  await jobs.startWorkers(concurrency, async (data, job) => {
    const started = performance.now();
    const result = await runAdd(context, data, 'async', job);
    logger.info(
      {
        project: data.project,
        changes: result.results.length,
        durationMs: Math.round(performance.now() - started),
      },
      'job done',
    );
    return result;
  });
  // Scheduled maintenance (ENGRAM_MAINTENANCE_SCHEDULE): the projects come from the API keys.
  const schedule = maintenanceSchedule(config.env, config);
  const keys = schedule.size > 0 ? await openServingKeyStore(config) : undefined;
  // One run per interval across every worker: leases in Redis, else beside the data directory.
  const leases = openJobLeases(config, (name, error) =>
    logger.warn({ err: error, job: name }, 'job lease lost: another worker may take the job over'),
  );
  const stopMaintenance = keys
    ? scheduleMaintenance({ config, keys, projects, logger }, schedule, metrics.registry, {
        leases,
      })
    : () => {};
  logger.info(
    { concurrency, maintenance: Object.fromEntries(schedule), leases: leases.kind },
    'worker started',
  );
  const stopBackups = scheduleBackups(context, process.env, leases);
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      stopBackups();
      logger.info('worker stopping: finishing jobs in hand');
      stopMaintenance();
      await stopMetrics();
      await jobs.close(config.shutdownTimeoutMs);
      await projects.close();
      keys?.close();
      await leases.close();
      await shared.stopTracing();
      logger.info('worker stopped');
    })();
    return closing;
  };
  if (handleSignals) {
    const onSignal = () => {
      close().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  }
  return { close };
}
