import { type Figure, formatCount } from './figures.js';
import { planDeployment } from './plan.js';
import type { PriceTable } from './prices.js';

/** One prediction of the model set against a measurement. */
export interface CheckRow {
  /** What is predicted. */
  quantity: string;
  /** The model's prediction from the smaller sizes' figures. */
  predicted: number;
  /** What was measured at the target size. */
  measured: number;
  /** (predicted - measured) / measured. */
  error: number;
  /** Unit of both numbers. */
  unit: string;
}

/**
 * Predicts the embedded store at `target` memories from the figures measured below it only, and
 * sets each prediction against the figure measured at `target`: disk, peak RSS, user-scoped
 * search p95 and import rate. Empty when `target` was not measured.
 */
export function checkAgainstMeasurement(
  figures: readonly Figure[],
  prices: PriceTable,
  target = 1_000_000,
): CheckRow[] {
  const measuredAt = (metric: Figure['metric']) =>
    figures.find((f) => f.metric === metric && f.backend === 'sqlite' && f.size === target);
  const below = figures.filter((figure) => figure.size === undefined || figure.size < target);
  const plan = planDeployment(
    {
      memories: target,
      addsPerDay: 0,
      searchesPerSecond: 1,
      dimensions: 384,
      backend: 'sqlite',
      llm: 'none',
      embedder: 'hash',
    },
    below,
    prices,
  );
  const smaller = (metric: Figure['metric']) =>
    below
      .filter((f) => f.metric === metric && f.backend === 'sqlite' && f.size !== undefined)
      .sort((left, right) => right.size! - left.size!)[0];
  const rows: CheckRow[] = [];
  const add = (quantity: string, predicted: number, measured: Figure | undefined, unit: string) => {
    if (!measured || !Number.isFinite(predicted)) return;
    rows.push({
      quantity,
      predicted,
      measured: measured.value,
      error: (predicted - measured.value) / measured.value,
      unit,
    });
  };
  const file = measuredAt('bytes-per-memory');
  add(
    `database file at ${formatCount(target)}`,
    plan.totals.databaseFileGiB * 1024 ** 3,
    file && { ...file, value: file.value * target },
    'bytes',
  );
  const rss = smaller('peak-rss-bytes');
  if (rss?.size) {
    add(
      `peak RSS at ${formatCount(target)}`,
      rss.value + (plan.totals.storeIndexRamGiB * 1024 ** 3 * (target - rss.size)) / target,
      measuredAt('peak-rss-bytes'),
      'bytes',
    );
  }
  // Latency and ingest rate: the nearest smaller size's figure, as the plan reads them.
  for (const [quantity, metric, unit] of [
    ['user-scoped hybrid search p95', 'scoped-search-p95-ms', 'ms'],
    ['`Memory.import` rate', 'import-per-second', 'memories/s'],
  ] as const) {
    add(quantity, smaller(metric)?.value ?? Number.NaN, measuredAt(metric), unit);
  }
  return rows;
}
