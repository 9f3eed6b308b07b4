import { describe, expect, it } from 'vitest';
import { checkAgainstMeasurement } from './check.js';
import { extractFigures, type Figure, findFigure, parseCount } from './figures.js';
import { loadFigures, loadPrices } from './load.js';
import { formatPlan, planDeployment, type Workload } from './plan.js';
import { mergePrices, modelPrice } from './prices.js';

const run = (when: string) =>
  `Run: ${when}:00Z on 2 cores (Test CPU), 24 GiB memory, Node v20, linux/x64; load average (1/5/15 min) 1.00 / 1.00 / 1.00 before, 1.50 / 1.00 / 1.00 after.`;

const scaleEntry = (size: number, fileBytes: number, peakRssBytes: number, p95: number) => ({
  size,
  importSeconds: size / 10_000,
  storeSeconds: size / 20_000,
  storeCount: size,
  scopedSearch: { count: 500, median: p95 / 2, p95, mean: p95 / 2, max: p95 },
  scopedVector: { count: 500, median: 1, p95: 1.5, mean: 1, max: 2 },
  unscoped: { count: 20, median: 2, p95: 3, mean: 2, max: 4 },
  recall: 1,
  rssBytes: peakRssBytes,
  peakRssBytes,
  fileBytes,
  ranAt: '2026-12-01 10:00',
  load: '1.00 -> 1.20',
});

const document = [
  '<!-- bench:scale -->',
  'Command: `pnpm bench scale --size 100k`',
  '',
  run('2026-12-01T10:00'),
  `<!-- scale-data: ${JSON.stringify([
    scaleEntry(10_000, 25_000_000, 200 * 2 ** 20, 4),
    scaleEntry(100_000, 250_000_000, 300 * 2 ** 20, 5),
    scaleEntry(1_000_000, 2_500_000_000, 1300 * 2 ** 20, 6),
  ])} -->`,
  '<!-- /bench:scale -->',
  '<!-- bench:pipeline -->',
  'Command: `pnpm bench pipeline`',
  '',
  run('2026-12-02T10:00'),
  '',
  '| stored | system | add p50 / p95 ms | add overhead p50 / p95 ms | add LLM / embedding calls | add LLM / embedding tokens | search p50 / p95 ms | search overhead p50 / p95 ms | search LLM / embedding calls | search embedding tokens |',
  '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  '| 1k | Engram | 7.57 / 19.1 | 6.31 / 18.2 | 2.0 / 1.0 (2.0 texts) | 800 / 12 | 5.45 / 8.56 | 5.03 / 8.13 | 0.0 / 1.0 (1.0 texts) | 10 |',
  '| 1k | mem0ai (PyPI 2.2.1) | 1 / 1 | 1 / 1 | 1.0 / 2.0 | 9000 / 36 | 1 / 1 | 1 / 1 | 0.0 / 1.0 | 10 |',
  '<!-- /bench:pipeline -->',
  '<!-- bench:mem0-latency -->',
  'Command: `pnpm bench mem0-latency --size 1k`',
  '',
  run('2026-12-02T11:00'),
  '| 1k | Engram | 600 / 644 | 12.4 / 19.4 | 2.0 / 1.0 (2.0 texts) | 804 / 12 | 30.6 / 34.1 | 8.79 / 12.3 | 0.0 / 1.0 (1.0 texts) | 10 |',
  '<!-- /bench:mem0-latency -->',
  '<!-- bench:service -->',
  'Command: `pnpm bench service --size 100k`',
  '',
  run('2026-12-03T10:00'),
  '',
  '100k memories of 1k users in the embedded store, `engram serve` (2 processes, `ENGRAM_WORKERS`)',
  '',
  '| route | connections | requests/s | p50 ms | p95 ms | p99 ms | requests | non-2xx | errors (timeouts) |',
  '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  '| POST /v1/search | 1 | 300 | 2.65 | 6.55 | 13.9 | 3014 | 0 | 0 (0) |',
  '| POST /v1/search | 64 | 400 | 121 | 338 | 479 | 4291 | 0 | 0 (0) |',
  '| POST /v1/memories (infer: false) | 64 | 1200 | 39.1 | 98.7 | 275 | 13244 | 0 | 0 (0) |',
  '',
  '- Time inside `Memory.search` (server metric, mean over the search rows): 10.8 ms per search.',
  '',
  '<!-- service-backend:pgvector -->',
  '### On pgvector',
  '',
  'Command: `pnpm bench service --size 10k --backend pgvector`',
  '',
  '10k memories of 100 users in pgvector, `engram serve` (2 processes, `ENGRAM_WORKERS`)',
  '',
  '| route | connections | requests/s | p50 ms | p95 ms | p99 ms | requests | non-2xx | errors (timeouts) |',
  '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  '| POST /v1/search | 64 | 250 | 200 | 400 | 500 | 2500 | 0 | 0 (0) |',
  '<!-- /service-backend:pgvector -->',
  '<!-- service-backend:pgvector-ivfflat-1m-1536 -->',
  '### On pgvector-ivfflat, 1M memories x 1,536 dimensions',
  '',
  'Command: `pnpm bench service --size 1m --dimensions 1536 --backend pgvector-ivfflat`',
  '',
  run('2026-12-04T09:00'),
  '',
  '| route | connections | requests/s | p50 ms | p95 ms | p99 ms | requests | non-2xx | errors (timeouts) |',
  '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  '| POST /v1/search | 1 | 70 | 12 | 19 | 80 | 700 | 0 | 0 (0) |',
  '<!-- /service-backend:pgvector-ivfflat-1m-1536 -->',
  '<!-- /bench:service -->',
].join('\n');

const figures = extractFigures(document);
const prices = loadPrices();
const workload: Workload = {
  memories: 1_000_000,
  addsPerDay: 86_400,
  searchesPerSecond: 120,
  dimensions: 384,
  backend: 'sqlite',
  llm: 'openai:gpt-4.1-mini',
  embedder: 'openai:text-embedding-3-small',
};

describe('extractFigures', () => {
  it('reads scale data, pipeline, hosted-latency and service tables with their provenance', () => {
    const file = findFigure(figures, {
      metric: 'bytes-per-memory',
      backend: 'sqlite',
      size: 100_000,
    });
    expect(file).toMatchObject({ value: 2500, size: 100_000, measuredAt: '2026-12-01 10:00' });
    expect(file?.command).toBe('pnpm bench scale --size 100k');
    const searches = findFigure(figures, {
      metric: 'service-searches-per-second',
      connections: 64,
    });
    expect(searches).toMatchObject({
      value: 400,
      processes: 2,
      size: 100_000,
      load: '1.00 -> 1.50',
    });
    expect(findFigure(figures, { metric: 'service-search-cpu-ms' })?.value).toBe(10.8);
    expect(findFigure(figures, { metric: 'llm-tokens-per-add' })?.value).toBe(800);
    expect(figures.filter((figure) => figure.metric === 'llm-tokens-per-add')).toHaveLength(1);
    expect(findFigure(figures, { metric: 'hosted-add-p50-ms' })?.value).toBe(600);
    expect(findFigure(figures, { metric: 'service-adds-per-second' })?.value).toBe(1200);
    expect(
      findFigure(figures, {
        metric: 'service-searches-per-second',
        backend: 'pgvector',
        connections: 64,
      }),
    ).toMatchObject({ value: 250, size: 10_000, processes: 2, measuredAt: '2026-12-03 10:00' });
    expect(
      findFigure(figures, { metric: 'service-searches-per-second', backend: 'pgvector-ivfflat' }),
    ).toMatchObject({
      value: 70,
      size: 1_000_000,
      dimensions: 1536,
      measuredAt: '2026-12-04 09:00',
      command: 'pnpm bench service --size 1m --dimensions 1536 --backend pgvector-ivfflat',
    });
    expect(
      findFigure(figures, {
        metric: 'service-searches-per-second',
        backend: 'sqlite',
        size: 10_000,
      })?.value,
    ).toBe(300);
  });

  it('parses counts as the benchmarks write them', () => {
    expect(parseCount('10k')).toBe(10_000);
    expect(parseCount('1M')).toBe(1_000_000);
    expect(parseCount('2,000')).toBe(2000);
    expect(parseCount('lots')).toBeNaN();
  });

  it('the shipped figures file holds figures with provenance', () => {
    const shipped = loadFigures();
    expect(shipped.formatVersion).toBe(1);
    expect(shipped.figures.length).toBeGreaterThan(20);
    for (const figure of shipped.figures) {
      expect(figure.command).toMatch(/^pnpm bench /);
      expect(figure.measuredAt).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d$/);
      expect(Number.isFinite(figure.value)).toBe(true);
    }
  });
});

describe('planDeployment', () => {
  it('sizes the embedded store on one node from the measured figures, naming each', () => {
    const plan = planDeployment(workload, figures, prices);
    // 400 searches/s on 2 processes = 200 per core; at 60% use, 120 searches/s need 1 core.
    expect(plan.totals.apiCores).toBe(2);
    expect(plan.totals.apiReplicas).toBe(1);
    // 1 add/s average x 3 at peak x 0.6 s in flight = 1.8, 2 per worker.
    expect(plan.totals.workers).toBe(1);
    expect(plan.totals.databaseFileGiB).toBeCloseTo((2500 * 1_000_000) / 1024 ** 3, 5);
    expect(plan.totals.llmTokensPerMonth).toBe(86_400 * 30 * 800);
    for (const line of plan.lines) expect(line.basis.length).toBeGreaterThan(0);
    const text = formatPlan(plan);
    expect(text).toContain('service-searches-per-second = 400 requests/s');
    expect(text).toContain('pnpm bench service --size 100k');
    expect(plan.warnings.join('\n')).toContain('Extrapolation: the service was measured at 100k');
  });

  it('gives networked stores at least two replicas and warns where it goes beyond one node', () => {
    const plan = planDeployment(
      {
        ...workload,
        memories: 100_000_000,
        backend: 'pgvector',
        dimensions: 1536,
        nodeMemoryGiB: 64,
      },
      figures,
      prices,
    );
    expect(plan.totals.apiReplicas).toBeGreaterThanOrEqual(2);
    const warnings = plan.warnings.join('\n');
    expect(warnings).toContain('Beyond one node: the vector index needs');
    expect(warnings).toContain('store sizes were measured up to 1M');
    expect(warnings).toContain('Vector length 1536');
    expect(warnings).toContain('with pgvector the store');
  });

  it('prices models from the dated table, merges overrides and warns on an unknown model', () => {
    expect(modelPrice(prices, 'local:all-MiniLM-L6-v2')).toEqual(prices.models.local);
    const custom = mergePrices(prices, {
      models: { 'acme:small': { inputPerMillion: 1, outputPerMillion: 1 } },
    });
    const priced = planDeployment({ ...workload, llm: 'acme:small' }, figures, custom);
    expect(priced.totals.modelCostPerMonth).toBeGreaterThan(0);
    const unknown = planDeployment({ ...workload, llm: 'acme:small' }, figures, prices);
    expect(unknown.totals.modelCostPerMonth).toBeNull();
    expect(unknown.warnings.join('\n')).toContain('No price for acme:small');
    expect(prices.asOf).toMatch(/^\d{4}-\d\d/);
  });

  it('leaves out workers and LLM tokens when adds run without inference', () => {
    const plan = planDeployment({ ...workload, llm: 'none' }, figures, prices);
    expect(plan.totals.workers).toBe(0);
    expect(plan.totals.llmTokensPerMonth).toBe(0);
  });
});

describe('checkAgainstMeasurement', () => {
  it('predicts 1M from the smaller sizes only and reports the error against the 1M figure', () => {
    const rows = checkAgainstMeasurement(figures, prices);
    const file = rows.find((row) => row.quantity.startsWith('database file'));
    expect(file?.measured).toBe(2_500_000_000);
    expect(file?.error).toBeCloseTo(0, 5);
    const search = rows.find((row) => row.quantity.includes('search p95'));
    expect(search).toMatchObject({ predicted: 5, measured: 6 });
    // 100 MiB of RSS per 90k memories, extended to 1M: 300 MiB + 1000 MiB.
    const rss = rows.find((row) => row.quantity.startsWith('peak RSS'));
    expect(rss?.predicted).toBeCloseTo(1300 * 2 ** 20, -3);
  });

  it('is empty when the target size was never measured', () => {
    const smaller = figures.filter((figure: Figure) => figure.size !== 1_000_000);
    expect(checkAgainstMeasurement(smaller, prices)).toEqual([]);
  });
});

describe('lifecycle and queue figures', () => {
  const run =
    'Run: 2026-12-06T17:39:37Z on 2 cores (test CPU), 24 GiB memory; load average (1/5/15 min) 0.50 / 0.40 / 0.30 before, 0.90 / 0.50 / 0.30 after.';
  const lifecycle = [
    '<!-- bench:lifecycle -->',
    'Command: `pnpm bench lifecycle --size 100k`',
    '',
    run,
    '',
    '<!-- lifecycle-data: [{"size":100000,"step":"backup","perSecond":9000,"peakRssBytes":1},{"size":100000,"step":"dedupe pass","perSecond":400,"peakRssBytes":1}] -->',
    '<!-- /bench:lifecycle -->',
  ].join('\n');
  const queues = [
    '<!-- bench:queues -->',
    'Command: `pnpm bench queues`',
    '',
    run,
    '',
    '<!-- queues-data: [{"backend":"rabbitmq","workers":4,"jobs":10000,"addsPerSecond":263}] -->',
    '<!-- /bench:queues -->',
  ].join('\n');

  it('reads backup, dedupe and queue throughput from their sections', () => {
    const found = extractFigures(`${lifecycle}\n\n${queues}`);
    expect(findFigure(found, { metric: 'backup-per-second', size: 100_000 })).toMatchObject({
      backend: 'sqlite',
      value: 9000,
      unit: 'memories/s',
      load: '0.50 -> 0.90',
    });
    expect(findFigure(found, { metric: 'dedupe-pass-per-second' })?.value).toBe(400);
    expect(
      findFigure(found, { metric: 'queue-adds-per-second', backend: 'rabbitmq' }),
    ).toMatchObject({ workers: 4, value: 263, unit: 'adds/s' });
  });
});
