#!/usr/bin/env node
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { backendNames, runBackends } from './backends.js';
import { runBurst } from './burst.js';
import { runCapacity, writeFigures } from './capacity.js';
import type { BenchContext, WorkloadReport } from './context.js';
import { runLambdaColdStart } from './lambda-cold-start.js';
import { runLifecycle } from './lifecycle.js';
import { runPipeline } from './pipeline.js';
import { runQuality } from './quality.js';
import { runQueues } from './queues.js';
import { writeSection } from './report.js';
import { runScale } from './scale.js';
import { runService, serviceBackendNames } from './service.js';
import { parseSize } from './stats.js';

const workloads: Record<string, (context: BenchContext) => Promise<WorkloadReport>> = {
  scale: runScale,
  pipeline: (context) => runPipeline(context, { peers: false }),
  mem0: (context) => runPipeline(context, { peers: true }),
  'mem0-latency': (context) =>
    runPipeline(context, { peers: true, latency: { llmMs: 300, embeddingMs: 20 } }),
  locomo: runQuality,
  service: runService,
  burst: runBurst,
  backends: runBackends,
  capacity: runCapacity,
  lambda: runLambdaColdStart,
  lifecycle: runLifecycle,
  queues: runQueues,
};

const usage = `Usage: pnpm bench [workload ...] [options]

Workloads (default: all of them, in this order):
  scale      the embedded store at 10k, 100k and 1M memories (ingest, search, RSS, file size)
  pipeline   add and search through a local fake OpenAI server: calls, tokens, overhead
  mem0       the same pipeline side by side with mem0 (npm mem0ai/oss and PyPI mem0ai)
  mem0-latency
             the same, with the fake server answering as a hosted API would (LLM 300 ms,
             embeddings 20 ms): what a user waits for, not just overhead
  locomo     retrieval quality on LoCoMo (recall@5 and @10 of the evidence turns)
  service    engram serve under load (autocannon): search and add at 1, 16, 64 connections
  burst      20 parallel adds for one user, model latency 50 and 300 ms (--size: latencies,
             --queries: repetitions), whole adds per scope in turn against reconcile only
  backends   the same data and queries against every vector store that runs here (servers
             started by conformance/services/<name>/launcher.sh), and the graph stores:
             ingest/s, scoped and hybrid query p50/p95, unscoped p95 and recall@10, time
             until a write is searchable (default --size 10k; --smoke: embedded stores only)
  capacity   the capacity model (@engram/capacity) against measurement: 1M predicted from the
             smaller sizes' figures; refreshes its figures file and the tiers of docs/scaling.md
  lambda     the AWS Lambda handler's cold start: import and first request in a fresh process,
             median of N (--queries N, default 10)
  lifecycle  backup and restore of a whole collection (memories/s, peak RSS), expiry cleanup and
             the dedupe pass on the embedded store (default --size 100k)
  queues     asynchronous adds/s through BullMQ, RabbitMQ and SQS (ElasticMQ) with 1 and 4
             workers (--size: jobs, default 10k; servers from REDIS_URL, RABBITMQ_URL,
             SQS_ENDPOINT or their launchers)

Options:
  --size 10k,100k   sizes to run (memories stored); default depends on the workload
  --queries N       searches per measurement (lambda: fresh processes)
  --dimensions N    vector length of the backends and service workloads (default 384)
  --backends a,b    backends to run (default: all): sqlite, lancedb, pgvector, milvus,
                    elasticsearch, weaviate, redis, chroma (vector stores), kuzu, age,
                    neo4j (graph stores)
  --backend NAME    store of the service workload's server (default sqlite): pgvector, redis,
                    milvus, elasticsearch, weaviate, chroma (found or started like --backends)
  --keep-servers    leave the servers the backends and service workloads started running
  --smoke           tiny sizes, seconds per workload: checks that the programs still work
  --no-write        print only; do not update docs/benchmarks.md
  --ingest-only     scale: time the ingest only (no searches; print only)
  --output FILE     write the sections into FILE instead of docs/benchmarks.md
  --help`;

function findRoot(): string {
  let directory = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(directory, 'pnpm-workspace.yaml'))) {
    const parent = dirname(directory);
    if (parent === directory) return process.cwd();
    directory = parent;
  }
  return directory;
}

async function main() {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    console.log(usage);
    return;
  }
  const selected: string[] = [];
  let sizes: number[] | undefined;
  let queries: number | undefined;
  let smoke = false;
  let ingestOnly = false;
  let write = true;
  let output: string | undefined;
  let dimensions: number | undefined;
  let backends: string[] | undefined;
  let keepServers = false;
  let serviceBackend: string | undefined;
  for (let index = 0; index < args.length; index++) {
    const arg = args[index]!;
    if (arg === '--smoke') smoke = true;
    else if (arg === '--no-write') write = false;
    else if (arg === '--ingest-only') ingestOnly = true;
    else if (arg === '--output') output = args[++index];
    else if (arg === '--size' || arg === '--sizes') {
      sizes = (args[++index] ?? '').split(',').map(parseSize);
    } else if (arg.startsWith('--size=')) {
      sizes = arg.slice('--size='.length).split(',').map(parseSize);
    } else if (arg === '--queries') {
      queries = parseSize(args[++index] ?? '');
    } else if (arg === '--dimensions') {
      dimensions = parseSize(args[++index] ?? '');
    } else if (arg === '--backends') {
      backends = (args[++index] ?? '').split(',').filter(Boolean);
    } else if (arg === '--backend') {
      serviceBackend = args[++index] ?? '';
    } else if (arg === '--keep-servers') {
      keepServers = true;
    } else if (arg in workloads || arg === 'all') {
      if (arg !== 'all') selected.push(arg);
    } else {
      console.error(`Unknown argument "${arg}".\n\n${usage}`);
      process.exitCode = 2;
      return;
    }
  }
  const unknownBackend = backends?.find((name) => !backendNames.includes(name));
  if (unknownBackend !== undefined) {
    console.error(`Unknown backend "${unknownBackend}" (known: ${backendNames.join(', ')}).`);
    process.exitCode = 2;
    return;
  }
  if (serviceBackend !== undefined && !serviceBackendNames.includes(serviceBackend)) {
    console.error(
      `Unknown service backend "${serviceBackend}" (known: ${serviceBackendNames.join(', ')}).`,
    );
    process.exitCode = 2;
    return;
  }
  const names = selected.length > 0 ? selected : Object.keys(workloads);
  const root = findRoot();
  // Smoke runs prove the programs work; their numbers mean nothing, so they never reach the doc.
  // Nor do ingest-only runs, whose tables leave the searches out.
  const documentPath = ingestOnly
    ? null
    : output
      ? resolve(output)
      : write && !smoke
        ? resolve(root, 'docs', 'benchmarks.md')
        : null;
  const command = ['pnpm bench', ...args.filter((arg) => arg !== '--no-write')].join(' ');
  for (const name of names) {
    const context: BenchContext = {
      smoke,
      sizes,
      queries,
      dimensions,
      backends,
      keepServers,
      ...(serviceBackend ? { serviceBackend } : {}),
      ingestOnly,
      command,
      documentPath,
      root,
      log: (message) => console.log(message),
    };
    console.log(`\n== ${name}`);
    const report = await workloads[name]!(context);
    console.log(`\n${report.markdown}\n`);
    if (documentPath) {
      writeSection(documentPath, report.key, report.markdown);
      console.log(`(written to ${documentPath}, section "${report.key}")`);
      // The capacity model reads its figures from the project's own benchmark document only.
      if (documentPath === resolve(root, 'docs', 'benchmarks.md')) writeFigures(root, documentPath);
    }
  }
}

await main();
