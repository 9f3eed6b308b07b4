import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { createHashEmbedder, type VectorRecord } from '@engram/core';
import { createSqliteStore } from '@engram/sqlite';
import autocannon from 'autocannon';
import { loadAdapterExport, openBackendTarget } from './backend-servers.js';
import { type VectorBackend, vectorBackends } from './backends.js';
import type { BenchContext, WorkloadReport } from './context.js';
import { createPipelineData, type PipelineData, userRecord } from './pipeline-data.js';
import { processTreeCpuSeconds } from './process-cpu.js';
import { loadLine, markdownTable, readSection, runHeader } from './report.js';
import { formatCount, formatMs, percentile } from './stats.js';

const project = 'bench';
const collection = `p_${project}`;
/** Lets the benchmark read the server's metrics on the API port. */
const metricsToken = 'engram-bench-metrics-token';
const connections = [1, 16, 64];
/** Target of the workload: searches per second (500 from 1M memories on), with p95 under 50 ms. */
const targetRate = (size: number) => (size >= 1_000_000 ? 500 : 1000);
const targetP95 = 50;

/** The `engram` command of this workspace (`@engram/cli`). */
function cliPath(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('@engram/cli/package.json')), 'dist', 'bin.js');
}

/** The store the server runs on: the embedded default, or a backend's server at `url`. */
interface ServiceStore {
  backend: VectorBackend;
  url?: string;
  /** Vector length of the hash embedder (`ENGRAM_EMBEDDER=hash:<n>`); 384 by default. */
  dimensions: number;
}

/**
 * Backends `--backend` accepts: the embedded default, those with a server launcher, and the
 * variants (pgvector-ivfflat) that say which options the server's store gets.
 */
export const serviceBackendNames = vectorBackends
  .filter((backend) => backend.name === backend.adapter || backend.serverOptions !== undefined)
  .filter((backend) => backend.name === 'sqlite' || backend.service !== undefined)
  .map((backend) => backend.name);

/** `ENGRAM_EMBEDDER` of the server: the hash embedder at the run's vector length. */
export function hashEmbedderSetting(dimensions: number): string {
  return dimensions === 384 ? 'hash' : `hash:${dimensions}`;
}

/** The server's configuration file (`ENGRAM_CONFIG`), written when its store takes options. */
const serverConfigPath = (dataDir: string) => join(dataDir, 'engram.json');

/**
 * Writes the configuration file when the backend's store takes options (`vectorStore.options`);
 * the environment says everything else.
 */
function writeServerConfig(dataDir: string, store: ServiceStore): void {
  if (!store.backend.serverOptions) return;
  const config = {
    vectorStore: { provider: store.backend.adapter, options: store.backend.serverOptions },
  };
  writeFileSync(serverConfigPath(dataDir), `${JSON.stringify(config, null, 2)}\n`);
}

/** The environment of the server and of `engram keys`: offline models, no limiter in the way. */
function serverEnvironment(dataDir: string, store: ServiceStore): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(env)) {
    if (name.startsWith('ENGRAM_') || name.startsWith('OPENAI_') || name.startsWith('OTEL_'))
      delete env[name];
  }
  return {
    ...env,
    ENGRAM_HOME: dataDir,
    ENGRAM_LLM: 'none',
    ENGRAM_EMBEDDER: hashEmbedderSetting(store.dimensions),
    // Far above what two cores can serve: the rate limiter must not be what is measured.
    ENGRAM_RATE_LIMIT_RPS: '1000000',
    ENGRAM_RATE_LIMIT_BURST: '1000000',
    ENGRAM_METRICS_TOKEN: metricsToken,
    ...(store.url
      ? { ENGRAM_VECTOR_STORE: store.backend.adapter, ENGRAM_VECTOR_STORE_URL: store.url }
      : {}),
    ...(store.backend.serverOptions ? { ENGRAM_CONFIG: serverConfigPath(dataDir) } : {}),
    // ENGRAM_BENCH_WORKERS=<n>: server processes (default: the server's own, one per core).
    ...(process.env.ENGRAM_BENCH_WORKERS
      ? { ENGRAM_WORKERS: process.env.ENGRAM_BENCH_WORKERS }
      : {}),
    // ENGRAM_BENCH_VECTOR_CACHE_MB=<n>: each server process's scope cache (default: the store's).
    ...(process.env.ENGRAM_BENCH_VECTOR_CACHE_MB
      ? { ENGRAM_VECTOR_CACHE_MB: process.env.ENGRAM_BENCH_VECTOR_CACHE_MB }
      : {}),
  };
}

/** The records of the preload, `batchSize` at a time, embedded with the offline hash embedder. */
async function* preloadBatches(
  data: PipelineData,
  size: number,
  batchSize: number,
  dimensions: number,
) {
  const embedder = createHashEmbedder({ dimensions });
  const now = new Date().toISOString();
  for (let offset = 0; offset < size; offset += batchSize) {
    const items = [];
    for (let index = offset; index < Math.min(size, offset + batchSize); index++)
      items.push(data.memory(index));
    const { embeddings } = await embedder.embed({
      values: items.map((item) => item.text),
      purpose: 'document',
    });
    yield items.map((item, index) => userRecord(randomUUID(), item, embeddings[index]!, now));
  }
}

/** The store a preload writes through: `ensureCollection`, `upsert`, `close`. */
interface PreloadStore {
  ensureCollection(options: { collection: string; dimensions: number }): Promise<void>;
  upsert(options: { collection: string; records: VectorRecord[] }): Promise<void>;
  dropCollection(options: { collection: string }): Promise<void>;
  /** The store's approximate index, built (SQLite, pgvector) before the server starts. */
  buildIndex?(options: { collection: string }): Promise<unknown>;
  close(): Promise<void>;
}

/**
 * Stores the memories the way the server keeps them: collection `p_<project>`, the same offline
 * hash embedder (`ENGRAM_EMBEDDER=hash`); on the embedded store in
 * `<data-dir>/projects/<project>.db`, else in the backend's server (emptied first). Written
 * through the store path (`store.upsert` of embedded records, no history events), which
 * prepares 1M memories in minutes where `Memory.import` or HTTP would take far longer.
 */
async function preload(
  context: BenchContext,
  dataDir: string,
  data: PipelineData,
  size: number,
  service: ServiceStore,
): Promise<number | undefined> {
  let store: PreloadStore;
  if (service.url) {
    const factory = await loadAdapterExport<(options: Record<string, unknown>) => PreloadStore>(
      context.root,
      service.backend.adapter,
      service.backend.factory,
    );
    store = factory(service.backend.options({ url: service.url, directory: dataDir }));
    await store.dropCollection({ collection }).catch(() => {});
  } else {
    const directory = join(dataDir, 'projects');
    mkdirSync(directory, { recursive: true });
    store = createSqliteStore({ path: join(directory, `${project}.db`), scopeLock: false });
  }
  const batchSize = createHashEmbedder().maxEmbeddingsPerCall;
  try {
    await store.ensureCollection({ collection, dimensions: service.dimensions });
    let stored = 0;
    for await (const records of preloadBatches(data, size, batchSize, service.dimensions)) {
      await store.upsert({ collection, records });
      stored += records.length;
      if (stored % 100_000 < batchSize && stored < size) {
        context.log(`  stored ${formatCount(stored)} of ${formatCount(size)}...`);
      }
    }
    // Built now, so that no background build (the SQLite store starts one in a worker thread of
    // the server when the index is missing) competes with the timed rows for the 2 cores.
    if (!store.buildIndex) return undefined;
    context.log('  building the index of unscoped queries...');
    const started = performance.now();
    await store.buildIndex({ collection });
    return (performance.now() - started) / 1000;
  } finally {
    await store.close();
  }
}

/** Removes the benchmark's collection from a backend's server. */
async function dropServiceCollection(context: BenchContext, service: ServiceStore) {
  if (!service.url) return;
  const factory = await loadAdapterExport<(options: Record<string, unknown>) => PreloadStore>(
    context.root,
    service.backend.adapter,
    service.backend.factory,
  );
  const store = factory(service.backend.options({ url: service.url, directory: '' }));
  try {
    await store.dropCollection({ collection });
  } finally {
    await store.close();
  }
}

/**
 * Lets the server import an adapter it does not depend on (`@engram/<adapter>`), as an
 * application would: from `node_modules` of its working directory, here `dataDir`.
 */
function linkAdapter(root: string, dataDir: string, adapter: string) {
  const scope = join(dataDir, 'node_modules', '@engram');
  mkdirSync(scope, { recursive: true });
  const link = join(scope, adapter);
  if (!existsSync(link)) symlinkSync(join(root, 'adapters', adapter), link, 'dir');
}

async function createKey(dataDir: string, store: ServiceStore): Promise<string> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [cliPath(), 'keys', 'create', '--project', project, '--name', 'bench', '--json'],
    { env: serverEnvironment(dataDir, store), cwd: dataDir },
  );
  const created = JSON.parse(stdout) as { key?: string };
  if (!created.key) throw new Error(`engram keys create printed no key: ${stdout}`);
  return created.key;
}

interface Server {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** `engram serve` in its own process; its JSON log goes to a file, as in production. */
async function startServer(dataDir: string, store: ServiceStore): Promise<Server> {
  const logPath = join(dataDir, 'server.log');
  const log = openSync(logPath, 'a');
  // ENGRAM_BENCH_PROFILE=<dir>: the server writes a V8 CPU profile there when it stops.
  const profile = process.env.ENGRAM_BENCH_PROFILE;
  const child = spawn(
    process.execPath,
    [
      ...(profile ? ['--cpu-prof', '--cpu-prof-dir', profile] : []),
      cliPath(),
      'serve',
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--data-dir',
      dataDir,
    ],
    { env: serverEnvironment(dataDir, store), cwd: dataDir, stdio: ['ignore', log, log] },
  );
  closeSync(log);
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const deadline = Date.now() + 30_000;
  let url: string | undefined;
  while (!url) {
    const early = await Promise.race([
      exited.then((code) => ({ code })),
      new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 100)),
    ]);
    const text = readFileSync(logPath, 'utf8');
    if (early) throw new Error(`engram serve exited with ${early.code}:\n${text.slice(-2000)}`);
    const match = /"port":(\d+)[^\n]*"msg":"listening"/.exec(text);
    if (match) url = `http://127.0.0.1:${match[1]}`;
    else if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`engram serve did not start in 30 s:\n${text.slice(-2000)}`);
    }
  }
  return {
    url,
    child,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

interface LoadResult {
  route: 'search' | 'add';
  connections: number;
  seconds: number;
  completed: number;
  rate: number;
  p50: number;
  p95: number;
  p99: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  /** CPU time of the server's processes per completed request, ms (Linux only). */
  serverCpuMs?: number;
}

/** Each run draws its bodies from its own range, so no two rows send the same requests. */
let requestCounter = 0;

/** One autocannon run; every request gets its own body (a random user and text). */
async function load(
  url: string,
  key: string,
  route: 'search' | 'add',
  count: number,
  seconds: number,
  body: (index: number) => unknown,
  serverPid?: number,
): Promise<LoadResult> {
  let next = requestCounter;
  requestCounter += 10_000_000;
  const latencies: number[] = [];
  const cpuBefore = serverPid === undefined ? undefined : processTreeCpuSeconds(serverPid);
  const started = performance.now();
  let instance!: autocannon.Instance;
  const finished = new Promise<autocannon.Result>((resolve, reject) => {
    instance = autocannon(
      {
        url: `${url}${route === 'search' ? '/v1/search' : '/v1/memories'}`,
        connections: count,
        duration: seconds,
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        requests: [
          {
            setupRequest: (request) => ({ ...request, body: JSON.stringify(body(next++)) }),
          },
        ],
      },
      (error, result) => (error ? reject(error) : resolve(result)),
    );
  });
  instance.on(
    'response',
    (_client: unknown, _status: number, _bytes: number, responseTime: number) => {
      latencies.push(responseTime);
    },
  );
  const result = await finished;
  const elapsed = (performance.now() - started) / 1000;
  const cpuAfter = serverPid === undefined ? undefined : processTreeCpuSeconds(serverPid);
  const serverCpuMs =
    cpuBefore !== undefined && cpuAfter !== undefined && latencies.length > 0
      ? ((cpuAfter - cpuBefore) * 1000) / latencies.length
      : undefined;
  return {
    ...(serverCpuMs === undefined ? {} : { serverCpuMs }),
    route,
    connections: count,
    seconds: result.duration,
    completed: latencies.length,
    rate: latencies.length / elapsed,
    p50: percentile(latencies, 0.5),
    p95: percentile(latencies, 0.95),
    p99: percentile(latencies, 0.99),
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
  };
}

/** The server's CPU time per request of a row, or "n/a" where `/proc` is not there to read. */
function cpuCell(result: LoadResult): string {
  return result.serverCpuMs === undefined ? 'n/a' : result.serverCpuMs.toFixed(2);
}

/** Sum and count of a Prometheus histogram, from the server's `/metrics`. */
async function histogram(url: string, name: string): Promise<{ sum: number; count: number }> {
  const response = await fetch(`${url}/metrics`, {
    headers: { authorization: `Bearer ${metricsToken}` },
  });
  const text = await response.text();
  const value = (suffix: string) => {
    let total = 0;
    for (const line of text.split('\n')) {
      if (line.startsWith(`${name}_${suffix}`)) total += Number(line.split(' ').pop());
    }
    return total;
  };
  return { sum: value('sum'), count: value('count') };
}

/**
 * Workload 5: `engram serve` on the embedded store, loaded from this process with autocannon at
 * 1, 16 and 64 connections, for `POST /v1/search` and `POST /v1/memories` (`infer: false`).
 */
export async function runService(context: BenchContext): Promise<WorkloadReport> {
  const loadBefore = loadLine();
  const size = context.sizes?.at(-1) ?? (context.smoke ? 2000 : 100_000);
  const seconds = context.smoke ? 1 : 10;
  const users = Math.max(1, Math.round(size / 100));
  const warmupSeconds = context.smoke ? 1 : Math.max(3, Math.round(users / 500));
  const workers = Number(process.env.ENGRAM_BENCH_WORKERS ?? availableParallelism());
  const dimensions = context.dimensions ?? 384;
  const data = createPipelineData({ users });
  const dataDir = mkdtempSync(join(tmpdir(), 'engram-bench-service-'));
  const results: LoadResult[] = [];
  const notes: string[] = [];
  const backend = vectorBackends.find(
    (candidate) => candidate.name === (context.serviceBackend ?? 'sqlite'),
  );
  if (!backend || !serviceBackendNames.includes(backend.name)) {
    throw new Error(
      `The service workload runs on ${serviceBackendNames.join(', ')}, not "${context.serviceBackend}".`,
    );
  }
  const target = await openBackendTarget(context, backend.service, backend.name);
  if ('unavailable' in target) {
    rmSync(dataDir, { recursive: true, force: true });
    return serviceReport(
      context,
      serviceBlock(backend.name, size, dimensions),
      `${runHeader(context.command, loadBefore)}\n\nNot run on ${backend.name}: the server could not be started (${target.unavailable}).`,
    );
  }
  const store: ServiceStore = { backend, dimensions, ...(target.url ? { url: target.url } : {}) };
  let server: Server | undefined;
  let indexSeconds: number | undefined;
  try {
    if (store.url) linkAdapter(context.root, dataDir, backend.adapter);
    writeServerConfig(dataDir, store);
    context.log(
      `service: storing ${formatCount(size)} memories of ${formatCount(users)} users (${backend.name}${store.url ? `, ${target.origin} server` : ''})`,
    );
    const started = performance.now();
    indexSeconds = await preload(context, dataDir, data, size, store);
    context.log(
      `  stored in ${((performance.now() - started) / 1000).toFixed(1)} s${indexSeconds === undefined ? '' : `, ${indexSeconds.toFixed(1)} s of them building the index`}`,
    );
    const key = await createKey(dataDir, store);
    server = await startServer(dataDir, store);
    context.log(`  engram serve listening at ${server.url} (pid ${server.child.pid})`);
    const search = (index: number) => {
      const question = data.question(index);
      return { query: question.query, userId: question.userId, limit: 10 };
    };
    const add = (index: number) => {
      const fact = data.memory(10_000_000 + index);
      return { messages: fact.text, userId: fact.userId, infer: false };
    };
    // Warm-up: opens the project's store, fills caches, compiles the hot paths; longer with more
    // users, whose scopes each server process caches as it first searches them.
    await load(server.url, key, 'search', 4, warmupSeconds, search);
    const before = await histogram(server.url, 'engram_search_latency_seconds');
    for (const count of connections) {
      const result = await load(
        server.url,
        key,
        'search',
        count,
        seconds,
        search,
        server.child.pid,
      );
      context.log(
        `  search x${count}: ${result.rate.toFixed(0)}/s, p50 ${formatMs(result.p50)} / p95 ${formatMs(result.p95)} / p99 ${formatMs(result.p99)} ms, server CPU ${cpuCell(result)} ms/request, non-2xx ${result.non2xx}`,
      );
      results.push(result);
    }
    const after = await histogram(server.url, 'engram_search_latency_seconds');
    const engine =
      after.count > before.count
        ? (after.sum - before.sum) / (after.count - before.count)
        : Number.NaN;
    const perSearch = `- Time inside \`Memory.search\` (server metric \`engram_search_latency_seconds\`, mean over the search rows): ${formatMs(engine * 1000)} ms per search.`;
    notes.push(
      store.url
        ? `${perSearch} It includes the round trips to the ${backend.service ?? backend.name} server, during which each of the ${workers} server process${workers === 1 ? '' : 'es'} serves other requests.`
        : `${perSearch} It is the time from the call to its answer: a search waits between its steps (the embedding, the vector and keyword queries) while its process serves other requests, so with many connections it is longer than the CPU time of one search. Each of the ${workers} server process${workers === 1 ? '' : 'es'} answers on one Node.js thread, and the SQLite queries run on it.`,
    );
    for (const count of connections) {
      const result = await load(server.url, key, 'add', count, seconds, add, server.child.pid);
      context.log(
        `  add x${count}: ${result.rate.toFixed(0)}/s, p50 ${formatMs(result.p50)} / p95 ${formatMs(result.p95)} / p99 ${formatMs(result.p99)} ms, server CPU ${cpuCell(result)} ms/request, non-2xx ${result.non2xx}`,
      );
      results.push(result);
    }
  } finally {
    await server?.stop();
    await dropServiceCollection(context, store).catch((error: Error) => {
      context.log(`  ${backend.name}: dropping ${collection} failed: ${error.message}`);
    });
    await target.release().catch((error: Error) => {
      context.log(`  ${backend.name}: stopping the server failed: ${error.message}`);
    });
    rmSync(dataDir, { recursive: true, force: true });
  }

  const failed = results.some(
    (result) =>
      result.non2xx > 0 || result.errors > 0 || result.timeouts > 0 || result.completed === 0,
  );
  if (context.smoke && failed) {
    process.exitCode = 1;
    context.log('smoke: some requests failed (see the table)');
  }
  const searches = results.filter((result) => result.route === 'search');
  const met = searches.find((result) => result.rate >= targetRate(size) && result.p95 < targetP95);
  const best = [...searches].sort((left, right) => right.rate - left.rate)[0];
  const verdict = met
    ? `met: ${met.rate.toFixed(0)} searches/s at p95 ${formatMs(met.p95)} ms with ${met.connections} connections`
    : best
      ? `not met: at most ${best.rate.toFixed(0)} searches/s (p95 ${formatMs(best.p95)} ms, ${best.connections} connections)`
      : 'not measured';
  const table = markdownTable(
    [
      'route',
      'connections',
      'requests/s',
      'p50 ms',
      'p95 ms',
      'p99 ms',
      'server CPU ms/request',
      'requests',
      'non-2xx',
      'errors (timeouts)',
    ],
    results.map((result) => [
      result.route === 'search' ? 'POST /v1/search' : 'POST /v1/memories (infer: false)',
      String(result.connections),
      result.rate.toFixed(0),
      formatMs(result.p50),
      formatMs(result.p95),
      formatMs(result.p99),
      cpuCell(result),
      String(result.completed),
      String(result.non2xx),
      `${result.errors} (${result.timeouts})`,
    ]),
  );
  const markdown = [
    runHeader(context.command, loadBefore),
    '',
    `${formatCount(size)} memories of ${formatCount(users)} users${dimensions === 384 ? '' : ` (${dimensions.toLocaleString('en-US')} dimensions)`} ${store.url ? `in ${backend.name} (\`ENGRAM_VECTOR_STORE=${backend.adapter}\`${backend.serverOptions ? ` with \`vectorStore.options\` ${JSON.stringify(backend.serverOptions)} in the configuration file` : ''}, ${/^[aeiou]/.test(target.origin) ? 'an' : 'a'} ${target.origin} server; ${backend.settings})` : `in the embedded store (\`projects/${project}.db\`)`}, \`engram serve\` (${workers} process${workers === 1 ? '' : 'es'}, \`ENGRAM_WORKERS\`) with \`ENGRAM_LLM=none\`, \`ENGRAM_EMBEDDER=${hashEmbedderSetting(dimensions)}\`, default logging (JSON lines to a file)${process.env.ENGRAM_BENCH_VECTOR_CACHE_MB ? `, \`ENGRAM_VECTOR_CACHE_MB=${process.env.ENGRAM_BENCH_VECTOR_CACHE_MB}\` (each process's scope cache)` : ''}${indexSeconds === undefined ? '' : `; the store's index of unscoped queries built before the server starts (\`store.buildIndex\`, ${indexSeconds.toFixed(0)} s), so that no background build competes with the rows`}; autocannon in another process, ${warmupSeconds} s of searches to warm up, then ${seconds} s per row, a random user and question per search (\`limit: 10\`), a new fact per add (adds run after the searches and grow the store).`,
    '',
    table,
    '',
    `Target, at least ${targetRate(size).toLocaleString('en-US')} searches/s at p95 under ${targetP95} ms: ${verdict}.`,
    '',
    "- Server CPU ms/request: the CPU time of the server's processes during the row (from `/proc`) divided by the requests answered: what a request costs the server, whatever else the machine ran.",
    ...notes,
  ].join('\n');
  return serviceReport(context, serviceBlock(backend.name, size, dimensions), markdown);
}

const backendMarkers = (name: string) =>
  [`<!-- service-backend:${name} -->`, `<!-- /service-backend:${name} -->`] as const;

/**
 * The service section with this run's rows in it: the embedded store's rows first (as before
 * backends were measured), then one marked block per other backend, each kept from the
 * document until that backend runs again.
 */
export function mergeServiceSection(
  previous: string,
  backend: string,
  markdown: string,
  heading = `On ${backend}`,
): string {
  const blocks = new Map<string, string>();
  let main = previous;
  const pattern =
    /<!-- service-backend:([a-z0-9-]+) -->\n?([\s\S]*?)\n?<!-- \/service-backend:\1 -->/g;
  for (const match of previous.matchAll(pattern)) {
    blocks.set(match[1]!, match[2]!.trim());
    main = main.replace(match[0], '');
  }
  if (backend === 'sqlite') main = markdown;
  else blocks.set(backend, `### ${heading}\n\n${markdown.trim()}`);
  const marked = [...blocks].map(([name, body]) => {
    const [start, end] = backendMarkers(name);
    return `${start}\n${body}\n${end}`;
  });
  return [main.trim(), ...marked].filter(Boolean).join('\n\n');
}

/**
 * The block a run's rows go to: the backend's own at 100k x 384, else one per size and vector
 * length (`pgvector-ivfflat-1m-1536`), so that a run at another scale keeps the 100k rows.
 */
export function serviceBlock(
  backend: string,
  size: number,
  dimensions: number,
): { key: string; heading: string } {
  if (backend === 'sqlite' || (size === 100_000 && dimensions === 384)) {
    return { key: backend, heading: `On ${backend}` };
  }
  return {
    key: `${backend}-${formatCount(size)
      .toLowerCase()
      .replace(/[^a-z0-9]/g, '-')}-${dimensions}`,
    heading: `On ${backend}, ${formatCount(size)} memories x ${dimensions.toLocaleString('en-US')} dimensions`,
  };
}

function serviceReport(
  context: BenchContext,
  block: { key: string; heading: string },
  markdown: string,
): WorkloadReport {
  const document =
    context.documentPath && existsSync(context.documentPath)
      ? readFileSync(context.documentPath, 'utf8')
      : '';
  return {
    key: 'service',
    markdown: mergeServiceSection(
      readSection(document, 'service') ?? '',
      block.key,
      markdown,
      block.heading,
    ),
  };
}
