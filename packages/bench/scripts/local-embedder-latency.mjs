#!/usr/bin/env node
// What a user waits for with the local embedding model: `Memory.add` (`infer: false`) and
// `Memory.search` latency on the embedded store holding 10k and 100k memories (100 per user),
// the query and the new memory embedded by all-MiniLM-L6-v2 in process. The stored memories get
// vectors of the same model: a pool of distinct texts is embedded once and each stored memory
// takes the vector of its text's pool entry (embedding 100k texts first would take minutes and
// measure nothing more). Needs the model files: `ENGRAM_MODELS_DIR=$(pnpm -s models | tail -1)`.
// Build first (`pnpm --filter '@engram/bench...' build`), then:
//
//   node packages/bench/scripts/local-embedder-latency.mjs [--sizes 10000,100000] [--calls 200]
//
// Prints a markdown table with the load average before and after each size.
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { embedderProperties, Memory } from '@engram/core';
import { createSqliteStore } from '@engram/sqlite';
import { createTransformersEmbedder } from '@engram/transformers';
import { createPipelineData } from '../dist/pipeline-data.js';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '10000,100000' },
    calls: { type: 'string', default: '200' },
    pool: { type: 'string', default: '2000' },
  },
});
const sizes = values.sizes.split(',').map(Number);
const calls = Number(values.calls);
const poolSize = Number(values.pool);
if (!process.env.ENGRAM_MODELS_DIR) {
  console.error('Set ENGRAM_MODELS_DIR to the directory `pnpm models` prints.');
  process.exit(2);
}

const model = createTransformersEmbedder({ modelsDir: process.env.ENGRAM_MODELS_DIR, threads: 1 });
const data = createPipelineData({ users: 1000 });
const poolTexts = Array.from({ length: poolSize }, (_, index) => data.memory(index).text);
const poolVectors = [];
for (let start = 0; start < poolTexts.length; start += 64) {
  const { embeddings } = await model.embed({
    values: poolTexts.slice(start, start + 64),
    purpose: 'document',
  });
  poolVectors.push(...embeddings);
}
const known = new Map(poolTexts.map((text, index) => [text, poolVectors[index]]));
const storedText = (index) => `${poolTexts[index % poolSize]} #${index}`;

/** The model, except for the stored texts, which take their pool entry's vector. */
const embedder = {
  ...embedderProperties(model),
  async embed(options) {
    const pooled = options.values.map((text) => known.get(text.replace(/ #\d+$/, '')));
    if (options.purpose === 'document' && pooled.every(Boolean)) return { embeddings: pooled };
    return model.embed(options);
  },
};

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
const load = () =>
  loadavg()
    .map((value) => value.toFixed(2))
    .join(' / ');
const rows = [];
for (const size of sizes) {
  const dir = mkdtempSync(join(tmpdir(), 'engram-local-latency-'));
  const memory = new Memory({
    vectorStore: createSqliteStore({ path: join(dir, 'memories.db') }),
    embedder,
    llm: null,
    graphStore: null,
  });
  try {
    for (let start = 0; start < size; start += 5000) {
      const items = [];
      for (let index = start; index < Math.min(size, start + 5000); index++) {
        items.push({ text: storedText(index), userId: `user-${index % (size / 100)}` });
      }
      await memory.import(items);
    }
    const loadBefore = load();
    const users = size / 100;
    // Warm-up: the model's first run and the store's first reads.
    for (let index = 0; index < 20; index++) {
      await memory.search(data.question(index).query, { userId: `user-${index % users}` });
    }
    const timings = { search: [], add: [] };
    for (let index = 0; index < calls; index++) {
      const question = data.question(1000 + index);
      const userId = `user-${index % users}`;
      let started = performance.now();
      await memory.search(question.query, { userId });
      timings.search.push(performance.now() - started);
      started = performance.now();
      await memory.add(data.conversation(index).messages[0].content, { userId, infer: false });
      timings.add.push(performance.now() - started);
    }
    for (const [name, list] of Object.entries(timings)) {
      list.sort((left, right) => left - right);
      rows.push(
        `| ${size.toLocaleString('en-US')} | ${name} | ${quantile(list, 0.5).toFixed(1)} | ${quantile(list, 0.95).toFixed(1)} | ${loadBefore} -> ${load()} |`,
      );
    }
    console.error(`${size}: done`);
  } finally {
    await memory.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
console.log(
  [
    `all-MiniLM-L6-v2 int8 in process (1 thread), embedded SQLite store, ${calls} calls per row, one at a time (a search, then an add, for a random user)`,
    '',
    '| memories | call | p50 ms | p95 ms | load average (1/5/15 min) before -> after |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n'),
);
