import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { type Embedder, type ImportItem, Memory, type VectorRecord } from '@engram/core';
import { createSqliteStore } from '@engram/sqlite';
import Database from 'better-sqlite3';
import { type ClusteredCorpus, createClusteredCorpus } from './clustered.js';
import type { BenchContext, WorkloadReport } from './context.js';
import { exactTopK } from './exact-top-k.js';
import { userRecord } from './pipeline-data.js';
import { loadLine, markdownTable, runHeader } from './report.js';
import {
  formatBytes,
  formatCount,
  formatMs,
  formatRate,
  type Summary,
  summarize,
} from './stats.js';

const collection = 'memories';
const batchSize = 1000;

/** Ids of the `k` best scores, best first. */
export function topIds(scores: ReadonlyMap<string, number>, k: number): string[] {
  return [...scores.entries()]
    .sort((left, right) => right[1] - left[1] || (left[0] < right[0] ? -1 : 1))
    .slice(0, k)
    .map(([id]) => id);
}

/** Fraction of the exact top-k found by the approximate top-k. */
export function recallAtK(found: readonly string[], exact: readonly string[], k: number): number {
  const truth = new Set(exact.slice(0, k));
  if (truth.size === 0) return 1;
  let hits = 0;
  for (const id of found.slice(0, k)) if (truth.has(id)) hits++;
  return hits / truth.size;
}

/**
 * An embedder that returns vectors registered beforehand for each text: the engine's public API
 * is exercised with precomputed vectors, so embedding time is excluded.
 */
function createLookupEmbedder(dimensions: number) {
  const vectors = new Map<string, number[]>();
  const embedder: Embedder = {
    specificationVersion: 'v1',
    provider: 'bench',
    modelId: 'precomputed',
    dimensions,
    maxEmbeddingsPerCall: 100_000,
    async embed({ values }) {
      return {
        embeddings: values.map((value) => {
          const vector = vectors.get(value);
          if (!vector) throw new Error(`No precomputed vector for "${value}".`);
          return vector;
        }),
        usage: { tokens: 0 },
      };
    },
  };
  return { embedder, vectors };
}

/** Bytes of the database file by what they hold. */
export interface FileParts {
  /** The memories table: ids, texts, metadata, vectors. */
  rows: number;
  /** The FTS5 keyword index. */
  keyword: number;
  /** History events and their indexes. */
  history: number;
  /** The memories table's other indexes (id, scopes). */
  indexes: number;
  /** Everything else (schema, locks, state). */
  other: number;
}

/** What each part of the database file takes, from SQLite's dbstat table. */
function fileParts(path: string): FileParts {
  const database = new Database(path, { readonly: true });
  try {
    const parts: FileParts = { rows: 0, keyword: 0, history: 0, indexes: 0, other: 0 };
    const rows = database
      .prepare('SELECT name, SUM(pgsize) AS bytes FROM dbstat GROUP BY name')
      .all() as { name: string; bytes: number }[];
    for (const { name, bytes } of rows) {
      if (name === 'engram_memories') parts.rows += bytes;
      else if (name.startsWith('engram_memories_fts')) parts.keyword += bytes;
      else if (name.startsWith('engram_history')) parts.history += bytes;
      else if (
        name.startsWith('engram_memories_') ||
        name === 'sqlite_autoindex_engram_memories_1'
      ) {
        parts.indexes += bytes;
      } else parts.other += bytes;
    }
    return parts;
  } finally {
    database.close();
  }
}

/** The saved approximate-index files (`<database>.<digest>.hnsw`) in a directory. */
function indexFileBytes(directory: string): number {
  let total = 0;
  for (const name of readdirSync(directory)) {
    if (name.endsWith('.hnsw')) total += statSync(join(directory, name)).size;
  }
  return total;
}

function fileSize(path: string): number {
  let total = 0;
  for (const suffix of ['', '-wal', '-shm']) {
    try {
      total += statSync(path + suffix).size;
    } catch {
      // The WAL files exist only while a connection is open.
    }
  }
  return total;
}

interface SizeResult {
  size: number;
  users: number;
  importSeconds: number;
  storeSeconds: number;
  storeCount: number;
  scopedSearch: Summary;
  scopedVector: Summary;
  unscoped: Summary;
  unscopedQueries: number;
  /**
   * The first unscoped query of the collection, timed on its own and left out of `unscoped`:
   * before `indexReadyMs` was measured it built the approximate (HNSW) index; since, it loads the
   * saved index. Absent in results recorded before it was measured.
   */
  firstUnscopedMs?: number;
  /**
   * From the end of the ingest until the approximate index is ready (`store.buildIndex`): the
   * rest of the background build that started during the ingest. Absent in older results.
   */
  indexReadyMs?: number;
  /** The saved HNSW index files beside the database, bytes. Absent in older results. */
  indexBytes?: number;
  /** The database file's bytes by part (SQLite's dbstat). Absent in older results. */
  fileParts?: FileParts;
  recall: number;
  rssBytes: number;
  peakRssBytes: number;
  fileBytes: number;
  totalSeconds: number;
  /** When this size ran, and the 1-minute load average before and after it. */
  ranAt?: string;
  load?: string;
}

const dataMarker = /<!-- scale-data: (.*?) -->/;

/** Results of earlier runs kept in the document, so that sizes run separately share one table. */
export function previousResults(document: string): SizeResult[] {
  const match = dataMarker.exec(document);
  if (!match) return [];
  try {
    return JSON.parse(match[1]!) as SizeResult[];
  } catch {
    return [];
  }
}

export async function timeQueries(count: number, run: (index: number) => Promise<unknown>) {
  const warmup = Math.min(10, count);
  for (let index = 0; index < warmup; index++) await run(index + 1_000_000);
  const samples: number[] = [];
  for (let index = 0; index < count; index++) {
    const start = performance.now();
    await run(index);
    samples.push(performance.now() - start);
  }
  return summarize(samples);
}

/** Exact top-10 of each query by regenerating every memory: no index, no store. */
function exactTopTen(corpus: ClusteredCorpus, size: number, queries: Float32Array[]): string[][] {
  return exactTopK(corpus, size, queries, 10).map((list) => list.map((index) => `m${index}`));
}

async function runSize(
  context: BenchContext,
  size: number,
  options: {
    users: number;
    scopedQueries: number;
    unscopedQueries: number;
    storeLimit: number;
    ingestOnly: boolean;
  },
): Promise<SizeResult> {
  const started = performance.now();
  const directory = mkdtempSync(join(tmpdir(), 'engram-bench-scale-'));
  const corpus = createClusteredCorpus({ users: options.users });
  const path = join(directory, 'engram.db');
  const { embedder, vectors } = createLookupEmbedder(corpus.dimensions);
  const engineStore = createSqliteStore({ path });
  const memory = new Memory({
    vectorStore: engineStore,
    embedder,
    llm: null,
    collection,
  });
  try {
    // 1. Ingest through the public API: Memory.import in batches, with precomputed vectors.
    let importSeconds = 0;
    for (let offset = 0; offset < size; offset += batchSize) {
      const items: ImportItem[] = [];
      vectors.clear();
      for (let index = offset; index < Math.min(size, offset + batchSize); index++) {
        const item = corpus.memory(index);
        vectors.set(item.text, Array.from(item.vector));
        items.push({ id: `m${index}`, text: item.text, userId: item.userId });
      }
      const start = performance.now();
      await memory.import(items);
      importSeconds += (performance.now() - start) / 1000;
      if ((offset / batchSize) % 100 === 99) {
        context.log(`  import ${formatCount(offset + batchSize)} of ${formatCount(size)}...`);
      }
    }
    vectors.clear();

    // 2. The store path: upsert of precomputed records into a second, fresh database.
    const storeCount = Math.min(size, options.storeLimit);
    const storePath = join(directory, 'store-only.db');
    const store = createSqliteStore({ path: storePath });
    await store.ensureCollection({ collection, dimensions: corpus.dimensions });
    let storeSeconds = 0;
    const now = new Date().toISOString();
    for (let offset = 0; offset < storeCount; offset += batchSize) {
      const records: VectorRecord[] = [];
      for (let index = offset; index < Math.min(storeCount, offset + batchSize); index++) {
        const item = corpus.memory(index);
        records.push(userRecord(`m${index}`, item, Array.from(item.vector), now));
      }
      const start = performance.now();
      await store.upsert({ collection, records });
      storeSeconds += (performance.now() - start) / 1000;
    }
    await store.close();
    rmSync(storePath, { force: true });
    rmSync(`${storePath}-wal`, { force: true });
    rmSync(`${storePath}-shm`, { force: true });
    const footprint = () => ({
      rssBytes: process.memoryUsage().rss,
      peakRssBytes: process.resourceUsage().maxRSS * 1024,
      fileBytes: fileSize(path),
    });
    const result = (
      searches: Pick<
        SizeResult,
        'scopedSearch' | 'scopedVector' | 'unscoped' | 'unscopedQueries' | 'recall'
      > & {
        firstUnscopedMs?: number;
        indexReadyMs?: number;
        indexBytes?: number;
        fileParts?: FileParts;
      },
      measured: ReturnType<typeof footprint>,
    ): SizeResult => ({
      size,
      users: options.users,
      importSeconds,
      storeSeconds,
      storeCount,
      ...searches,
      ...measured,
      totalSeconds: (performance.now() - started) / 1000,
    });
    if (options.ingestOnly) {
      const none = summarize([]);
      const searches = { scopedSearch: none, scopedVector: none, unscoped: none };
      return result({ ...searches, unscopedQueries: 0, recall: Number.NaN }, footprint());
    }

    // 3. The approximate index, built in the background since the collection reached its
    // minimum size: waited for here, so that no build competes with the timed searches.
    const indexStart = performance.now();
    await engineStore.buildIndex({ collection });
    const indexReadyMs = performance.now() - indexStart;
    context.log(`  index ready after the ingest: ${(indexReadyMs / 1000).toFixed(1)} s`);

    // 4. Searches. Query vectors are registered with the embedder, so embedding costs nothing.
    const scopedQueries = Array.from({ length: options.scopedQueries + 10 }, (_, index) =>
      corpus.query(index),
    );
    for (const query of scopedQueries) vectors.set(query.text, Array.from(query.vector));
    const queryAt = (index: number) => scopedQueries[index % scopedQueries.length]!;
    const scopedSearch = await timeQueries(options.scopedQueries, (index) =>
      memory.search(queryAt(index).text, { userId: queryAt(index).userId, limit: 10 }),
    );
    const reader = createSqliteStore({ path });
    const scopedVector = await timeQueries(options.scopedQueries, (index) =>
      reader.query({
        collection,
        vector: Array.from(queryAt(index).vector),
        topK: 10,
        scope: { userId: queryAt(index).userId },
      }),
    );
    const unscopedVectors = Array.from(
      { length: options.unscopedQueries },
      (_, index) => corpus.query(500_000 + index).vector,
    );
    const found: string[][] = [];
    const unscopedSamples: number[] = [];
    const firstStart = performance.now();
    await reader.query({ collection, vector: Array.from(corpus.query(499_999).vector), topK: 10 });
    const firstUnscopedMs = performance.now() - firstStart;
    context.log(`  first unscoped query (index load): ${(firstUnscopedMs / 1000).toFixed(1)} s`);
    for (const [index, vector] of unscopedVectors.entries()) {
      const start = performance.now();
      const matches = await reader.query({ collection, vector: Array.from(vector), topK: 10 });
      unscopedSamples.push(performance.now() - start);
      found[index] = matches.map((match) => match.record.id);
    }
    const unscoped = summarize(unscopedSamples);
    const measured = footprint();
    await reader.close();

    const exact = exactTopTen(corpus, size, unscopedVectors);
    const recalls = exact.map((truth, index) => recallAtK(found[index]!, truth, 10));
    const recall = recalls.reduce((sum, value) => sum + value, 0) / Math.max(1, recalls.length);
    const unscopedQueries = options.unscopedQueries;
    return result(
      {
        scopedSearch,
        scopedVector,
        unscoped,
        unscopedQueries,
        firstUnscopedMs,
        indexReadyMs,
        indexBytes: indexFileBytes(directory),
        fileParts: fileParts(path),
        recall,
      },
      measured,
    );
  } finally {
    await memory.close();
    rmSync(directory, { recursive: true, force: true });
  }
}

/** The ingest rows alone, for `--ingest-only` runs (printed, never written to the page). */
function ingestTable(results: readonly SizeResult[], loadBefore: string): string {
  return [
    `Ingest only; load average (1/5/15 min) ${loadBefore} before, ${loadLine()} after.`,
    '',
    markdownTable(
      ['size', '1-min load before -> after', '`Memory.import`', '`store.upsert`', 'file'],
      results.map((result) => [
        formatCount(result.size),
        result.load ?? '?',
        formatRate(result.size / result.importSeconds),
        formatRate(result.storeCount / result.storeSeconds),
        formatBytes(result.fileBytes),
      ]),
    ),
  ].join('\n');
}

const met = (ok: boolean) => (ok ? 'met' : '**missed**');

/** Workload 1: the embedded default (@engram/sqlite) at 10k, 100k and 1M memories. */
export async function runScale(context: BenchContext): Promise<WorkloadReport> {
  const loadBefore = loadLine();
  const sizes = context.sizes ?? (context.smoke ? [2000] : [10_000, 100_000, 1_000_000]);
  const results: SizeResult[] = [];
  for (const size of sizes) {
    const users = Math.max(1, Math.min(10_000, Math.round(size / 100)));
    context.log(`scale: ${formatCount(size)} memories for ${formatCount(users)} users`);
    const loadBefore = loadLine().split(' / ')[0];
    const result = await runSize(context, size, {
      users,
      // Fewer queries at 1M: the unscoped scan reads every row, seconds per query.
      scopedQueries: context.queries ?? (context.smoke ? 20 : size >= 1_000_000 ? 200 : 500),
      unscopedQueries: context.smoke ? 5 : size >= 1_000_000 ? 10 : size >= 100_000 ? 20 : 50,
      storeLimit: context.smoke ? size : 1_000_000,
      ingestOnly: context.ingestOnly === true,
    });
    result.ranAt = new Date().toISOString().slice(0, 16).replace('T', ' ');
    result.load = `${loadBefore} -> ${loadLine().split(' / ')[0]}`;
    results.push(result);
    const row = (label: string, value: string) => context.log(`  ${label.padEnd(34)} ${value}`);
    row('import via Memory.import', formatRate(result.size / result.importSeconds));
    row('store.upsert', formatRate(result.storeCount / result.storeSeconds));
    if (context.ingestOnly) {
      row('file', formatBytes(result.fileBytes));
      row('wall time of this size', `${result.totalSeconds.toFixed(0)} s`);
      continue;
    }
    row(
      'scoped Memory.search p50/p95 ms',
      `${formatMs(result.scopedSearch.median)} / ${formatMs(result.scopedSearch.p95)}`,
    );
    row(
      'scoped store.query p50/p95 ms',
      `${formatMs(result.scopedVector.median)} / ${formatMs(result.scopedVector.p95)}`,
    );
    row(
      'unscoped store.query p50/p95 ms',
      `${formatMs(result.unscoped.median)} / ${formatMs(result.unscoped.p95)}`,
    );
    row('unscoped recall@10', result.recall.toFixed(3));
    row('RSS now / peak', `${formatBytes(result.rssBytes)} / ${formatBytes(result.peakRssBytes)}`);
    row('file', formatBytes(result.fileBytes));
    row('wall time of this size', `${result.totalSeconds.toFixed(0)} s`);
  }

  if (context.ingestOnly) return { key: 'scale', markdown: ingestTable(results, loadBefore) };
  const earlier =
    context.documentPath && existsSync(context.documentPath)
      ? previousResults(readFileSync(context.documentPath, 'utf8')).filter(
          (entry) => !results.some((result) => result.size === entry.size),
        )
      : [];
  results.push(...earlier);
  results.sort((left, right) => left.size - right.size);
  const headers = ['', ...results.map((result) => `${formatCount(result.size)} memories`)];
  const cells = (render: (result: SizeResult) => string) => results.map(render);
  const rows = [
    [
      'run (UTC), 1-min load before -> after',
      ...cells((r) => `${r.ranAt ?? '?'}, ${r.load ?? '?'}`),
    ],
    ['users (memories per user)', ...cells((r) => `${formatCount(r.users)} (${r.size / r.users})`)],
    [
      'ingest, `Memory.import` (batches of 1,000, precomputed vectors, with history)',
      ...cells((r) => formatRate(r.size / r.importSeconds)),
    ],
    [
      'ingest, `store.upsert` (batches of 1,000, precomputed vectors)',
      ...cells((r) => formatRate(r.storeCount / r.storeSeconds)),
    ],
    [
      'user-scoped `Memory.search` (hybrid), p50 / p95 ms',
      ...cells((r) => `${formatMs(r.scopedSearch.median)} / ${formatMs(r.scopedSearch.p95)}`),
    ],
    [
      'user-scoped `store.query` (vector only), p50 / p95 ms',
      ...cells((r) => `${formatMs(r.scopedVector.median)} / ${formatMs(r.scopedVector.p95)}`),
    ],
    [
      'unscoped `store.query` (vector only), p50 / p95 ms',
      ...cells(
        (r) =>
          `${formatMs(r.unscoped.median)} / ${formatMs(r.unscoped.p95)} (${r.unscopedQueries} q)`,
      ),
    ],
    [
      'HNSW index ready after the ingest (background build; `store.buildIndex`), s',
      ...cells((r) =>
        r.indexReadyMs === undefined ? 'not measured' : (r.indexReadyMs / 1000).toFixed(1),
      ),
    ],
    [
      'first unscoped query of another store on the file (before: builds the index; now: loads it), s',
      ...cells((r) =>
        r.firstUnscopedMs === undefined ? 'not measured' : (r.firstUnscopedMs / 1000).toFixed(1),
      ),
    ],
    ['unscoped recall@10 vs exact', ...cells((r) => r.recall.toFixed(3))],
    [
      'database file by part: rows / keyword index / history / other indexes',
      ...cells((r) =>
        r.fileParts === undefined
          ? 'not measured'
          : [r.fileParts.rows, r.fileParts.keyword, r.fileParts.history, r.fileParts.indexes]
              .map(formatBytes)
              .join(' / '),
      ),
    ],
    [
      'saved HNSW index file',
      ...cells((r) => (r.indexBytes === undefined ? 'not measured' : formatBytes(r.indexBytes))),
    ],
    [
      'RSS after searches / peak RSS',
      ...cells((r) => `${formatBytes(r.rssBytes)} / ${formatBytes(r.peakRssBytes)}`),
    ],
    ['database file', ...cells((r) => formatBytes(r.fileBytes))],
    [
      'wall time (load, searches, exact ground truth)',
      ...cells((r) => `${r.totalSeconds.toFixed(0)} s`),
    ],
  ];
  const largest = results.at(-1)!;

  const targets = markdownTable(
    ['target', 'measured (largest size run)', 'status'],
    [
      [
        'user-scoped search p95 < 5 ms',
        `${formatMs(largest.scopedSearch.p95)} ms hybrid, ${formatMs(largest.scopedVector.p95)} ms vector only at ${formatCount(largest.size)}`,
        met(largest.scopedSearch.p95 < 5),
      ],
      [
        'unscoped search p95 < 50 ms',
        `${formatMs(largest.unscoped.p95)} ms at ${formatCount(largest.size)}`,
        met(largest.unscoped.p95 < 50),
      ],
      [
        'ingest >= 5,000 memories/s (precomputed vectors, store path)',
        `${formatRate(largest.storeCount / largest.storeSeconds)} store.upsert, ${formatRate(largest.size / largest.importSeconds)} Memory.import`,
        met(largest.storeCount / largest.storeSeconds >= 5000),
      ],
      [
        'RSS < 2 GB at 1M',
        largest.size >= 1_000_000
          ? `${formatBytes(largest.peakRssBytes)} peak`
          : `not run at 1M (largest ${formatCount(largest.size)}: ${formatBytes(largest.peakRssBytes)} peak)`,
        largest.size >= 1_000_000 ? met(largest.peakRssBytes < 2 * 1024 ** 3) : 'not measured',
      ],
    ],
  );
  const markdown = [
    runHeader(context.command, loadBefore),
    '',
    'Sizes run separately share this table: each column keeps the time and load of its own run.',
    '',
    markdownTable(headers, rows),
    '',
    targets,
    '',
    `<!-- scale-data: ${JSON.stringify(results)} -->`,
  ].join('\n');
  return { key: 'scale', markdown };
}
