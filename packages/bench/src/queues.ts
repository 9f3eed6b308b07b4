import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createHashEmbedder, Memory } from '@engram/core';
import { createJobQueue, loadServerConfig } from '@engram/server';
import { createSqliteStore } from '@engram/sqlite';
import type { BenchContext, WorkloadReport } from './context.js';
import { loadLine, markdownTable, runHeader } from './report.js';
import { formatCount, formatRate } from './stats.js';

/** A queue backend and how its server is had: a URL from the environment, else a launcher. */
interface QueueBackend {
  name: 'bullmq' | 'rabbitmq' | 'sqs';
  label: string;
  /** The variable naming its server, and the one the configuration reads. */
  variable: 'REDIS_URL' | 'RABBITMQ_URL' | 'SQS_ENDPOINT';
  /** The launcher, relative to the repository root, and what it starts. */
  launcher: string;
  server: string;
}

const backends: QueueBackend[] = [
  {
    name: 'bullmq',
    label: 'BullMQ (Redis)',
    variable: 'REDIS_URL',
    launcher: 'packages/server/scripts/redis.sh',
    server: "Debian's redis-server",
  },
  {
    name: 'rabbitmq',
    label: 'RabbitMQ',
    variable: 'RABBITMQ_URL',
    launcher: 'conformance/services/rabbitmq/launcher.sh',
    server: "Debian's rabbitmq-server",
  },
  {
    name: 'sqs',
    label: 'SQS (ElasticMQ)',
    variable: 'SQS_ENDPOINT',
    launcher: 'conformance/services/elasticmq/launcher.sh',
    server: 'ElasticMQ from Maven Central',
  },
];

/** The environment selecting a backend, starting its server with its launcher when needed. */
function environmentOf(
  backend: QueueBackend,
  root: string,
): { env: Record<string, string>; server: string } {
  const given = process.env[backend.variable];
  const url =
    given ??
    execFileSync('bash', [backend.launcher, 'start'], {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      timeout: 20 * 60 * 1000,
    })
      .trim()
      .split('\n')
      .at(-1)!
      .replace(/^REDIS_URL=/, '');
  if (backend.name === 'sqs') {
    // ElasticMQ takes any credentials; the SDK needs some to sign requests.
    process.env.AWS_ACCESS_KEY_ID ??= 'bench';
    process.env.AWS_SECRET_ACCESS_KEY ??= 'bench';
    process.env.AWS_REGION ??= 'us-east-1';
  }
  return {
    env: { ENGRAM_QUEUE: backend.name, [backend.variable]: url },
    server: given ? backend.variable : backend.server,
  };
}

interface QueueResult {
  backend: string;
  workers: number;
  jobs: number;
  enqueuePerSecond: number;
  addsPerSecond: number;
}

/**
 * `jobs` asynchronous adds (`infer: false`) through one queue: queued as the API queues them,
 * then taken by `workers` concurrent workers that run the add on an `@engram/sqlite` store with
 * the hash embedder. Adds/s is measured from the first worker start to the last add applied.
 */
async function measure(
  env: Record<string, string>,
  jobs: number,
  workers: number,
): Promise<Omit<QueueResult, 'backend'>> {
  const directory = mkdtempSync(join(tmpdir(), 'engram-bench-queues-'));
  const loaded = loadServerConfig({ dataDir: directory }, { ...env, ENGRAM_JOB_LOCK_MS: '30000' });
  const config = {
    ...loaded,
    queue: { ...loaded.queue, name: `engram-bench-${randomUUID().slice(0, 8)}` },
  };
  const queue = createJobQueue(config);
  const memory = new Memory({
    vectorStore: createSqliteStore({ path: join(directory, 'engram.db') }),
    embedder: createHashEmbedder(),
    llm: null,
  });
  try {
    await queue.ping();
    const enqueueStart = performance.now();
    const batch = 50;
    for (let offset = 0; offset < jobs; offset += batch) {
      await Promise.all(
        Array.from({ length: Math.min(batch, jobs - offset) }, (_, index) =>
          queue.enqueue({
            project: 'bench',
            messages: `Job ${offset + index} says the user likes item ${offset + index}`,
            options: { userId: `user-${(offset + index) % 100}`, infer: false },
          }),
        ),
      );
    }
    const enqueueSeconds = (performance.now() - enqueueStart) / 1000;
    let done = 0;
    let finish: () => void = () => {};
    const finished = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const start = performance.now();
    await queue.startWorkers(workers, async (data, job) => {
      const result = await memory.add(data.messages, {
        ...data.options,
        idempotencyKey: `job:${job.id}`,
      });
      done += 1;
      if (done === jobs) finish();
      return result;
    });
    await finished;
    const seconds = (performance.now() - start) / 1000;
    return {
      workers,
      jobs,
      enqueuePerSecond: jobs / enqueueSeconds,
      addsPerSecond: jobs / seconds,
    };
  } finally {
    await queue.close(5000);
    await memory.close();
    rmSync(directory, { recursive: true, force: true });
  }
}

/**
 * Queue throughput: adds/s through BullMQ, RabbitMQ and SQS (ElasticMQ) with 1 and 4 workers
 * (`infer: false`, hash embedder, one `@engram/sqlite` store), and how fast the API side queues.
 */
export async function runQueues(context: BenchContext): Promise<WorkloadReport> {
  const loadBefore = loadLine();
  const jobs = context.smoke ? 200 : (context.sizes?.[0] ?? 10_000);
  const results: QueueResult[] = [];
  const servers: string[] = [];
  for (const backend of backends) {
    const { env, server } = environmentOf(backend, context.root);
    servers.push(`${backend.label}: ${server}`);
    for (const workers of [1, 4]) {
      const result = await measure(env, jobs, workers);
      results.push({ backend: backend.name, ...result });
      context.log(
        `  ${backend.label}, ${workers} worker${workers === 1 ? '' : 's'}: ${formatRate(result.addsPerSecond)} adds, queued at ${formatRate(result.enqueuePerSecond)}`,
      );
    }
  }
  const markdown = [
    '## Queues: asynchronous adds through BullMQ, RabbitMQ and SQS',
    '',
    runHeader(context.command, loadBefore),
    '',
    `${formatCount(jobs)} asynchronous adds (\`infer: false\`, one message each, 100 users) queued through each queue as the API queues them (50 at a time), then taken by 1 and by 4 concurrent workers in one process, each running the add with its job id as idempotency key on one \`@engram/sqlite\` store with the hash embedder. **adds/s**: from the workers' start to the last add applied. **queued/s**: the API side. Job states live in BullMQ itself, and in a SQLite file beside the data directory for RabbitMQ and SQS. Servers: ${servers.join('; ')}.`,
    '',
    markdownTable(
      ['queue', 'workers', 'adds/s', 'queued/s'],
      results.map((result) => [
        backends.find((backend) => backend.name === result.backend)!.label,
        String(result.workers),
        formatRate(result.addsPerSecond),
        formatRate(result.enqueuePerSecond),
      ]),
    ),
    '',
    `<!-- queues-data: ${JSON.stringify(
      results.map((result) => ({
        backend: result.backend,
        workers: result.workers,
        jobs: result.jobs,
        addsPerSecond: Math.round(result.addsPerSecond),
      })),
    )} -->`,
  ].join('\n');
  return { key: 'queues', markdown };
}
