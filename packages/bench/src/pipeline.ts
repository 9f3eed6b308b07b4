import { type ChildProcess, fork, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createEmbedderFromName, createLLMFromName } from '@engram/ai-sdk';
import { type AddMode, createHashEmbedder, Memory } from '@engram/core';
import { createSqliteStore } from '@engram/sqlite';
import type { BenchContext, WorkloadReport } from './context.js';
import type { ServerStats } from './fake-server-process.js';
import { createPipelineData, type PipelineData } from './pipeline-data.js';
import { loadLine, markdownTable, runHeader } from './report.js';
import { formatCount, formatMs, formatRatio, type Summary, summarize } from './stats.js';

const dimensions = 384;
const here = dirname(fileURLToPath(import.meta.url));

/** The fake OpenAI server in its own process, so its work does not share Engram's thread. */
interface FakeServer {
  url: string;
  stats(): Promise<ServerStats>;
  close(): Promise<void>;
}

/** Model latency the fake server emulates, as a hosted API would answer. */
export interface EmulatedLatency {
  /** Delay of every chat completion, ms. */
  llmMs: number;
  /** Delay of every embeddings call, ms. */
  embeddingMs: number;
}

async function startFakeServerProcess(
  latency: EmulatedLatency = { llmMs: 0, embeddingMs: 0 },
): Promise<FakeServer> {
  const child: ChildProcess = fork(
    join(here, 'fake-server-process.js'),
    [String(dimensions), String(latency.llmMs), String(latency.embeddingMs)],
    { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
  );
  let nextId = 0;
  const waiting = new Map<number, (stats: ServerStats) => void>();
  const url = await new Promise<string>((resolve, reject) => {
    child.once('error', reject);
    child.on(
      'message',
      (message: { type: string; url?: string; id?: number; stats?: ServerStats }) => {
        if (message.type === 'ready') resolve(message.url!);
        if (message.type === 'stats') {
          waiting.get(message.id!)?.(message.stats!);
          waiting.delete(message.id!);
        }
      },
    );
  });
  return {
    url,
    stats: () =>
      new Promise((resolve) => {
        const id = nextId++;
        waiting.set(id, resolve);
        child.send({ type: 'stats', id });
      }),
    close: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.send({ type: 'close', id: -1 });
      }),
  };
}

/** One system under test, driven the same way. Times are measured inside the system's process. */
interface PipelineSystem {
  name: string;
  note: string;
  preload(items: { userId: string; text: string }[]): Promise<void>;
  /** Wall time of one add, in ms. */
  add(userId: string, messages: { role: string; content: string }[]): Promise<number>;
  /** Wall time of one search, in ms. */
  search(userId: string, query: string): Promise<number>;
  close(): Promise<void>;
}

async function timed(work: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await work();
  return performance.now() - start;
}

/**
 * Engram as the benchmarks run it: the SQLite store in `directory`, the AI SDK OpenAI LLM and
 * embedder against the (fake) server at `url`, in the default two-call add mode unless told.
 */
export function createBenchMemory(url: string, directory: string, addMode?: AddMode): Memory {
  const env = { OPENAI_API_KEY: 'bench', OPENAI_BASE_URL: url };
  // Retries stay on (the SDK default): Node's server closes idle keep-alive sockets after 5 s,
  // and a request racing that close fails once and must be retried, as with the real API.
  return new Memory({
    vectorStore: createSqliteStore({ path: join(directory, 'engram.db') }),
    llm: createLLMFromName('openai:gpt-4.1-mini', { env, maxRetries: 2 }),
    embedder: createEmbedderFromName(`openai:text-embedding-3-small?dimensions=${dimensions}`, {
      env,
      maxRetries: 2,
    }),
    ...(addMode ? { addMode } : {}),
  });
}

/** Name of the Engram row in single-call add mode, beside the default one (`Engram`). */
const singleCallName = 'Engram (single-call add)';

function engramSystem(url: string, directory: string, addMode?: AddMode): PipelineSystem {
  const memory = createBenchMemory(url, directory, addMode);
  return {
    name: addMode === 'single-call' ? singleCallName : 'Engram',
    note:
      addMode === 'single-call'
        ? "the same, with `addMode: 'single-call'`: one LLM call per add (extract and reconcile together, under the scope's lock) instead of extraction, then reconciliation when related memories exist"
        : '@engram/sqlite store, @engram/ai-sdk OpenAI LLM and embedder',
    async preload(items) {
      await memory.import(items);
    },
    add: (userId, messages) =>
      timed(() =>
        memory.add(messages as { role: 'user' | 'assistant'; content: string }[], { userId }),
      ),
    search: (userId, query) => timed(() => memory.search(query, { userId, limit: 10 })),
    close: () => memory.close(),
  };
}

async function mem0NodeSystem(url: string, directory: string): Promise<PipelineSystem> {
  process.env.MEM0_TELEMETRY = 'false';
  const { Memory: Mem0Memory } = await import('mem0ai/oss');
  const memory = new Mem0Memory({
    embedder: {
      provider: 'openai',
      config: {
        apiKey: 'bench',
        baseURL: url,
        model: 'text-embedding-3-small',
        embeddingDims: dimensions,
      },
    },
    vectorStore: {
      provider: 'memory',
      config: {
        collectionName: 'bench',
        dimension: dimensions,
        dbPath: join(directory, 'vectors.db'),
      },
    },
    llm: { provider: 'openai', config: { apiKey: 'bench', baseURL: url, model: 'gpt-4.1-mini' } },
    historyStore: { provider: 'sqlite', config: { historyDbPath: join(directory, 'history.db') } },
  } as never);
  const internals = memory as unknown as {
    _ensureInitialized?: () => Promise<void>;
    vectorStore: {
      insert(
        vectors: number[][],
        ids: string[],
        payloads: Record<string, unknown>[],
      ): Promise<void>;
    };
  };
  await internals._ensureInitialized?.();
  const hash = createHashEmbedder({ dimensions });
  return {
    name: 'mem0ai/oss (npm 3.3.1)',
    note: "vector store 'memory' (its default: a SQLite table scanned in full on every search)",
    async preload(items) {
      // The fake's embeddings are this hash embedder's vectors, so mem0 gets identical data.
      const { embeddings } = await hash.embed({
        values: items.map((item) => item.text),
        purpose: 'document',
      });
      const now = new Date().toISOString();
      await internals.vectorStore.insert(
        embeddings,
        items.map(() => crypto.randomUUID()),
        items.map((item) => ({
          data: item.text,
          textLemmatized: item.text.toLowerCase(),
          hash: createHash('md5').update(item.text).digest('hex'),
          user_id: item.userId,
          createdAt: now,
          updatedAt: now,
        })),
      );
    },
    add: (userId, messages) => timed(() => memory.add(messages as never, { userId })),
    search: (userId, query) =>
      timed(() => memory.search(query, { filters: { user_id: userId }, topK: 10 } as never)),
    close: async () => {},
  };
}

/** `ENGRAM_BENCH_CACHE`, else ~/.cache/engram-bench: where the Python peer's venv lives. */
function cacheDirectory(): string {
  return process.env.ENGRAM_BENCH_CACHE ?? join(homedir(), '.cache', 'engram-bench');
}

const mem0PythonVersion = '2.2.1';

/** Creates the venv with PyPI mem0ai on first use (needs python3 and the PyPI registry). */
async function ensurePythonMem0(log: (message: string) => void): Promise<string> {
  const venv = join(cacheDirectory(), 'mem0-py');
  const python = join(venv, 'bin', 'python');
  const marker = join(venv, `mem0ai-${mem0PythonVersion}.installed`);
  if (existsSync(marker)) return python;
  mkdirSync(cacheDirectory(), { recursive: true });
  log(`  installing PyPI mem0ai ${mem0PythonVersion} into a venv in the cache directory...`);
  const run = (command: string, args: string[]) =>
    new Promise<void>((resolve, reject) => {
      const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'inherit'] });
      child.on('error', reject);
      child.on('exit', (code) =>
        code === 0
          ? resolve()
          : reject(new Error(`${command} ${args.join(' ')} exited with ${code}`)),
      );
    });
  if (!existsSync(python)) await run('python3', ['-m', 'venv', venv]);
  await run(python, ['-m', 'pip', 'install', '--quiet', `mem0ai==${mem0PythonVersion}`]);
  await run('touch', [marker]);
  return python;
}

async function mem0PythonSystem(
  url: string,
  directory: string,
  log: (message: string) => void,
): Promise<PipelineSystem> {
  const python = await ensurePythonMem0(log);
  const script = join(here, '..', 'python', 'mem0_driver.py');
  const child = spawn(python, [script], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, MEM0_TELEMETRY: 'false', OPENAI_API_KEY: 'bench' },
  });
  const lines = createInterface({ input: child.stdout! });
  const pending: ((line: string) => void)[] = [];
  lines.on('line', (line) => pending.shift()?.(line));
  const call = (request: Record<string, unknown>) =>
    new Promise<{ ok: boolean; ms: number; error?: string; [key: string]: unknown }>(
      (resolve, reject) => {
        pending.push((line) => {
          const answer = JSON.parse(line);
          if (answer.ok) resolve(answer);
          else reject(new Error(`mem0 (Python): ${answer.error}`));
        });
        child.stdin!.write(`${JSON.stringify(request)}\n`);
      },
    );
  const initialized = await call({ op: 'init', url, directory, dimensions });
  const hash = createHashEmbedder({ dimensions });
  return {
    name: `mem0ai (PyPI ${mem0PythonVersion})`,
    note: `vector store '${initialized.vector_store}' (its default: Qdrant's local mode, in-process, no server)`,
    async preload(items) {
      const { embeddings } = await hash.embed({
        values: items.map((item) => item.text),
        purpose: 'document',
      });
      await call({
        op: 'preload',
        items: items.map((item, index) => ({ ...item, vector: embeddings[index] })),
      });
    },
    add: async (userId, messages) => (await call({ op: 'add', userId, messages })).ms,
    search: async (userId, query) => (await call({ op: 'search', userId, query, limit: 10 })).ms,
    async close() {
      await call({ op: 'close' }).catch(() => undefined);
      child.kill();
    },
  };
}

/** Per-call figures of one kind of call (add or search) of one system at one size. */
interface CallFigures {
  wall: Summary;
  overhead: Summary;
  llmCalls: number;
  embeddingCalls: number;
  embeddingInputs: number;
  llmTokens: number;
  embeddingTokens: number;
}

interface SystemResult {
  name: string;
  note: string;
  size: number;
  add: CallFigures;
  search: CallFigures;
  preloadSeconds: number;
}

async function measureCalls(
  server: FakeServer,
  count: number,
  run: (index: number) => Promise<number>,
): Promise<CallFigures> {
  const wall: number[] = [];
  const overhead: number[] = [];
  const first = await server.stats();
  let before = first;
  for (let index = 0; index < count; index++) {
    const milliseconds = await run(index);
    const after = await server.stats();
    wall.push(milliseconds);
    overhead.push(milliseconds - (after.serverMs - before.serverMs));
    before = after;
  }
  const per = (field: keyof ServerStats) => (before[field] - first[field]) / count;
  return {
    wall: summarize(wall),
    overhead: summarize(overhead),
    llmCalls: per('chatCalls'),
    embeddingCalls: per('embeddingCalls'),
    embeddingInputs: per('embeddingInputs'),
    llmTokens: per('promptTokens') + per('completionTokens'),
    embeddingTokens: per('embeddingTokens'),
  };
}

async function runSystem(
  context: BenchContext,
  server: FakeServer,
  create: (directory: string) => Promise<PipelineSystem> | PipelineSystem,
  data: PipelineData,
  size: number,
  operations: number,
  warmup: number,
): Promise<SystemResult> {
  const directory = mkdtempSync(join(tmpdir(), 'engram-bench-pipeline-'));
  const system = await create(directory);
  try {
    const started = performance.now();
    for (let offset = 0; offset < size; offset += 2000) {
      const items = [];
      for (let index = offset; index < Math.min(size, offset + 2000); index++)
        items.push(data.memory(index));
      await system.preload(items);
    }
    const preloadSeconds = (performance.now() - started) / 1000;
    // Warm-up: first calls pay for lazy initialization, connections and JIT.
    for (let index = 0; index < warmup; index++) {
      const conversation = data.conversation(900_000 + index);
      await system.add(conversation.userId, conversation.messages);
      const question = data.question(900_000 + index);
      await system.search(question.userId, question.query);
    }
    const add = await measureCalls(server, operations, (index) => {
      const conversation = data.conversation(index);
      return system.add(conversation.userId, conversation.messages);
    });
    const search = await measureCalls(server, operations, (index) => {
      const question = data.question(index);
      return system.search(question.userId, question.query);
    });
    context.log(
      `  ${system.name.padEnd(26)} add ${formatMs(add.wall.median)} / ${formatMs(add.wall.p95)} ms (overhead ${formatMs(add.overhead.median)}), search ${formatMs(search.wall.median)} / ${formatMs(search.wall.p95)} ms (overhead ${formatMs(search.overhead.median)}); preload ${preloadSeconds.toFixed(1)} s`,
    );
    return { name: system.name, note: system.note, size, add, search, preloadSeconds };
  } finally {
    await system.close();
    rmSync(directory, { recursive: true, force: true });
  }
}

const calls = (figures: CallFigures) =>
  `${figures.llmCalls.toFixed(1)} / ${figures.embeddingCalls.toFixed(1)} (${figures.embeddingInputs.toFixed(1)} texts)`;
const tokens = (figures: CallFigures) =>
  `${Math.round(figures.llmTokens)} / ${Math.round(figures.embeddingTokens)}`;
const pair = (summary: Summary) => `${formatMs(summary.median)} / ${formatMs(summary.p95)}`;

/**
 * Workload 2 (Engram alone) and 3 (with mem0 from npm and PyPI, same fake server, same data, same
 * run): `add` and `search` through an OpenAI-compatible fake with zero latency.
 */
export async function runPipeline(
  context: BenchContext,
  options: { peers: boolean; latency?: EmulatedLatency },
): Promise<WorkloadReport> {
  const loadBefore = loadLine();
  // mem0's searches scan its whole store, seconds per call at 10k: 100k is opt-in for peers.
  const sizes =
    context.sizes ??
    (context.smoke ? [200] : options.peers ? [1000, 10_000] : [1000, 10_000, 100_000]);
  const server = await startFakeServerProcess(options.latency);
  const results: SystemResult[] = [];
  const skipped: string[] = [];
  try {
    for (const size of sizes) {
      const data = createPipelineData({ users: Math.max(1, Math.round(size / 100)) });
      const engramOperations = context.queries ?? (context.smoke ? 5 : 100);
      const peerOperations =
        context.queries ?? (context.smoke ? 3 : size >= 100_000 ? 5 : size >= 10_000 ? 20 : 50);
      context.log(`pipeline: ${formatCount(size)} stored memories`);
      results.push(
        await runSystem(
          context,
          server,
          (directory) => engramSystem(server.url, directory),
          data,
          size,
          engramOperations,
          3,
        ),
      );
      if (!options.peers) continue;
      const peers: [string, (directory: string) => Promise<PipelineSystem> | PipelineSystem][] = [
        [singleCallName, (directory) => engramSystem(server.url, directory, 'single-call')],
        ['mem0ai/oss (npm)', (directory) => mem0NodeSystem(server.url, directory)],
        ['mem0ai (PyPI)', (directory) => mem0PythonSystem(server.url, directory, context.log)],
      ];
      for (const [label, create] of peers) {
        // The single-call row is Engram's: measured as often as the default row.
        const own = label === singleCallName;
        try {
          results.push(
            await runSystem(
              context,
              server,
              create,
              data,
              size,
              own ? engramOperations : peerOperations,
              own ? 3 : 1,
            ),
          );
        } catch (error) {
          const reason = `${label} at ${formatCount(size)}: not measured (${(error as Error).message.split('\n')[0]})`;
          context.log(`  ${reason}`);
          skipped.push(reason);
        }
      }
    }
  } finally {
    await server.close();
  }

  const headers = [
    'stored',
    'system',
    'add p50 / p95 ms',
    'add overhead p50 / p95 ms',
    'add LLM / embedding calls',
    'add LLM / embedding tokens',
    'search p50 / p95 ms',
    'search overhead p50 / p95 ms',
    'search LLM / embedding calls',
    'search embedding tokens',
  ];
  const rows = results.map((result) => [
    formatCount(result.size),
    result.name,
    pair(result.add.wall),
    pair(result.add.overhead),
    calls(result.add),
    tokens(result.add),
    pair(result.search.wall),
    pair(result.search.overhead),
    calls(result.search),
    String(Math.round(result.search.embeddingTokens)),
  ]);
  const sections = [runHeader(context.command, loadBefore), ''];
  if (options.latency) {
    sections.push(
      `The fake server waits ${options.latency.llmMs} ms before each chat completion and ${options.latency.embeddingMs} ms before each embeddings answer, as a hosted API would; overhead still excludes the server's time, latency included.`,
      '',
    );
  }
  sections.push(markdownTable(headers, rows));
  if (options.peers) {
    const ratioRows: string[][] = [];
    for (const result of results) {
      if (result.name === 'Engram' || result.name === singleCallName) continue;
      const engram = results.find((entry) => entry.name === 'Engram' && entry.size === result.size);
      if (!engram) continue;
      ratioRows.push([
        formatCount(result.size),
        result.name,
        formatRatio(result.add.wall.median / engram.add.wall.median),
        formatRatio(result.add.wall.p95 / engram.add.wall.p95),
        formatRatio(result.add.overhead.median / engram.add.overhead.median),
        formatRatio(result.search.wall.median / engram.search.wall.median),
        formatRatio(result.search.wall.p95 / engram.search.wall.p95),
        formatRatio(result.search.overhead.median / engram.search.overhead.median),
      ]);
    }
    sections.push(
      '',
      'How many times longer the peer takes than Engram (above 1x: Engram is faster):',
      '',
      markdownTable(
        [
          'stored',
          'peer',
          'add p50',
          'add p95',
          'add overhead p50',
          'search p50',
          'search p95',
          'search overhead p50',
        ],
        ratioRows,
      ),
    );
    const notes = [...new Map(results.map((result) => [result.name, result.note])).entries()];
    sections.push('', ...notes.map(([name, note]) => `- ${name}: ${note}.`));
  }
  sections.push(...skipped.map((line) => `- ${line}`));
  if (context.smoke && skipped.length > 0) {
    // A smoke run exists to catch a broken driver: a peer that did not run fails it.
    process.exitCode = 1;
    context.log('smoke: a peer did not run (see above)');
  }
  const key = options.peers ? (options.latency ? 'mem0-latency' : 'mem0') : 'pipeline';
  return { key, markdown: sections.join('\n') };
}
