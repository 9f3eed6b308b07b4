import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  createDirectoryBackupTarget,
  createHashEmbedder,
  type ImportItem,
  Memory,
} from '@engram/core';
import { createSqliteStore } from '@engram/sqlite';
import type { BenchContext, WorkloadReport } from './context.js';
import { loadLine, markdownTable, runHeader } from './report.js';
import { formatBytes, formatCount, formatRate } from './stats.js';

const collection = 'lifecycle';
const batchSize = 1000;
const usersEvery = 100;
// Every 20th memory repeats an earlier text of its user: the dedupe pass has work to do.
const duplicateEvery = 20;
// Every 10th memory expires an hour after the start; the cleanup runs two hours later.
const expiringEvery = 10;
const hourMs = 60 * 60 * 1000;

/** The highest RSS seen while `work` runs, sampled every 25 ms (and at the start and end). */
async function withPeakRss<T>(work: () => Promise<T>): Promise<{ value: T; peakRss: number }> {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 25);
  try {
    const value = await work();
    peak = Math.max(peak, process.memoryUsage.rss());
    return { value, peakRss: peak };
  } finally {
    clearInterval(timer);
  }
}

interface Phase {
  name: string;
  items: number;
  changed: number;
  seconds: number;
  peakRss: number;
}

function item(index: number, start: number): ImportItem {
  const source = index % duplicateEvery === duplicateEvery - 1 ? index - 7 : index;
  return {
    id: `m${index}`,
    text: `Fact ${source}: prefers topic ${source % 37} with detail ${(source * 7919) % 100_003}`,
    userId: `user-${Math.floor(index / usersEvery)}`,
    ...(index % expiringEvery === 0 ? { expiresAt: new Date(start + hourMs).toISOString() } : {}),
  };
}

async function runSize(context: BenchContext, size: number): Promise<Phase[]> {
  const directory = mkdtempSync(join(tmpdir(), 'engram-bench-lifecycle-'));
  const start = Date.parse('2030-01-01T00:00:00Z');
  let time = start;
  const open = (name: string) =>
    new Memory({
      vectorStore: createSqliteStore({ path: join(directory, `${name}.db`) }),
      embedder: createHashEmbedder(),
      llm: null,
      collection,
      now: () => new Date(time),
    });
  const source = open('source');
  const restored = open('restored');
  const phases: Phase[] = [];
  try {
    for (let offset = 0; offset < size; offset += batchSize) {
      const items: ImportItem[] = [];
      for (let index = offset; index < Math.min(size, offset + batchSize); index++) {
        items.push(item(index, start));
      }
      await source.import(items);
      if ((offset / batchSize) % 20 === 19) {
        context.log(`  import ${formatCount(offset + batchSize)} of ${formatCount(size)}...`);
      }
    }
    const target = createDirectoryBackupTarget(join(directory, 'backup'));
    const measure = async (name: string, work: () => Promise<[number, number]>) => {
      const began = performance.now();
      const { value, peakRss } = await withPeakRss(work);
      const seconds = (performance.now() - began) / 1000;
      phases.push({ name, items: value[0], changed: value[1], seconds, peakRss });
      context.log(
        `  ${formatCount(size)} ${name}: ${formatRate(value[0] / seconds)} (${seconds.toFixed(1)} s), peak RSS ${formatBytes(peakRss)}`,
      );
    };
    await measure('backup', async () => {
      const manifest = await source.backup({ target });
      return [manifest.counts.memories, manifest.counts.memories];
    });
    await measure('restore', async () => {
      const summary = await restored.restore({ source: target, intoEmptyOnly: true });
      return [summary.memories, summary.memories];
    });
    time = start + 2 * hourMs;
    await measure('expiry cleanup', async () => {
      const { scanned, deleted } = await source.deleteExpired();
      return [scanned, deleted];
    });
    await measure('dedupe pass', async () => {
      let scanned = 0;
      let merged = 0;
      let cursor: string | undefined;
      do {
        const page = await source.mergeDuplicates({
          threshold: 0.95,
          limit: 200,
          ...(cursor ? { cursor } : {}),
        });
        scanned += page.scanned;
        merged += page.pairs.length;
        cursor = page.nextCursor;
      } while (cursor);
      return [scanned, merged];
    });
    return phases;
  } finally {
    await source.close();
    await restored.close();
    rmSync(directory, { recursive: true, force: true });
  }
}

/**
 * Data lifecycle throughput on the embedded SQLite store: a whole-collection backup to a
 * directory and its restore into an empty store (memories/s, peak RSS), the expiry cleanup
 * (a tenth of the memories expired) and the duplicate-merge pass (one in twenty a repeat).
 */
export async function runLifecycle(context: BenchContext): Promise<WorkloadReport> {
  const loadBefore = loadLine();
  const sizes = context.smoke ? [2000] : (context.sizes ?? [100_000]);
  const rows: string[][] = [];
  const data: Array<Phase & { size: number }> = [];
  for (const size of sizes) {
    for (const phase of await runSize(context, size)) {
      data.push({ ...phase, size });
      rows.push([
        formatCount(size),
        phase.name,
        formatRate(phase.items / phase.seconds),
        phase.seconds.toFixed(1),
        phase.name === 'expiry cleanup' || phase.name === 'dedupe pass'
          ? formatCount(phase.changed)
          : '',
        formatBytes(phase.peakRss),
      ]);
    }
  }
  const markdown = [
    '## Data lifecycle: backup, restore, expiry cleanup, dedupe',
    '',
    runHeader(context.command, loadBefore),
    '',
    `One \`@engram/sqlite\` collection of the given size (hash embedder, 384 dimensions; ${usersEvery} memories per user), imported first. **backup**: \`Memory.backup\` of memories with vectors, history and manifest to a local directory. **restore**: \`Memory.restore\` of it into an empty store (checksums verified first). **expiry cleanup**: \`Memory.deleteExpired\` two hours after one in ${expiringEvery} memories expired (rate: memories examined; changed: deleted, with history events). **dedupe pass**: \`Memory.mergeDuplicates\` at similarity 0.95, pages of 200 (rate: memories examined; changed: pairs merged; one in ${duplicateEvery} memories repeats a text of its user). Peak RSS is the process's, sampled every 25 ms during the step.`,
    '',
    markdownTable(['memories', 'step', 'rate', 'seconds', 'changed', 'peak RSS'], rows),
    '',
    `<!-- lifecycle-data: ${JSON.stringify(
      data.map((phase) => ({
        size: phase.size,
        step: phase.name,
        perSecond: Math.round(phase.items / phase.seconds),
        peakRssBytes: phase.peakRss,
      })),
    )} -->`,
  ].join('\n');
  return { key: 'lifecycle', markdown };
}
