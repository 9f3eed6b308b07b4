#!/usr/bin/env node
// CPU time per search (and per add) along the paths a search takes: `Memory.search` as the scale
// workload calls it, `Memory.search` of the server's project engine, and the whole HTTP
// application in process (`app.request`: routing, authentication, validation, JSON, logging,
// metrics), one after another, then with requests in flight together. CPU time
// (`process.cpuUsage`) rather than wall time, so that the figures hold on a shared machine.
// Build first (`pnpm --filter '@engram/bench...' build`), then:
//
//   node packages/bench/scripts/search-cpu.mjs [--size 20000] [--searches 2000] [--adds 2000] > /dev/null
//
// Figures go to stderr, the server's request log to stdout. Writes nothing but a temporary
// directory, removed at the end.
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createHashEmbedder, Memory } from '@engram/core';
import { createSqliteStore } from '@engram/sqlite';
import { createPipelineData, userRecord } from '../dist/pipeline-data.js';

const server = await import('../../server/dist/index.js');
const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '20000' },
    searches: { type: 'string', default: '2000' },
    adds: { type: 'string', default: '2000' },
    inflight: { type: 'string', default: '32' },
    rounds: { type: 'string', default: '2' },
    // Comma-separated numbers of the variants to run (1-based), e.g. to profile one of them.
    only: { type: 'string' },
    // A V8 CPU profile of the timed calls only (not the preload), written to this file.
    profile: { type: 'string' },
    // The server's vector cache per project, in floats (default: the server's own).
    'server-cache': { type: 'string' },
  },
});
const size = Number(values.size);
const searches = Number(values.searches);
const adds = Number(values.adds);
const inflight = Number(values.inflight);
const rounds = Number(values.rounds);
const users = Math.max(1, Math.round(size / 100));
const data = createPipelineData({ users });
const project = 'bench';
const collection = `p_${project}`;
const dataDir = mkdtempSync(join(tmpdir(), 'engram-search-cpu-'));
const databasePath = join(dataDir, 'projects', `${project}.db`);

async function preload() {
  mkdirSync(join(dataDir, 'projects'), { recursive: true });
  const store = createSqliteStore({ path: databasePath, scopeLock: false });
  const embedder = createHashEmbedder();
  const now = new Date().toISOString();
  await store.ensureCollection({ collection, dimensions: embedder.dimensions });
  for (let offset = 0; offset < size; offset += 1000) {
    const items = [];
    for (let index = offset; index < Math.min(size, offset + 1000); index++) {
      items.push(data.memory(index));
    }
    const { embeddings } = await embedder.embed({
      values: items.map((item) => item.text),
      purpose: 'document',
    });
    await store.upsert({
      collection,
      records: items.map((item, index) => userRecord(randomUUID(), item, embeddings[index], now)),
    });
  }
  await store.buildIndex({ collection });
  await store.close();
}

/** CPU ms per call of `run(index)` for `count` calls, `parallel` at a time. */
async function cpuPerCall(count, parallel, run, offset) {
  let next = 0;
  const start = process.cpuUsage();
  const wall = performance.now();
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < count) await run(offset + next++);
    }),
  );
  const used = process.cpuUsage(start);
  return {
    cpu: (used.user + used.system) / 1000 / count,
    wall: (performance.now() - wall) / count,
  };
}

const searchBody = (index) => {
  const question = data.question(index);
  return { query: question.query, userId: question.userId, limit: 10 };
};

await preload();
const config = server.loadServerConfig(
  { dataDir },
  {
    ENGRAM_HOME: dataDir,
    ENGRAM_LLM: 'none',
    ENGRAM_EMBEDDER: 'hash',
    ENGRAM_RATE_LIMIT_RPS: '1000000',
    ENGRAM_RATE_LIMIT_BURST: '1000000',
  },
);
if (values['server-cache'] !== undefined) {
  config.vectorStore.options = { vectorCacheSize: Number(values['server-cache']) };
}
const keys = server.openApiKeyStore(server.apiKeyStorePath(dataDir));
const key = keys.create({ project }).key;
const metrics = server.createServerMetrics();
const projects = server.createProjectMemories(config, metrics);
// The server's own logger (JSON lines on stdout): run with stdout sent to a file or /dev/null.
const logger = server.createLogger('info');
const context = {
  config,
  keys,
  projects,
  jobs: server.createMemoryJobQueue({ attempts: 1, backoffMs: 1 }),
  metrics,
  logger,
  limiter: server.createRateLimiter(config.rateLimit),
  state: { shuttingDown: false },
};
const app = server.createServerApp(context);
const plainStore = createSqliteStore({ path: databasePath, scopeLock: false });
const plain = new Memory({
  vectorStore: plainStore,
  embedder: createHashEmbedder(),
  llm: null,
  collection,
});
const projectMemory = await projects.memory(project);
const request = (path, body) =>
  app.request(path, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

const variants = {
  'Memory.search, scale workload (default store options)': (index) => {
    const body = searchBody(index);
    return plain.search(body.query, { userId: body.userId, limit: 10 });
  },
  'Memory.search, server project engine': (index) => {
    const body = searchBody(index);
    return projectMemory.search(body.query, { userId: body.userId, limit: 10 });
  },
  'POST /v1/search, app in process': async (index) => {
    const response = await request('/v1/search', searchBody(index));
    if (response.status !== 200) throw new Error(`search answered ${response.status}`);
    await response.text();
  },
};

const chosen = values.only ? new Set(values.only.split(',').map(Number)) : undefined;
for (const [index, name] of Object.keys(variants).entries()) {
  if (chosen && !chosen.has(index + 1)) delete variants[name];
}
console.error(
  `${size} memories of ${users} users; ${searches} searches per row; node ${process.version}`,
);
for (const run of Object.values(variants)) await cpuPerCall(200, 1, run, 900_000);
const session = values.profile ? new Session() : undefined;
if (session) {
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
}
for (let round = 0; round < rounds; round++) {
  for (const [name, run] of Object.entries(variants)) {
    for (const parallel of [1, inflight]) {
      const result = await cpuPerCall(searches, parallel, run, round * 1_000_000);
      console.error(
        `${name.padEnd(56)} x${String(parallel).padEnd(3)} cpu ${result.cpu.toFixed(3)} ms/search, wall ${result.wall.toFixed(3)} ms`,
      );
    }
  }
}
if (adds > 0) {
  const add = async (index) => {
    const fact = data.memory(10_000_000 + index);
    const response = await request('/v1/memories', {
      messages: fact.text,
      userId: fact.userId,
      infer: false,
    });
    if (response.status !== 200) throw new Error(`add answered ${response.status}`);
    await response.text();
  };
  for (const parallel of [1, inflight]) {
    const result = await cpuPerCall(adds, parallel, add, parallel * 100_000);
    console.error(
      `${'POST /v1/memories (infer: false), app in process'.padEnd(56)} x${String(parallel).padEnd(3)} cpu ${result.cpu.toFixed(3)} ms/add, wall ${result.wall.toFixed(3)} ms`,
    );
  }
}
if (session) {
  const { profile } = await session.post('Profiler.stop');
  writeFileSync(values.profile, JSON.stringify(profile));
  session.disconnect();
}
await plainStore.close();
await projects.close();
keys.close();
rmSync(dataDir, { recursive: true, force: true });
