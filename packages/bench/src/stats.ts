/** Summary of a list of timings. */
export interface Summary {
  count: number;
  median: number;
  p95: number;
  mean: number;
  max: number;
}

/**
 * The nearest-rank percentile: the smallest sample such that at least `fraction` of the samples
 * are at or below it. `fraction` is between 0 and 1.
 */
export function percentile(samples: readonly number[], fraction: number): number {
  if (samples.length === 0) return Number.NaN;
  if (!(fraction >= 0 && fraction <= 1)) throw new RangeError('fraction must be in [0, 1]');
  const sorted = [...samples].sort((left, right) => left - right);
  const rank = Math.max(1, Math.ceil(fraction * sorted.length));
  return sorted[rank - 1]!;
}

export function summarize(samples: readonly number[]): Summary {
  const total = samples.reduce((sum, value) => sum + value, 0);
  return {
    count: samples.length,
    median: percentile(samples, 0.5),
    p95: percentile(samples, 0.95),
    mean: samples.length === 0 ? Number.NaN : total / samples.length,
    max: samples.length === 0 ? Number.NaN : Math.max(...samples),
  };
}

/** Parses sizes such as `10k`, `100k`, `1m`, `2500` (case-insensitive, `_` and `,` allowed). */
export function parseSize(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([kKmM]?)\s*$/.exec(text.replace(/[_,]/g, ''));
  if (!match) throw new Error(`Not a size: "${text}" (expected e.g. 10k, 100k, 1m or 2500).`);
  const factor = match[2]!.toLowerCase() === 'k' ? 1e3 : match[2]!.toLowerCase() === 'm' ? 1e6 : 1;
  const value = Math.round(Number(match[1]) * factor);
  if (value <= 0) throw new Error(`Size must be positive: "${text}".`);
  return value;
}

/** `1000000` -> `1M`, `100000` -> `100k`, `1500` -> `1.5k`. */
export function formatCount(value: number): string {
  if (value >= 1e6 && value % 1e5 === 0) return `${value / 1e6}M`;
  if (value >= 1e3 && value % 100 === 0) return `${value / 1e3}k`;
  return String(value);
}

export function formatMs(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  if (value >= 100) return value.toFixed(0);
  if (value >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

export function formatBytes(value: number): string {
  if (value >= 1024 ** 3) return `${(value / 1024 ** 3).toFixed(2)} GiB`;
  if (value >= 1024 ** 2) return `${(value / 1024 ** 2).toFixed(0)} MiB`;
  return `${(value / 1024).toFixed(0)} KiB`;
}

export function formatRatio(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  return value >= 10 ? `${value.toFixed(0)}x` : `${value.toFixed(1)}x`;
}

export function formatRate(perSecond: number): string {
  return `${Math.round(perSecond).toLocaleString('en-US')}/s`;
}
