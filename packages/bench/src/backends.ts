import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { VectorRecord, VectorStore } from '@engram/core';
import { type BackendDefinition, type BackendRowStatus, runBackendRow } from './backend-servers.js';
import {
  type GraphBackendResult,
  graphBackendNames,
  graphTable,
  runGraphBackends,
} from './backends-graph.js';
import { type ClusteredCorpus, createClusteredCorpus } from './clustered.js';
import type { BenchContext, WorkloadReport } from './context.js';
import { exactTopK } from './exact-top-k.js';
import { loadLine, machineLine, markdownTable, runCell, runHeader } from './report.js';
import { recallAtK, timeQueries } from './scale.js';
import { formatCount, formatMs, formatRate, type Summary, summarize } from './stats.js';

/** How the workload reaches one vector backend through its adapter's public factory. */
export interface VectorBackend extends BackendDefinition {
  /** Runs the store's own index build after ingest (LanceDB's `optimize`). */
  optimizeAfterIngest?: boolean;
  /**
   * A variant of another row (same adapter) that the service workload runs too: the options the
   * server's store gets (`vectorStore.options` of its configuration file).
   */
  serverOptions?: Record<string, unknown>;
}

/** The launchers hand Weaviate over as `http://host:port/?grpcPort=N`. */
function weaviateConnection(serviceUrl: string) {
  const url = new URL(serviceUrl);
  const grpcPort = url.searchParams.get('grpcPort');
  url.search = '';
  return { url: url.toString(), ...(grpcPort ? { grpcPort: Number(grpcPort) } : {}) };
}

/** Every vector backend that runs here for real, in table order. */
export const vectorBackends: readonly VectorBackend[] = [
  {
    name: 'sqlite',
    adapter: 'sqlite',
    factory: 'createSqliteStore',
    settings:
      'embedded file, WAL; scoped vector search an exact scan (scope index first), unscoped an HNSW index (usearch, f16, connectivity 32) from 10k memories; FTS5 keyword index, small scopes scored from their own rows; vector cache 40M floats, dropped per changed scope',
    options: ({ directory }) => ({ path: join(directory, 'engram.db') }),
  },
  {
    name: 'lancedb',
    adapter: 'lancedb',
    factory: 'createLanceDBVectorStore',
    settings:
      "embedded directory; `optimize()` after ingest: HNSW-SQ (cosine) from 50,000 rows (exact scan below), BTREE on id and scope columns, FTS on text; queries with `ef` 50 (the adapter's default) and LanceDB's nprobes 20; unscoped also measured with LanceDB's own ef (1.5 x topK = 15) and 100",
    options: ({ directory }) => ({ uri: directory }),
    searchVariants: [
      { label: 'ef 15', options: { ef: 15 } },
      { label: 'ef 100', options: { ef: 100 } },
    ],
    optimizeAfterIngest: true,
  },
  {
    name: 'pgvector',
    adapter: 'pgvector',
    factory: 'createPgvectorVectorStore',
    service: 'pgvector',
    settings:
      'HNSW (cosine) m 16, ef_construction 64, ef_search 40 with iterative scan (also measured at 100 and 200); exact scan when scope and filter select <= 2,000 rows; GIN tsvector (`english`) keyword index; collection created with `deferVectorIndex`, HNSW built after the ingest by `buildIndex` (`maintenance_work_mem` 10GB, parallel workers)',
    options: ({ url }) => ({
      connectionString: url,
      deferVectorIndex: true,
      indexBuildMemory: '10GB',
    }),
    searchVariants: [
      { label: 'ef_search 100', options: { efSearch: 100 } },
      { label: 'ef_search 200', options: { efSearch: 200 } },
    ],
  },
  {
    // The same server and adapter with an IVFFlat index instead of HNSW.
    name: 'pgvector-ivfflat',
    adapter: 'pgvector',
    factory: 'createPgvectorVectorStore',
    service: 'pgvector',
    settings:
      'IVFFlat (cosine; `vectorIndex: "ivfflat"`) trained after the ingest by `buildIndex` (`maintenance_work_mem` 10GB, parallel workers), lists rows / 1,000 (pgvector\'s starting point: 100 at 100k, 1,000 at 1M), probes the square root of lists (10 at 100k, 32 at 1M) with iterative scan (unscoped also measured at 2, 4 and 8 probes); `enable_seqscan` off in the query\'s transaction (as pgvector advises: the planner otherwise scans the whole table at high probes); exact scan when scope and filter select <= 2,000 rows; GIN tsvector (`english`) keyword index',
    options: ({ url }) => ({
      connectionString: url,
      vectorIndex: 'ivfflat',
      indexBuildMemory: '10GB',
    }),
    serverOptions: { vectorIndex: 'ivfflat' },
    searchVariants: [
      { label: 'probes 2', options: { ivfflatProbes: 2 } },
      { label: 'probes 4', options: { ivfflatProbes: 4 } },
      { label: 'probes 8', options: { ivfflatProbes: 8 } },
    ],
  },
  {
    name: 'milvus',
    adapter: 'milvus',
    factory: 'createMilvusVectorStore',
    service: 'milvus',
    settings:
      'HNSW (COSINE) M 16, efConstruction 200, ef 64 (raised to topK); Strong consistency; scope fields indexed; no keyword search',
    options: ({ url }) => ({ address: url }),
  },
  {
    // The same server and adapter with an IVF_FLAT index, whose build is minutes at 1M x 1536 on
    // two cores where HNSW with efConstruction 200 is hours.
    name: 'milvus-ivfflat',
    adapter: 'milvus',
    factory: 'createMilvusVectorStore',
    service: 'milvus',
    settings:
      'IVF_FLAT (COSINE) nlist 128 per segment, built by Milvus as segments seal during the ingest; nprobe 8 (unscoped also measured at 4, 16 and 32); Strong consistency; scope fields indexed; no keyword search',
    options: ({ url }) => ({
      address: url,
      index: { type: 'IVF_FLAT', params: { nlist: 128 } },
      searchParams: { nprobe: 8 },
      timeoutMs: 600_000,
    }),
    searchVariants: [
      { label: 'nprobe 4', options: { searchParams: { nprobe: 4 } } },
      { label: 'nprobe 16', options: { searchParams: { nprobe: 16 } } },
      { label: 'nprobe 32', options: { searchParams: { nprobe: 32 } } },
    ],
  },
  {
    name: 'elasticsearch',
    adapter: 'elasticsearch',
    factory: 'createElasticsearchVectorStore',
    service: 'elasticsearch',
    settings:
      '`dense_vector` HNSW (cosine, float) m 16, ef_construction 100, num_candidates max(100, 10 x topK); BM25 on text; writes `refresh=wait_for`',
    options: ({ url }) => ({ url }),
  },
  {
    name: 'weaviate',
    adapter: 'weaviate',
    factory: 'createWeaviateVectorStore',
    service: 'weaviate',
    settings:
      "HNSW (cosine), Weaviate's defaults (maxConnections 32, efConstruction 128, dynamic ef); BM25 on text; gRPC batches of 1,000",
    options: ({ url }) => weaviateConnection(url!),
  },
  {
    name: 'redis',
    adapter: 'redis',
    factory: 'createRedisVectorStore',
    service: 'redis',
    settings:
      "RediSearch HNSW (FLOAT32, COSINE), M 16 and EF_CONSTRUCTION 200 (its defaults), queries with EF_RUNTIME 50 (the adapter's default; unscoped also measured with RediSearch's own 10, and 100); TEXT index on text, TAG scope fields",
    options: ({ url }) => ({ url }),
    searchVariants: [
      { label: 'EF_RUNTIME 10', options: { efRuntime: 10 } },
      { label: 'EF_RUNTIME 100', options: { efRuntime: 100 } },
    ],
  },
  {
    name: 'chroma',
    adapter: 'chroma',
    factory: 'createChromaVectorStore',
    service: 'chroma',
    settings:
      "HNSW (cosine space) with Chroma's defaults (M 16, construction_ef 100, search_ef 100); scope fields as metadata; no keyword search",
    options: ({ url }) => ({ url }),
  },
  {
    name: 'qdrant',
    adapter: 'qdrant',
    factory: 'createQdrantVectorStore',
    service: 'qdrant',
    settings:
      "HNSW (Cosine) with Qdrant's defaults (m 16, ef_construct 100; segments below 10 MB of vectors are scanned exactly until indexed); keyword payload indexes on scope fields; writes `wait=true`; no keyword search",
    options: ({ url }) => ({ url }),
  },
];

/** Every `--backends` name: the vector stores, then the graph stores. */
export const backendNames = [
  ...vectorBackends.map((backend) => backend.name),
  ...graphBackendNames,
];

/** Names of the backends that need no server: the only ones `--smoke` runs. */
export const embeddedBackendNames = ['sqlite', 'lancedb', 'kuzu'];

/** One row of the backends table: a backend at one size and vector length. */
export interface BackendResult extends BackendRowStatus {
  backend: string;
  size: number;
  dimensions: number;
  settings: string;
  batchSize?: number;
  /** Records per second over the `upsert` calls alone. */
  ingestPerSecond?: number;
  /** Seconds from the last upsert until `count` reported every record. */
  settleSeconds?: number;
  /** Seconds of the store's own index build after ingest, when it has one (LanceDB). */
  indexSeconds?: number;
  scopedVector?: Summary;
  /** Vector and keyword queries of one search in parallel; null without keyword search. */
  scopedHybrid?: Summary | null;
  unscoped?: Summary;
  recall?: number;
  /** Unscoped queries with the backend's `searchVariants` (higher search effort). */
  unscopedVariants?: { label: string; unscoped: Summary; recall: number }[];
  /** Milliseconds from an upsert returning to a query returning the record. */
  visibility?: Summary;
  /** Milliseconds of the one-record `upsert` calls of the visibility probes. */
  singleUpsert?: Summary;
  /** Visibility probes that never saw their record within the time limit. */
  visibilityTimeouts?: number;
  /** When the row ran (UTC, minutes), and the 1-minute load average before and after. */
  ranAt: string;
  load: string;
}

/** The same id for the same corpus index in every store (several stores require UUIDs). */
export function benchRecordId(index: number): string {
  return `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`;
}

/** Parses `--backends` into known names; throws naming the unknown ones. */
export function selectBackends(requested: readonly string[] | undefined, known: readonly string[]) {
  if (!requested || requested.length === 0) return [...known];
  const unknown = requested.filter((name) => !known.includes(name));
  if (unknown.length > 0) {
    throw new Error(
      `Unknown backend "${unknown.join('", "')}". Known backends: ${known.join(', ')}.`,
    );
  }
  return known.filter((name) => requested.includes(name));
}

function toRecord(corpus: ClusteredCorpus, index: number, now: string): VectorRecord {
  const item = corpus.memory(index);
  return {
    id: benchRecordId(index),
    vector: Array.from(item.vector),
    text: item.text,
    userId: item.userId,
    metadata: {},
    createdAt: now,
    updatedAt: now,
  };
}

/** What one size of the workload measures, shared by every backend row. */
interface Workload {
  corpus: ClusteredCorpus;
  size: number;
  scopedQueries: number;
  unscopedVectors: Float32Array[];
  exact: number[][];
  visibilityProbes: number;
  visibilityTimeoutMs: number;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Milliseconds from each upsert returning to a scoped query that returns the new record. */
async function measureVisibility(store: VectorStore, collection: string, workload: Workload) {
  const { corpus, size } = workload;
  const samples: number[] = [];
  const upserts: number[] = [];
  let timeouts = 0;
  for (let probe = 0; probe < workload.visibilityProbes; probe++) {
    const index = size + probe;
    const record = toRecord(corpus, index, new Date().toISOString());
    const upsertStart = performance.now();
    await store.upsert({ collection, records: [record] });
    const start = performance.now();
    upserts.push(start - upsertStart);
    for (;;) {
      const matches = await store.query({
        collection,
        vector: record.vector,
        topK: 10,
        scope: { userId: record.userId! },
      });
      const elapsed = performance.now() - start;
      if (matches.some((match) => match.record.id === record.id)) {
        samples.push(elapsed);
        break;
      }
      if (elapsed > workload.visibilityTimeoutMs) {
        timeouts++;
        break;
      }
      await pause(2);
    }
  }
  return {
    visibility: summarize(samples),
    singleUpsert: summarize(upserts),
    visibilityTimeouts: timeouts,
  };
}

/** The unscoped queries of the workload, timed one at a time, with recall@10 against exact. */
async function unscopedQueries(store: VectorStore, collection: string, workload: Workload) {
  const samples: number[] = [];
  const recalls: number[] = [];
  for (const [index, vector] of workload.unscopedVectors.entries()) {
    const start = performance.now();
    const matches = await store.query({ collection, vector: Array.from(vector), topK: 10 });
    samples.push(performance.now() - start);
    const truth = workload.exact[index]!.map(benchRecordId);
    recalls.push(
      recallAtK(
        matches.map((match) => match.record.id),
        truth,
        10,
      ),
    );
  }
  return {
    unscoped: summarize(samples),
    recall: recalls.reduce((sum, value) => sum + value, 0) / Math.max(1, recalls.length),
  };
}

async function waitForCount(store: VectorStore, collection: string, size: number) {
  const start = performance.now();
  const deadline = start + 10 * 60 * 1000;
  for (;;) {
    const count = await store.count({ collection });
    if (count >= size) return (performance.now() - start) / 1000;
    if (performance.now() > deadline) {
      throw new Error(`count stayed at ${count} of ${size} for 10 minutes after ingest`);
    }
    await pause(100);
  }
}

async function measureBackend(
  context: BenchContext,
  backend: VectorBackend,
  workload: Workload,
  row: BackendResult,
): Promise<void> {
  const { corpus, size } = workload;
  const collection = `bench_${Date.now().toString(36)}`;
  await runBackendRow<VectorStore>(
    context,
    backend,
    row,
    async (store, stage, open) => {
      stage('creating the collection');
      await store.ensureCollection({ collection, dimensions: corpus.dimensions });
      const batchSize = store.capabilities.maxBatchSize;
      row.batchSize = batchSize;

      stage('ingesting');
      const now = new Date().toISOString();
      let ingestMs = 0;
      for (let offset = 0; offset < size; offset += batchSize) {
        const records: VectorRecord[] = [];
        for (let index = offset; index < Math.min(size, offset + batchSize); index++) {
          records.push(toRecord(corpus, index, now));
        }
        const start = performance.now();
        await store.upsert({ collection, records });
        ingestMs += performance.now() - start;
        if (offset > 0 && (offset / batchSize) % 50 === 0) {
          context.log(
            `    ${backend.name}: ${formatCount(offset)} of ${formatCount(size)} upserted`,
          );
        }
      }
      row.ingestPerSecond = size / (ingestMs / 1000);
      stage('waiting for every record to be counted');
      row.settleSeconds = await waitForCount(store, collection, size);
      const optimize = (store as { optimize?: (options: { collection: string }) => Promise<void> })
        .optimize;
      if (backend.optimizeAfterIngest && optimize) {
        stage('building the index');
        const start = performance.now();
        await optimize.call(store, { collection });
        row.indexSeconds = (performance.now() - start) / 1000;
      }
      // The SQLite store builds its index in the background during the ingest; it is waited for
      // here so that the build does not compete with the timed queries. pgvector's collection is
      // created without its HNSW index (`deferVectorIndex`), which is built here, after the rows.
      const buildIndex = (
        store as { buildIndex?: (options: { collection: string }) => Promise<unknown> }
      ).buildIndex;
      if (buildIndex) {
        stage('waiting for the index');
        const start = performance.now();
        await buildIndex.call(store, { collection });
        row.indexSeconds = (performance.now() - start) / 1000;
      }

      stage('scoped vector queries');
      const scoped = Array.from({ length: workload.scopedQueries + 10 }, (_, index) =>
        corpus.query(index),
      );
      const queryAt = (index: number) => scoped[index % scoped.length]!;
      const vectorQuery = (index: number) =>
        store.query({
          collection,
          vector: Array.from(queryAt(index).vector),
          topK: 10,
          scope: { userId: queryAt(index).userId },
        });
      row.scopedVector = await timeQueries(workload.scopedQueries, vectorQuery);
      stage('scoped hybrid queries');
      row.scopedHybrid = store.capabilities.keywordSearch
        ? await timeQueries(workload.scopedQueries, (index) =>
            Promise.all([
              vectorQuery(index),
              store.query({
                collection,
                text: queryAt(index).text,
                topK: 10,
                scope: { userId: queryAt(index).userId },
              }),
            ]),
          )
        : null;

      stage('unscoped queries');
      Object.assign(row, await unscopedQueries(store, collection, workload));
      for (const variant of backend.searchVariants ?? []) {
        stage(`unscoped queries, ${variant.label}`);
        const measured = await unscopedQueries(open(variant.options), collection, workload);
        row.unscopedVariants = [
          ...(row.unscopedVariants ?? []),
          { label: variant.label, ...measured },
        ];
      }

      stage('measuring the time until a write is searchable');
      Object.assign(row, await measureVisibility(store, collection, workload));
    },
    (store) => store.dropCollection({ collection }),
  );
}

const dataMarker = /<!-- backends-data: (.*?) -->/;

/** Rows of earlier runs kept in the document, so that runs of other sizes share the section. */
export function previousBackendResults(document: string): {
  vector: BackendResult[];
  graph: GraphBackendResult[];
} {
  const match = dataMarker.exec(document);
  if (!match) return { vector: [], graph: [] };
  try {
    const data = JSON.parse(match[1]!) as {
      vector?: BackendResult[];
      graph?: GraphBackendResult[];
    };
    return { vector: data.vector ?? [], graph: data.graph ?? [] };
  } catch {
    return { vector: [], graph: [] };
  }
}

/** Keeps the rows of `earlier` that `current` does not replace (same backend, size and length). */
export function mergeResults<T extends { backend: string; size: number; dimensions: number }>(
  current: readonly T[],
  earlier: readonly T[],
): T[] {
  const key = (row: T) => `${row.backend}|${row.size}|${row.dimensions}`;
  const replaced = new Set(current.map(key));
  return [...earlier.filter((row) => !replaced.has(key(row))), ...current];
}

const pair = (summary: Summary | undefined) =>
  summary ? `${formatMs(summary.median)} / ${formatMs(summary.p95)}` : 'n/a';

function vectorTable(rows: readonly BackendResult[]): string {
  const order = vectorBackends.map((backend) => backend.name);
  const sorted = [...rows].sort(
    (left, right) => order.indexOf(left.backend) - order.indexOf(right.backend),
  );
  return markdownTable(
    [
      'backend',
      'ingest/s (batch)',
      'scoped vector p50 / p95 ms',
      'scoped hybrid p50 / p95 ms',
      'unscoped p50 / p95 ms',
      'recall@10',
      'one-record upsert p50 / p95 ms',
      'upsert returned to searchable, median / max ms',
      'run (UTC), load before -> after, processor',
      'index settings',
    ],
    sorted.map((row) => {
      if (row.unavailable) {
        return [
          row.backend,
          `not measured: ${row.unavailable}`,
          '',
          '',
          '',
          '',
          '',
          '',
          runCell(row),
          row.settings,
        ];
      }
      const extra = [
        row.settleSeconds !== undefined && row.settleSeconds >= 0.5
          ? `+${row.settleSeconds.toFixed(1)} s until counted`
          : undefined,
        row.indexSeconds !== undefined
          ? `+${row.indexSeconds.toFixed(1)} s index build`
          : undefined,
      ].filter(Boolean);
      const visibility = row.visibility
        ? `${formatMs(row.visibility.median)} / ${formatMs(row.visibility.max)}${
            row.visibilityTimeouts ? ` (${row.visibilityTimeouts} not seen in 30 s)` : ''
          }`
        : 'n/a';
      return [
        `${row.backend} (${row.origin})`,
        `${formatRate(row.ingestPerSecond ?? Number.NaN)} (${row.batchSize})${extra.length > 0 ? `, ${extra.join(', ')}` : ''}`,
        pair(row.scopedVector),
        row.scopedHybrid === null ? 'no keyword search' : pair(row.scopedHybrid),
        [
          `${pair(row.unscoped)} (${row.unscoped?.count ?? 0} q)`,
          ...(row.unscopedVariants ?? []).map(
            (variant) => `${variant.label}: ${pair(variant.unscoped)}`,
          ),
        ].join('; '),
        [
          row.recall === undefined ? 'n/a' : row.recall.toFixed(3),
          ...(row.unscopedVariants ?? []).map(
            (variant) => `${variant.label}: ${variant.recall.toFixed(3)}`,
          ),
        ].join('; '),
        pair(row.singleUpsert),
        visibility,
        runCell(row),
        row.settings,
      ];
    }),
  );
}

function groupBy<T extends { size: number; dimensions: number }>(rows: readonly T[], noun: string) {
  const groups = new Map<string, T[]>();
  for (const row of [...rows].sort(
    (left, right) => left.size - right.size || left.dimensions - right.dimensions,
  )) {
    const key = `${formatCount(row.size)} ${noun} x ${row.dimensions} dimensions`;
    groups.set(key, [...(groups.get(key) ?? []), row]);
  }
  return groups;
}

/** Workload 7: the same data and queries against every vector (and graph) backend that runs here. */
export async function runBackends(context: BenchContext): Promise<WorkloadReport> {
  const loadBefore = loadLine();
  const dimensions = context.dimensions ?? 384;
  const sizes = context.sizes ?? [context.smoke ? 1000 : 10_000];
  const requested = context.smoke
    ? (context.backends ?? embeddedBackendNames).filter((name) =>
        embeddedBackendNames.includes(name),
      )
    : context.backends;
  const selected = selectBackends(requested, backendNames);
  const results: BackendResult[] = [];
  const graphResults: GraphBackendResult[] = [];
  for (const size of sizes) {
    const users = Math.max(1, Math.round(size / 100));
    const corpus = createClusteredCorpus({ users, dimensions });
    const unscopedCount = context.smoke ? 5 : size >= 1_000_000 ? 20 : 50;
    const unscopedVectors = Array.from(
      { length: unscopedCount },
      (_, index) => corpus.query(500_000 + index).vector,
    );
    context.log(
      `backends: ${formatCount(size)} memories x ${dimensions} dimensions, ${formatCount(users)} users; exact top-10 of ${unscopedCount} queries...`,
    );
    const workload: Workload = {
      corpus,
      size,
      scopedQueries: context.queries ?? (context.smoke ? 20 : 200),
      unscopedVectors,
      exact: exactTopK(corpus, size, unscopedVectors, 10),
      visibilityProbes: context.smoke ? 3 : 20,
      visibilityTimeoutMs: 30_000,
    };
    for (const backend of vectorBackends.filter((entry) => selected.includes(entry.name))) {
      const load = loadLine().split(' / ')[0];
      context.log(`  ${backend.name}: load average ${loadLine()} before`);
      const row: BackendResult = {
        backend: backend.name,
        size,
        dimensions,
        settings: backend.settings,
        ranAt: '',
        load: '',
      };
      await measureBackend(context, backend, workload, row);
      row.ranAt = new Date().toISOString().slice(0, 16).replace('T', ' ');
      row.machine = machineLine();
      row.load = `${load} -> ${loadLine().split(' / ')[0]}`;
      context.log(`  ${backend.name}: load average ${loadLine()} after`);
      context.log(vectorTable([row]).split('\n').at(-1)!);
      results.push(row);
    }
    const graphSelected = graphBackendNames.filter((name) => selected.includes(name));
    if (graphSelected.length > 0) {
      graphResults.push(
        ...(await runGraphBackends(context, { corpus, size, names: graphSelected })),
      );
    }
  }

  const earlier =
    context.documentPath && existsSync(context.documentPath)
      ? previousBackendResults(readFileSync(context.documentPath, 'utf8'))
      : { vector: [], graph: [] };
  const vectorRows = mergeResults(results, earlier.vector);
  const graphRows = mergeResults(graphResults, earlier.graph);
  const sections: string[] = [runHeader(context.command, loadBefore), ''];
  for (const [title, rows] of groupBy(vectorRows, 'memories')) {
    sections.push(`**Vector stores, ${title}**`, '', vectorTable(rows), '');
  }
  if (graphRows.length > 0) {
    for (const [title, rows] of groupBy(graphRows, 'entities')) {
      sections.push(`**Graph stores, ${title}**`, '', graphTable(rows), '');
    }
  }
  sections.push(
    `<!-- backends-data: ${JSON.stringify({ vector: vectorRows, graph: graphRows })} -->`,
  );
  return { key: 'backends', markdown: sections.join('\n') };
}
