#!/usr/bin/env node
// Measures asynchronous adds per second through each queue (BullMQ, RabbitMQ, SQS) with 1 and 4
// consumers, and the duplicate-merge pass over 10,000 memories. The model is the fake
// OpenAI-compatible server (no latency), the embedder the hash embedder, the store SQLite.
// Prints a table; run after `pnpm --filter @engram/server build`:
//   REDIS_URL=... RABBITMQ_URL=... SQS_ENDPOINT=... node packages/server/scripts/queue-throughput.mjs [jobs]
// ENGRAM_BENCH_LLM_LATENCY_MS gives the model a latency per call (default 0);
// ENGRAM_BENCH_DEDUPE=0 skips the duplicate-merge pass.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { extractionSchemaName } from '@engram/core';
import { startFakeOpenAI } from '@engram/fake-openai';
import {
  createJobQueue,
  createProjectMemories,
  createServerMetrics,
  loadServerConfig,
} from '../dist/index.js';

const jobs = Number(process.argv[2] ?? 200);
process.env.AWS_ACCESS_KEY_ID ??= 'test';
process.env.AWS_SECRET_ACCESS_KEY ??= 'test';
process.env.AWS_REGION ??= 'us-east-1';

const latencyMs = Number(process.env.ENGRAM_BENCH_LLM_LATENCY_MS ?? 0);
const fake = await startFakeOpenAI({
  latencyMs,
  chat(request) {
    const format = request.responseFormat;
    const text = JSON.stringify(request.messages);
    if (format?.json_schema?.name === extractionSchemaName) {
      return { facts: [/fact number \d+/.exec(text)?.[0] ?? 'a fact'] };
    }
    return { memory: [{ event: 'ADD', text: /fact number \d+/.exec(text)?.[0] ?? 'a fact' }] };
  },
});
const backends = [
  ['bullmq', { REDIS_URL: process.env.REDIS_URL }],
  ['rabbitmq', { RABBITMQ_URL: process.env.RABBITMQ_URL }],
  ['sqs', { SQS_ENDPOINT: process.env.SQS_ENDPOINT }],
].filter(([, env]) => Object.values(env).every(Boolean));

const rows = [];
for (const [backend, env] of backends) {
  for (const consumers of [1, 4]) {
    const directory = mkdtempSync(join(tmpdir(), 'engram-queue-bench-'));
    const loaded = loadServerConfig(
      { dataDir: directory },
      {
        ...env,
        ENGRAM_QUEUE: backend,
        ENGRAM_LLM: 'openai:gpt-4.1-mini',
        OPENAI_API_KEY: 'sk-test',
        OPENAI_BASE_URL: fake.url,
        ENGRAM_EMBEDDER: 'hash',
      },
    );
    const config = {
      ...loaded,
      queue: { ...loaded.queue, name: `bench-${randomUUID().slice(0, 8)}` },
    };
    const projects = createProjectMemories(config, createServerMetrics());
    const memory = await projects.memory('bench');
    const producer = createJobQueue(config);
    for (let index = 0; index < jobs; index++) {
      await producer.enqueue({
        project: 'bench',
        messages: `please remember fact number ${index}`,
        options: { userId: `user-${index % 20}` },
      });
    }
    let done = 0;
    let finish;
    const finished = new Promise((resolve) => {
      finish = resolve;
    });
    const started = performance.now();
    const queues = [];
    for (let consumer = 0; consumer < consumers; consumer++) {
      const queue = createJobQueue(config);
      queues.push(queue);
      await queue.startWorkers(1, async (data, job) => {
        const result = await memory.add(data.messages, {
          ...data.options,
          idempotencyKey: `job:${job.id}`,
        });
        if (++done === jobs) finish();
        return result;
      });
    }
    await finished;
    const seconds = (performance.now() - started) / 1000;
    rows.push([backend, consumers, jobs, (jobs / seconds).toFixed(1)]);
    await Promise.all([producer, ...queues].map((queue) => queue.close(5000)));
    await projects.close();
    rmSync(directory, { recursive: true, force: true });
  }
}

console.log(`| queue | consumers | jobs | adds/s (model latency ${latencyMs} ms) |`);
console.log('| --- | --- | --- | --- |');
for (const row of rows) console.log(`| ${row.join(' | ')} |`);
await fake.close();
if (process.env.ENGRAM_BENCH_DEDUPE === '0') process.exit(0);

// The duplicate-merge pass over 10,000 memories of 100 users, one in ten an exact repeat.
const directory = mkdtempSync(join(tmpdir(), 'engram-dedupe-bench-'));
const config = loadServerConfig(
  { dataDir: directory },
  { ENGRAM_LLM: 'none', ENGRAM_EMBEDDER: 'hash' },
);
const projects = createProjectMemories(config, createServerMetrics());
const memory = await projects.memory('bench');
const items = Array.from({ length: 10_000 }, (_, index) => {
  const base = index % 10 === 9 ? index - 9 : index;
  return { userId: `user-${base % 100}`, text: `memory ${base} about topic ${base % 37}` };
});
for (let start = 0; start < items.length; start += 500)
  await memory.import(items.slice(start, start + 500));
const started = performance.now();
let cursor;
let scanned = 0;
let merged = 0;
do {
  const page = await memory.mergeDuplicates({ limit: 500, ...(cursor ? { cursor } : {}) });
  scanned += page.scanned;
  merged += page.pairs.length;
  cursor = page.nextCursor;
} while (cursor);
const seconds = (performance.now() - started) / 1000;
await projects.close();
rmSync(directory, { recursive: true, force: true });
console.log('');
console.log(
  `dedupe: ${scanned} memories scanned, ${merged} merged in ${seconds.toFixed(1)} s (${(scanned / seconds).toFixed(0)} memories/s)`,
);
