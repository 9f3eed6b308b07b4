/** What a figure measures. Latencies are in milliseconds, rates per second, sizes in bytes. */
export type MetricName =
  | 'import-per-second'
  | 'upsert-per-second'
  | 'ingest-per-second'
  | 'scoped-search-p50-ms'
  | 'scoped-search-p95-ms'
  | 'scoped-vector-p95-ms'
  | 'scoped-hybrid-p95-ms'
  | 'unscoped-p95-ms'
  | 'recall-at-10'
  | 'bytes-per-memory'
  | 'peak-rss-bytes'
  | 'index-bytes-per-memory'
  | 'row-bytes-per-memory'
  | 'keyword-index-bytes-per-memory'
  | 'history-bytes-per-memory'
  | 'secondary-index-bytes-per-memory'
  | 'index-ready-seconds'
  | 'write-visible-ms'
  | 'service-searches-per-second'
  | 'service-search-p95-ms'
  | 'service-adds-per-second'
  | 'service-add-p95-ms'
  | 'service-search-cpu-ms'
  | 'llm-calls-per-add'
  | 'llm-tokens-per-add'
  | 'embedding-calls-per-add'
  | 'embedding-tokens-per-add'
  | 'embedding-calls-per-search'
  | 'embedding-tokens-per-search'
  | 'add-overhead-p50-ms'
  | 'search-overhead-p50-ms'
  | 'hosted-add-p50-ms'
  | 'hosted-search-p50-ms'
  | 'backup-per-second'
  | 'restore-per-second'
  | 'expiry-cleanup-per-second'
  | 'dedupe-pass-per-second'
  | 'queue-adds-per-second';

/** One measured number, with when, where and how it was measured. */
export interface Figure {
  /** What is measured. */
  metric: MetricName;
  /** The store it was measured on (`sqlite`, `pgvector`, ...). */
  backend: string;
  /** Memories stored when measured. */
  size?: number;
  /** Vector length. */
  dimensions?: number;
  /** Concurrent connections (service figures). */
  connections?: number;
  /** Server processes (service figures). */
  processes?: number;
  /** Concurrent queue workers (queue figures). */
  workers?: number;
  /** The number. */
  value: number;
  /** Its unit, for people reading the file. */
  unit: string;
  /** When it was measured (UTC, `YYYY-MM-DD HH:MM`). */
  measuredAt: string;
  /** One-minute load average before -> after the run, when recorded. */
  load?: string;
  /** The machine, as the benchmark described it. */
  machine?: string;
  /** The command that measured it. */
  command: string;
  /** The section of docs/benchmarks.md it comes from. */
  section: string;
}

/** The machine-readable file the benchmarks write and the model reads. */
export interface FiguresFile {
  /** Format of this file. */
  formatVersion: 1;
  /** Where the figures were read from. */
  source: string;
  /** The figures. */
  figures: Figure[];
}

interface Block {
  key: string;
  body: string;
  command: string;
  measuredAt: string;
  machine?: string;
  load?: string;
}

const units: Record<MetricName, string> = {
  'import-per-second': 'memories/s',
  'upsert-per-second': 'memories/s',
  'ingest-per-second': 'memories/s',
  'scoped-search-p50-ms': 'ms',
  'scoped-search-p95-ms': 'ms',
  'scoped-vector-p95-ms': 'ms',
  'scoped-hybrid-p95-ms': 'ms',
  'unscoped-p95-ms': 'ms',
  'recall-at-10': 'fraction',
  'bytes-per-memory': 'bytes',
  'peak-rss-bytes': 'bytes',
  'index-bytes-per-memory': 'bytes',
  'row-bytes-per-memory': 'bytes',
  'keyword-index-bytes-per-memory': 'bytes',
  'history-bytes-per-memory': 'bytes',
  'secondary-index-bytes-per-memory': 'bytes',
  'index-ready-seconds': 's',
  'write-visible-ms': 'ms',
  'service-searches-per-second': 'requests/s',
  'service-search-p95-ms': 'ms',
  'service-adds-per-second': 'requests/s',
  'service-add-p95-ms': 'ms',
  'service-search-cpu-ms': 'ms',
  'llm-calls-per-add': 'calls',
  'llm-tokens-per-add': 'tokens',
  'embedding-calls-per-add': 'calls',
  'embedding-tokens-per-add': 'tokens',
  'embedding-calls-per-search': 'calls',
  'embedding-tokens-per-search': 'tokens',
  'add-overhead-p50-ms': 'ms',
  'search-overhead-p50-ms': 'ms',
  'hosted-add-p50-ms': 'ms',
  'hosted-search-p50-ms': 'ms',
  'backup-per-second': 'memories/s',
  'restore-per-second': 'memories/s',
  'expiry-cleanup-per-second': 'memories/s',
  'dedupe-pass-per-second': 'memories/s',
  'queue-adds-per-second': 'adds/s',
};

/** Parses `10k`, `1M`, `2,000` or `1m` into a number. */
export function parseCount(text: string): number {
  const match = /^([\d.,]+)\s*([kKmM]?)$/.exec(text.trim());
  if (!match) return Number.NaN;
  const base = Number(match[1]!.replaceAll(',', ''));
  const unit = match[2]!.toLowerCase();
  return base * (unit === 'k' ? 1_000 : unit === 'm' ? 1_000_000 : 1);
}

/** When, where and at what load a run was, from its `Run:` line. */
function runOf(body: string): Pick<Block, 'measuredAt' | 'machine' | 'load'> {
  const run =
    /Run: (\d{4}-\d\d-\d\dT\d\d:\d\d)[^ ]* on ([^;]+); load average \(1\/5\/15 min\) ([\d.]+) \/[^,]*before, ([\d.]+) \//.exec(
      body,
    );
  return {
    measuredAt: run ? run[1]!.replace('T', ' ') : 'unknown',
    machine: run?.[2],
    load: run ? `${run[3]} -> ${run[4]}` : undefined,
  };
}

function blocks(markdown: string): Block[] {
  const found: Block[] = [];
  for (const match of markdown.matchAll(/<!-- bench:([\w-]+) -->([\s\S]*?)<!-- \/bench:\1 -->/g)) {
    const body = match[2]!;
    const command = /Command: `([^`]+)`/.exec(body)?.[1] ?? `pnpm bench ${match[1]}`;
    found.push({ key: match[1]!, body, command, ...runOf(body) });
  }
  return found;
}

/** The rows of every Markdown table in a text, split into trimmed cells (header rows kept). */
function tableRows(text: string): string[][] {
  return text
    .split('\n')
    .filter((line) => line.startsWith('|') && !/^\|\s*-/.test(line))
    .map((line) =>
      line
        .slice(1, line.endsWith('|') ? -1 : undefined)
        .split(/(?<!\\)\|/)
        .map((cell) => cell.trim()),
    );
}

/** `7.57 / 19.1` -> [7.57, 19.1]; `2.0 / 1.0 (2.0 texts)` -> [2, 1]. */
function pair(cell: string | undefined): [number, number] {
  const [left, right] = (cell ?? '').split('/');
  return [Number.parseFloat(left ?? ''), Number.parseFloat(right ?? '')];
}

function dataComment(body: string, name: string): unknown {
  const match = new RegExp(`<!-- ${name}-data: ([\\s\\S]*?) -->`).exec(body);
  return match ? JSON.parse(match[1]!) : undefined;
}

interface Summary {
  median: number;
  p95: number;
  count: number;
}

function scaleFigures(block: Block, push: (figure: Omit<Figure, 'unit'>) => void) {
  const data = dataComment(block.body, 'scale') as
    | {
        size: number;
        importSeconds: number;
        storeSeconds: number;
        storeCount: number;
        scopedSearch: Summary;
        scopedVector: Summary;
        unscoped: Summary;
        recall: number;
        peakRssBytes: number;
        fileBytes: number;
        indexReadyMs?: number;
        indexBytes?: number;
        fileParts?: { rows: number; keyword: number; history: number; indexes: number };
        ranAt: string;
        load: string;
      }[]
    | undefined;
  for (const entry of data ?? []) {
    const base = {
      backend: 'sqlite',
      size: entry.size,
      dimensions: 384,
      measuredAt: entry.ranAt,
      load: entry.load,
      machine: block.machine,
      command: `pnpm bench scale --size ${formatCount(entry.size)}`,
      section: '1. Scale of the embedded default',
    };
    const add = (metric: MetricName, value: number) => {
      if (Number.isFinite(value) && value > 0) push({ ...base, metric, value });
    };
    add('import-per-second', entry.size / entry.importSeconds);
    add('upsert-per-second', entry.storeCount / entry.storeSeconds);
    if (entry.scopedSearch.count > 0) {
      add('scoped-search-p50-ms', entry.scopedSearch.median);
      add('scoped-search-p95-ms', entry.scopedSearch.p95);
      add('scoped-vector-p95-ms', entry.scopedVector.p95);
      add('unscoped-p95-ms', entry.unscoped.p95);
      add('recall-at-10', entry.recall);
    }
    add('bytes-per-memory', entry.fileBytes / entry.size);
    add('peak-rss-bytes', entry.peakRssBytes);
    if (entry.indexBytes !== undefined)
      add('index-bytes-per-memory', entry.indexBytes / entry.size);
    if (entry.indexReadyMs !== undefined) add('index-ready-seconds', entry.indexReadyMs / 1000);
  }
}

function backendFigures(block: Block, push: (figure: Omit<Figure, 'unit'>) => void) {
  const data = dataComment(block.body, 'backends') as
    | {
        vector?: {
          backend: string;
          size: number;
          dimensions: number;
          ranAt: string;
          load: string;
          machine?: string;
          ingestPerSecond?: number;
          scopedVector?: Summary;
          scopedHybrid?: Summary;
          unscoped?: Summary;
          recall?: number;
          visibility?: Summary;
        }[];
      }
    | undefined;
  for (const entry of data?.vector ?? []) {
    const base = {
      backend: entry.backend,
      size: entry.size,
      dimensions: entry.dimensions,
      measuredAt: entry.ranAt,
      load: entry.load,
      machine: entry.machine ?? block.machine,
      command: `pnpm bench backends --size ${formatCount(entry.size)} --dimensions ${entry.dimensions}`,
      section: '7. Backends',
    };
    const add = (metric: MetricName, value: number | undefined) => {
      if (value !== undefined && Number.isFinite(value) && value > 0) {
        push({ ...base, metric, value });
      }
    };
    add('ingest-per-second', entry.ingestPerSecond);
    if (entry.scopedVector?.count) add('scoped-vector-p95-ms', entry.scopedVector.p95);
    if (entry.scopedHybrid?.count) add('scoped-hybrid-p95-ms', entry.scopedHybrid.p95);
    if (entry.unscoped?.count) add('unscoped-p95-ms', entry.unscoped.p95);
    add('recall-at-10', entry.recall);
    if (entry.visibility?.count) add('write-visible-ms', entry.visibility.median);
  }
}

/**
 * The service section by backend: its own rows are the embedded store's, and each
 * `<!-- service-backend:<name> -->` block (written by `pnpm bench service --backend <name>`)
 * holds another backend's run, with its own command.
 */
function serviceParts(body: string): { backend: string; body: string }[] {
  const pattern = /<!-- service-backend:([a-z0-9-]+) -->([\s\S]*?)<!-- \/service-backend:\1 -->/g;
  const parts = [...body.matchAll(pattern)].map((match) => ({
    backend: match[1]!,
    body: match[2]!,
  }));
  return [{ backend: 'sqlite', body: body.replace(pattern, '') }, ...parts];
}

function serviceFigures(block: Block, push: (figure: Omit<Figure, 'unit'>) => void) {
  for (const part of serviceParts(block.body)) {
    const command = /Command: `([^`]+)`/.exec(part.body)?.[1];
    // A backend's block has its own command and run; its key may name the size and vector
    // length too (pgvector-ivfflat-1m-1536), the command names the backend alone.
    const run = runOf(part.body);
    const own = command ? { command, ...(run.measuredAt === 'unknown' ? {} : run) } : {};
    const backend = command ? (/--backend (\S+)/.exec(command)?.[1] ?? 'sqlite') : part.backend;
    serviceBackendFigures({ ...block, ...own, body: part.body }, backend, push);
  }
}

function serviceBackendFigures(
  block: Block,
  backend: string,
  push: (figure: Omit<Figure, 'unit'>) => void,
) {
  const size = parseCount(/--size (\S+)/.exec(block.command)?.[1] ?? '100k');
  const dimensions = parseCount(/--dimensions (\S+)/.exec(block.command)?.[1] ?? '384');
  const processes = Number(/\((\d+) processes/.exec(block.body)?.[1] ?? 1);
  const base = {
    backend,
    size,
    dimensions,
    processes,
    measuredAt: block.measuredAt,
    load: block.load,
    machine: block.machine,
    command: block.command,
    section: '5. The service',
  };
  for (const row of tableRows(block.body)) {
    const [route, connections, rate, , p95] = row;
    if (!route?.startsWith('POST') || !Number.isFinite(Number(connections))) continue;
    const add = route.includes('/search');
    const common = { ...base, connections: Number(connections) };
    push({
      ...common,
      metric: add ? 'service-searches-per-second' : 'service-adds-per-second',
      value: Number(rate),
    });
    push({
      ...common,
      metric: add ? 'service-search-p95-ms' : 'service-add-p95-ms',
      value: Number.parseFloat(p95 ?? ''),
    });
  }
  const inside = /Time inside `Memory\.search`[^:]*:\s*([\d.]+) ms/.exec(block.body);
  if (inside) push({ ...base, metric: 'service-search-cpu-ms', value: Number(inside[1]) });
}

function pipelineFigures(block: Block, push: (figure: Omit<Figure, 'unit'>) => void) {
  const hosted = block.key === 'mem0-latency';
  for (const row of tableRows(block.body)) {
    const [
      stored,
      system,
      add,
      addOverhead,
      addCalls,
      addTokens,
      search,
      searchOverhead,
      searchCalls,
      searchTokens,
    ] = row;
    if (system !== 'Engram') continue;
    const base = {
      backend: 'sqlite',
      size: parseCount(stored ?? ''),
      dimensions: 384,
      measuredAt: block.measuredAt,
      load: block.load,
      machine: block.machine,
      command: block.command,
      section: hosted ? '3. Side by side with mem0' : '2. The add and search pipeline',
    };
    const emit = (metric: MetricName, value: number) => {
      if (Number.isFinite(value)) push({ ...base, metric, value });
    };
    if (hosted) {
      emit('hosted-add-p50-ms', pair(add)[0]);
      emit('hosted-search-p50-ms', pair(search)[0]);
      continue;
    }
    emit('add-overhead-p50-ms', pair(addOverhead)[0]);
    emit('search-overhead-p50-ms', pair(searchOverhead)[0]);
    emit('llm-calls-per-add', pair(addCalls)[0]);
    emit('embedding-calls-per-add', pair(addCalls)[1]);
    emit('llm-tokens-per-add', pair(addTokens)[0]);
    emit('embedding-tokens-per-add', pair(addTokens)[1]);
    emit('embedding-calls-per-search', pair(searchCalls)[1]);
    emit('embedding-tokens-per-search', Number.parseFloat(searchTokens ?? ''));
  }
}

/** `1000000` -> `1M`, `100000` -> `100k`. */
export function formatCount(count: number): string {
  if (count >= 1_000_000 && count % 1_000_000 === 0) return `${count / 1_000_000}M`;
  if (count >= 1_000 && count % 1_000 === 0) return `${count / 1_000}k`;
  return String(count);
}

/**
 * Reads every figure the capacity model uses out of docs/benchmarks.md: the data comments the
 * scale and backends workloads embed, and the tables of the service, pipeline and hosted-latency
 * workloads. Each figure keeps the date, load, machine and command of its own run.
 */
export function extractFigures(markdown: string): Figure[] {
  const figures: Figure[] = [];
  const push = (figure: Omit<Figure, 'unit'>) => {
    if (Number.isFinite(figure.value)) figures.push({ ...figure, unit: units[figure.metric] });
  };
  for (const block of blocks(markdown)) {
    if (block.key === 'scale') scaleFigures(block, push);
    else if (block.key === 'backends') backendFigures(block, push);
    else if (block.key === 'service') serviceFigures(block, push);
    else if (block.key === 'pipeline' || block.key === 'mem0-latency') pipelineFigures(block, push);
    else if (block.key === 'lifecycle') lifecycleFigures(block, push);
    else if (block.key === 'queues') queueFigures(block, push);
  }
  return figures;
}

const lifecycleMetrics: Record<string, MetricName> = {
  backup: 'backup-per-second',
  restore: 'restore-per-second',
  'expiry cleanup': 'expiry-cleanup-per-second',
  'dedupe pass': 'dedupe-pass-per-second',
};

function lifecycleFigures(block: Block, push: (figure: Omit<Figure, 'unit'>) => void) {
  const data = (dataComment(block.body, 'lifecycle') ?? []) as {
    size: number;
    step: string;
    perSecond: number;
  }[];
  for (const entry of data) {
    const metric = lifecycleMetrics[entry.step];
    if (!metric) continue;
    push({
      metric,
      backend: 'sqlite',
      size: entry.size,
      dimensions: 384,
      value: entry.perSecond,
      measuredAt: block.measuredAt,
      load: block.load,
      machine: block.machine,
      command: block.command,
      section: 'Data lifecycle',
    });
  }
}

function queueFigures(block: Block, push: (figure: Omit<Figure, 'unit'>) => void) {
  const data = (dataComment(block.body, 'queues') ?? []) as {
    backend: string;
    workers: number;
    jobs: number;
    addsPerSecond: number;
  }[];
  for (const entry of data) {
    push({
      metric: 'queue-adds-per-second',
      backend: entry.backend,
      size: entry.jobs,
      workers: entry.workers,
      value: entry.addsPerSecond,
      measuredAt: block.measuredAt,
      load: block.load,
      machine: block.machine,
      command: block.command,
      section: 'Queues',
    });
  }
}

/** What to look up: a metric on a backend, optionally at a size and connection count. */
export interface FigureQuery {
  /** The metric. */
  metric: MetricName;
  /** The backend (default: any). */
  backend?: string;
  /** Prefer the figure measured at the size closest to this one (log scale). */
  size?: number;
  /** Only figures at this many connections. */
  connections?: number;
}

/** The figure that best matches a query: same metric and backend, nearest size. */
export function findFigure(figures: readonly Figure[], query: FigureQuery): Figure | undefined {
  const candidates = figures.filter(
    (figure) =>
      figure.metric === query.metric &&
      (query.backend === undefined || figure.backend === query.backend) &&
      (query.connections === undefined || figure.connections === query.connections),
  );
  if (query.size === undefined) return candidates[0];
  const distance = (figure: Figure) =>
    figure.size === undefined
      ? Number.POSITIVE_INFINITY
      : Math.abs(Math.log(figure.size / query.size!));
  return candidates.sort((left, right) => distance(left) - distance(right))[0];
}
