import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { KeyedMutex } from '@engram/core';
import { startFakeOpenAI } from '@engram/fake-openai';
import type { BenchContext, WorkloadReport } from './context.js';
import { benchChat } from './fake-model.js';
import { createBenchMemory } from './pipeline.js';
import { loadLine, markdownTable, runHeader } from './report.js';
import { formatMs, summarize } from './stats.js';

const dimensions = 384;
const adds = 20;

/**
 * How the adds of one user are ordered. `whole add` is the behaviour before parallel adds: each
 * add ran entirely under its scope's lock, model calls included; it is reproduced here by
 * queuing whole adds per user in front of the engine. `reconcile only` is the engine as it is:
 * extraction and embedding overlap, only reconcile-and-write takes turns.
 */
type Ordering = 'whole add' | 'reconcile only';

/** Wall time of `adds` parallel adds for one user, on a fresh store, in ms. */
async function burst(url: string, ordering: Ordering): Promise<number> {
  const directory = mkdtempSync(join(tmpdir(), 'engram-bench-burst-'));
  const memory = createBenchMemory(url, directory);
  const queue = new KeyedMutex();
  try {
    // A first add opens the store and leaves a memory, so that every add of the burst reconciles.
    await memory.add('I live in Lisbon.', { userId: 'burst' });
    const add = (index: number) =>
      memory.add(`I enjoy hobby-${index} on weekends.`, { userId: 'burst' });
    const start = performance.now();
    await Promise.all(
      Array.from({ length: adds }, (_, index) =>
        ordering === 'whole add' ? queue.run('burst', () => add(index)) : add(index),
      ),
    );
    return performance.now() - start;
  } finally {
    await memory.close();
    rmSync(directory, { recursive: true, force: true });
  }
}

/**
 * 20 parallel adds for one user through a fake OpenAI server with a fixed latency per model call
 * (50 ms and 300 ms), with each ordering: wall time median and p95 over a few repetitions.
 */
export async function runBurst(context: BenchContext): Promise<WorkloadReport> {
  const loadBefore = loadLine();
  const latencies = context.smoke ? [5] : (context.sizes ?? [50, 300]);
  const repetitions = context.smoke ? 1 : (context.queries ?? 5);
  const rows: string[][] = [];
  for (const latencyMs of latencies) {
    const server = await startFakeOpenAI({
      chat: benchChat,
      embeddingDimensions: dimensions,
      latencyMs,
    });
    try {
      for (const ordering of ['whole add', 'reconcile only'] as const) {
        const times: number[] = [];
        for (let repetition = 0; repetition < repetitions; repetition++) {
          times.push(await burst(server.url, ordering));
        }
        const summary = summarize(times);
        context.log(`  ${latencyMs} ms model, ${ordering}: median ${formatMs(summary.median)} ms`);
        rows.push([
          `${latencyMs} ms`,
          ordering === 'whole add' ? 'before: whole add per scope' : 'after: reconcile only',
          formatMs(summary.median),
          formatMs(summary.p95),
          String(repetitions),
        ]);
      }
    } finally {
      await server.close();
    }
  }
  const markdown = [
    '## 6. Parallel adds for one user',
    '',
    runHeader(context.command, loadBefore),
    '',
    `${adds} adds for one user at once (\`Promise.all\`), each one message with one new fact, on a fresh \`@engram/sqlite\` store holding one memory (so every add reconciles), through the AI SDK OpenAI provider and a local fake OpenAI server that waits the given latency before each answer (chat and embeddings). Before: each add holds its scope's lock from extraction to write, as the engine did before adds ran in parallel (reproduced by queuing whole adds per user). After: extraction and embedding overlap; only querying related memories, the reconcile call and the write take turns per scope, across processes too (the SQLite file's lock).`,
    '',
    markdownTable(
      ['model latency', 'ordering', 'wall median ms', 'wall p95 ms', 'repetitions'],
      rows,
    ),
  ].join('\n');
  return { key: 'burst', markdown };
}
