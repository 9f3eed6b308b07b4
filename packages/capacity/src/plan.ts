import { type Figure, type FigureQuery, findFigure, formatCount } from './figures.js';
import { modelPrice, type PriceTable } from './prices.js';

/** What a deployment must carry. */
export interface Workload {
  /** Memories stored. */
  memories: number;
  /** Users (scopes) holding them; default memories / 100. */
  users?: number;
  /** `add` calls per day. */
  addsPerDay: number;
  /** Searches per second at the busiest time. */
  searchesPerSecond: number;
  /** Vector length of the embedder (1536 for OpenAI's small model, 768 or 384 for open ones). */
  dimensions: number;
  /** The vector store (`sqlite` for the embedded default, `pgvector`, `qdrant`, ...). */
  backend: string;
  /** The LLM by name (`openai:gpt-4.1-mini`), or `none` for adds without inference. */
  llm: string;
  /** The embedder by name (`openai:text-embedding-3-small`, `local:all-MiniLM-L6-v2`). */
  embedder: string;
  /** Busiest hour's add rate over the day's average (default 3). */
  peakFactor?: number;
  /** Cores per API replica (default 2). */
  coresPerReplica?: number;
  /** Share of a core the plan lets a process use, leaving room for bursts (default 0.6). */
  targetUtilization?: number;
  /** RAM of the largest store node one would run, GiB (default 64). */
  nodeMemoryGiB?: number;
  /** Adds a worker runs at once (default 2, as `engram worker`). */
  workerConcurrency?: number;
  /** LLM tokens per add, when the measured figure (short turns) does not fit the app's turns. */
  tokensPerAdd?: number;
  /** Share of the LLM tokens that are output (default 0.2; the benchmarks count tokens only). */
  outputShare?: number;
  /** Cloud whose prices are used (`aws`, `gcp`, `azure`; default `aws`). */
  cloud?: string;
}

/** One line of a plan: what is needed and the figure it rests on. */
export interface PlanLine {
  /** The part of the deployment. */
  part: 'api' | 'workers' | 'queue' | 'store' | 'models' | 'cost';
  /** What is sized. */
  item: string;
  /** The answer. */
  value: string;
  /** The figure or assumption it rests on. */
  basis: string;
}

/** The deployment a workload needs. */
export interface Plan {
  /** The workload, with defaults filled in. */
  workload: Required<Workload>;
  /** What to run, each with its basis. */
  lines: PlanLine[];
  /** Where the plan goes beyond what was measured, or beyond one node. */
  warnings: string[];
  /** The main numbers, for tooling. */
  totals: {
    apiReplicas: number;
    apiCores: number;
    workers: number;
    storeDiskGiB: number;
    databaseFileGiB: number;
    storeIndexRamGiB: number;
    llmTokensPerMonth: number;
    embeddingTokensPerMonth: number;
    modelCostPerMonth: number | null;
    computeCostPerMonth: number | null;
    currency: string;
  };
}

const secondsPerMonth = 30 * 86_400;
const hoursPerMonth = 730;
const gib = 1024 ** 3;

/** Backends with a single embedded file or directory: one node, no replicas. */
const embeddedBackends = new Set(['sqlite', 'lancedb', 'faiss', 'memory']);

function basisOf(figure: Figure): string {
  const where = [
    figure.backend,
    figure.size === undefined ? undefined : `${formatCount(figure.size)} memories`,
    figure.connections === undefined ? undefined : `${figure.connections} connections`,
    figure.processes === undefined ? undefined : `${figure.processes} processes`,
  ]
    .filter(Boolean)
    .join(', ');
  const load = figure.load ? `, load ${figure.load}` : '';
  return `${figure.metric} = ${round(figure.value)} ${figure.unit} (${where}; ${figure.measuredAt}${load}; \`${figure.command}\`)`;
}

function round(value: number): string {
  if (value >= 100) return Math.round(value).toLocaleString('en-US');
  if (value >= 10) return value.toFixed(1);
  return value.toPrecision(3);
}

function bytes(value: number): string {
  if (value >= gib) return `${(value / gib).toFixed(1)} GiB`;
  return `${(value / 1024 ** 2).toFixed(0)} MiB`;
}

/** The largest figure of a metric (the busiest row of a service table). */
function bestOf(figures: readonly Figure[], metric: Figure['metric'], backend: string) {
  return figures
    .filter((figure) => figure.metric === metric && figure.backend === backend)
    .sort((left, right) => right.value - left.value)[0];
}

function largestSize(figures: readonly Figure[], query: Omit<FigureQuery, 'size'>): number {
  return Math.max(
    0,
    ...figures
      .filter((figure) => figure.metric === query.metric && figure.backend === query.backend)
      .map((figure) => figure.size ?? 0),
  );
}

/**
 * Sizes a deployment from measured figures: API cores from the service's measured searches and
 * adds per core, workers from the measured add latency against a hosted model, the store's disk
 * and index RAM from the embedded store's measured bytes per memory (adjusted for the vector
 * length), model tokens from the pipeline's counted calls, and costs from a dated price table.
 * Every line names its figure; every step beyond a measurement is a warning.
 */
export function planDeployment(
  input: Workload,
  figures: readonly Figure[],
  prices: PriceTable,
): Plan {
  const workload: Required<Workload> = {
    users: Math.max(1, Math.round(input.memories / 100)),
    peakFactor: 3,
    coresPerReplica: 2,
    targetUtilization: 0.6,
    nodeMemoryGiB: 64,
    workerConcurrency: 2,
    tokensPerAdd: Number.NaN,
    outputShare: 0.2,
    cloud: 'aws',
    ...input,
  };
  const lines: PlanLine[] = [];
  const warnings: string[] = [];
  const line = (part: PlanLine['part'], item: string, value: string, basis: string) =>
    lines.push({ part, item, value, basis });
  const { memories, backend, dimensions } = workload;
  const embedded = embeddedBackends.has(backend);

  // API: searches and adds per core, from the service workload (embedded store in process).
  const searchRate = bestOf(figures, 'service-searches-per-second', 'sqlite');
  const addRate = bestOf(figures, 'service-adds-per-second', 'sqlite');
  const perCoreSearch = searchRate ? searchRate.value / (searchRate.processes ?? 1) : Number.NaN;
  const perCoreAdd = addRate ? addRate.value / (addRate.processes ?? 1) : Number.NaN;
  const averageAdds = workload.addsPerDay / 86_400;
  const peakAdds = averageAdds * workload.peakFactor;
  const searchCores = workload.searchesPerSecond / (perCoreSearch * workload.targetUtilization);
  const writeCores = peakAdds / (perCoreAdd * workload.targetUtilization);
  const apiCores = Math.max(1, Math.ceil(searchCores + writeCores));
  const apiReplicas = embedded ? 1 : Math.max(2, Math.ceil(apiCores / workload.coresPerReplica));
  if (searchRate) {
    line(
      'api',
      'cores for searches',
      `${searchCores.toFixed(2)} (${round(perCoreSearch)} searches/s per core at ${Math.round(workload.targetUtilization * 100)}% use)`,
      basisOf(searchRate),
    );
  } else {
    warnings.push(
      'No service search figure: run `pnpm bench service` to measure searches per core.',
    );
  }
  if (addRate) {
    line(
      'api',
      'cores for writes',
      `${writeCores.toFixed(2)} (peak ${round(peakAdds)} adds/s = ${workload.peakFactor} x the day's average)`,
      basisOf(addRate),
    );
  }
  line(
    'api',
    embedded ? 'processes on one node' : 'replicas x cores',
    embedded
      ? `${apiCores} (\`ENGRAM_WORKERS=${apiCores}\`)`
      : `${apiReplicas} x ${workload.coresPerReplica} (${apiCores} cores needed; at least 2 replicas)`,
    embedded
      ? `the ${backend} store is a file on one node: processes share it, replicas on other nodes cannot`
      : 'cores above, rounded up to whole replicas',
  );
  const serviceSize = searchRate?.size ?? 0;
  if (serviceSize > 0 && memories > serviceSize) {
    warnings.push(
      `Extrapolation: the service was measured at ${formatCount(serviceSize)} memories, ${formatCount(memories)} is ${Math.round(memories / serviceSize)}x that. Per-search cost depends mostly on the scope's size (memories per user), which the plan assumes unchanged.`,
    );
  }
  if (!embedded) {
    warnings.push(
      `The service figures were measured with the embedded store in the server's process; with ${backend} the store's work moves to its own servers, so the API cores above are an upper bound and the store's own capacity under load is not measured.`,
    );
  }
  if (embedded && apiCores > 16) {
    warnings.push(
      `Beyond one node: ${apiCores} cores of searches and writes on one ${backend} file. Move to a networked store (pgvector, Qdrant, Elasticsearch/OpenSearch, Milvus) with API replicas.`,
    );
  }
  const scoped = findFigure(figures, {
    metric: 'scoped-search-p95-ms',
    backend: 'sqlite',
    size: memories,
  });
  if (embedded && scoped) {
    line(
      'api',
      'search p95 inside the store, one at a time',
      `${round(scoped.value)} ms`,
      basisOf(scoped),
    );
  }
  const storeLatency = findFigure(figures, {
    metric: 'scoped-hybrid-p95-ms',
    backend,
    size: memories,
  });
  if (!embedded && storeLatency) {
    line(
      'store',
      'scoped hybrid query p95, one client',
      `${round(storeLatency.value)} ms`,
      basisOf(storeLatency),
    );
  }
  const visible = findFigure(figures, { metric: 'write-visible-ms', backend, size: memories });
  if (visible)
    line('store', 'a write searchable after', `${round(visible.value)} ms`, basisOf(visible));

  // Workers: adds with inference hold a worker slot for the model calls' wall time.
  const inference = workload.llm !== 'none';
  const hosted = findFigure(figures, {
    metric: 'hosted-add-p50-ms',
    backend: 'sqlite',
    size: memories,
  });
  let workers = 0;
  if (inference) {
    const addSeconds = (hosted?.value ?? Number.NaN) / 1000;
    const inflight = peakAdds * addSeconds;
    workers = Math.max(1, Math.ceil(inflight / workload.workerConcurrency));
    line(
      'workers',
      '`engram worker` processes',
      `${workers} (${inflight.toFixed(1)} adds in flight at peak, ${workload.workerConcurrency} per worker)`,
      hosted
        ? `${basisOf(hosted)}; a hosted model answering in 300 ms per LLM call, 20 ms per embedding call`
        : 'no hosted-latency figure: run `pnpm bench mem0-latency`',
    );
    line(
      'queue',
      'jobs at peak',
      `${round(peakAdds)} jobs/s (${round(averageAdds)} on average)`,
      'adds per day and peak factor',
    );
  }

  // Store: disk and index RAM from the embedded store's measured bytes, per vector length.
  const perMemory = findFigure(figures, {
    metric: 'bytes-per-memory',
    backend: 'sqlite',
    size: memories,
  });
  const diskPerMemory = (perMemory?.value ?? Number.NaN) + (dimensions - 384) * 4;
  const diskBytes = memories * diskPerMemory;
  line(
    'store',
    'database file',
    `${bytes(diskBytes)} (${Math.round(diskPerMemory)} bytes per memory; x1.5 for growth and compaction: ${bytes(diskBytes * 1.5)})`,
    perMemory
      ? `${basisOf(perMemory)}, at 384 dimensions, plus 4 bytes per extra dimension${backend === 'sqlite' ? '' : `; not measured on ${backend}`}`
      : 'no bytes-per-memory figure',
  );
  const parts = (['row', 'keyword-index', 'history', 'secondary-index'] as const).map((part) =>
    findFigure(figures, { metric: `${part}-bytes-per-memory`, backend: 'sqlite', size: memories }),
  );
  if (parts.every((part) => part !== undefined)) {
    const [rows, keyword, history, indexes] = parts.map((part) => part!.value * memories);
    line(
      'store',
      'database file by part',
      `rows ${bytes(rows! + (dimensions - 384) * 4 * memories)}, keyword index ${bytes(keyword!)}, history ${bytes(history!)}, scope and id indexes ${bytes(indexes!)}`,
      `${basisOf(parts[0]!)} and the same run's keyword-index, history and secondary-index bytes`,
    );
  }
  // RAM per memory: the saved index file's bytes per memory when measured (the index is held in
  // RAM as saved), else the peak RSS growth between the two largest sizes measured.
  const indexFile = findFigure(figures, {
    metric: 'index-bytes-per-memory',
    backend: 'sqlite',
    size: memories,
  });
  const [rssLarge, rssSmall] = figures
    .filter((figure) => figure.metric === 'peak-rss-bytes' && figure.backend === 'sqlite')
    .sort((left, right) => (right.size ?? 0) - (left.size ?? 0));
  let indexPerMemory = Number.NaN;
  let indexBasis = 'no index-file or peak-RSS figures at two sizes';
  const float32Note =
    backend === 'sqlite'
      ? ''
      : `; ${backend} keeps float32 vectors by default: expect up to twice this`;
  if (indexFile) {
    indexPerMemory = indexFile.value + (dimensions - 384) * 2;
    indexBasis = `${basisOf(indexFile)} (HNSW, f16, connectivity 32), plus 2 bytes per extra dimension${float32Note}`;
  } else if (rssSmall?.size && rssLarge?.size && rssLarge.size > rssSmall.size) {
    indexPerMemory =
      (rssLarge.value - rssSmall.value) / (rssLarge.size - rssSmall.size) + (dimensions - 384) * 2;
    indexBasis = `peak RSS growth from ${formatCount(rssSmall.size)} to ${formatCount(rssLarge.size)} memories (${bytes(rssSmall.value)} -> ${bytes(rssLarge.value)}; HNSW, f16, connectivity 32), plus 2 bytes per extra dimension${float32Note}`;
  }
  const indexBytes = memories * indexPerMemory;
  line(
    'store',
    'RAM for the vector index',
    `${bytes(indexBytes)} (${Math.round(indexPerMemory)} bytes per memory)`,
    indexBasis,
  );
  // The embedded store saves its index beside the database file.
  const savedIndex = embedded && Number.isFinite(indexBytes) ? indexBytes : 0;
  const totalDisk = diskBytes + savedIndex;
  if (savedIndex > 0) {
    line(
      'store',
      'disk with the saved index',
      `${bytes(totalDisk)}; x1.5: ${bytes(totalDisk * 1.5)}`,
      'database file plus the index file above',
    );
  }
  if (indexBytes / gib > workload.nodeMemoryGiB * 0.7) {
    warnings.push(
      `Beyond one node: the vector index needs ${bytes(indexBytes)}, over 70% of a ${workload.nodeMemoryGiB} GiB node. Shard (Qdrant or Milvus collections over nodes, an Elasticsearch/OpenSearch cluster, Postgres partitioned by user), quantize vectors, or expire old memories.`,
    );
  }
  const measuredSize = largestSize(figures, { metric: 'bytes-per-memory', backend: 'sqlite' });
  if (measuredSize > 0 && memories > measuredSize) {
    warnings.push(
      `Extrapolation: store sizes were measured up to ${formatCount(measuredSize)} memories; ${formatCount(memories)} is linear growth from there.`,
    );
  }
  if (dimensions !== 384) {
    warnings.push(
      `Vector length ${dimensions}: the store figures were measured at 384 dimensions; disk and RAM are adjusted by the vector's bytes, latencies are not.`,
    );
  }

  // Models: tokens per month from the counted calls.
  const tokens = findFigure(figures, { metric: 'llm-tokens-per-add', backend: 'sqlite' });
  const embedAdd = findFigure(figures, { metric: 'embedding-tokens-per-add', backend: 'sqlite' });
  const embedSearch = findFigure(figures, {
    metric: 'embedding-tokens-per-search',
    backend: 'sqlite',
  });
  const llmCalls = findFigure(figures, { metric: 'llm-calls-per-add', backend: 'sqlite' });
  const tokensPerAdd = Number.isFinite(workload.tokensPerAdd)
    ? workload.tokensPerAdd
    : (tokens?.value ?? Number.NaN);
  const addsPerMonth = workload.addsPerDay * 30;
  const searchesPerMonth = workload.searchesPerSecond * secondsPerMonth;
  const llmTokens = inference ? addsPerMonth * tokensPerAdd : 0;
  const embeddingTokens =
    addsPerMonth * (embedAdd?.value ?? 0) + searchesPerMonth * (embedSearch?.value ?? 0);
  if (inference) {
    line(
      'models',
      'LLM tokens per month',
      `${round(llmTokens)} (${round(tokensPerAdd)} per add${llmCalls ? `, ${round(llmCalls.value)} calls` : ''})`,
      Number.isFinite(workload.tokensPerAdd)
        ? '--tokens-per-add'
        : tokens
          ? `${basisOf(tokens)}; two-sentence turns: longer conversations cost more (--tokens-per-add)`
          : 'no token figure',
    );
  }
  line(
    'models',
    'embedding tokens per month',
    round(embeddingTokens),
    [embedAdd, embedSearch]
      .filter((f): f is Figure => f !== undefined)
      .map(basisOf)
      .join('; '),
  );
  const llmPrice = inference
    ? modelPrice(prices, workload.llm)
    : { inputPerMillion: 0, outputPerMillion: 0 };
  const embedderPrice = modelPrice(prices, workload.embedder);
  let modelCost: number | null = null;
  if (llmPrice && embedderPrice) {
    const share = workload.outputShare;
    modelCost =
      (llmTokens * (1 - share) * llmPrice.inputPerMillion +
        llmTokens * share * (llmPrice.outputPerMillion ?? llmPrice.inputPerMillion) +
        embeddingTokens * embedderPrice.inputPerMillion) /
      1_000_000;
    line(
      'cost',
      'models per month',
      `${modelCost.toFixed(2)} ${prices.currency}`,
      `price table of ${prices.asOf}; ${Math.round(share * 100)}% of LLM tokens priced as output (assumed)`,
    );
  } else {
    warnings.push(
      `No price for ${[llmPrice ? undefined : workload.llm, embedderPrice ? undefined : workload.embedder].filter(Boolean).join(' or ')}: give one with --prices <file>.`,
    );
  }
  if (workload.llm.startsWith('local') || workload.embedder.startsWith('local')) {
    warnings.push(
      'Local models cost no tokens but need CPU that this plan does not size (their throughput under load is not measured yet).',
    );
  }

  // Compute: cores and disk at the cloud's rates.
  const compute = prices.compute[workload.cloud];
  let computeCost: number | null = null;
  const totalCores = (embedded ? apiCores : apiReplicas * workload.coresPerReplica) + workers;
  if (compute) {
    const ramCores = Math.ceil(indexBytes / gib / compute.gibRamIncludedPerVcpu);
    const cores = Math.max(totalCores, embedded ? ramCores : totalCores);
    computeCost =
      cores * compute.vcpuHour * hoursPerMonth + (totalDisk * 1.5 * compute.diskGibMonth) / gib;
    line(
      'cost',
      `compute and disk per month (${workload.cloud})`,
      `${computeCost.toFixed(2)} ${prices.currency} (${cores} vCPU, ${bytes(totalDisk * 1.5)} ${compute.disk})`,
      `${compute.instance} at ${compute.vcpuHour} per vCPU-hour, price table of ${prices.asOf}${embedded ? '' : `; the ${backend} servers are not included`}`,
    );
  } else {
    warnings.push(`No compute prices for cloud "${workload.cloud}".`);
  }
  return {
    workload,
    lines,
    warnings,
    totals: {
      apiReplicas,
      apiCores,
      workers,
      storeDiskGiB: (totalDisk * 1.5) / gib,
      databaseFileGiB: diskBytes / gib,
      storeIndexRamGiB: indexBytes / gib,
      llmTokensPerMonth: llmTokens,
      embeddingTokensPerMonth: embeddingTokens,
      modelCostPerMonth: modelCost,
      computeCostPerMonth: computeCost,
      currency: prices.currency,
    },
  };
}

/** A plan as text: one line per sized part with its basis, then the warnings. */
export function formatPlan(plan: Plan): string {
  const w = plan.workload;
  const header = `Deployment for ${formatCount(w.memories)} memories of ${formatCount(w.users)} users, ${w.addsPerDay.toLocaleString('en-US')} adds/day, ${w.searchesPerSecond} searches/s, ${w.dimensions} dimensions, store ${w.backend}, LLM ${w.llm}, embedder ${w.embedder}`;
  const width = Math.max(...plan.lines.map((entry) => `${entry.part}: ${entry.item}`.length));
  const body = plan.lines.map(
    (entry) =>
      `${`${entry.part}: ${entry.item}`.padEnd(width)}  ${entry.value}\n${' '.repeat(width + 2)}from ${entry.basis}`,
  );
  const warnings = plan.warnings.map((warning) => `! ${warning}`);
  return [header, '', ...body, ...(warnings.length > 0 ? ['', ...warnings] : [])].join('\n');
}
