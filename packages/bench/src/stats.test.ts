import { describe, expect, it } from 'vitest';
import { formatCount, parseSize, percentile, summarize } from './stats.js';

describe('percentile', () => {
  it('uses the nearest rank', () => {
    const samples = Array.from({ length: 100 }, (_, index) => index + 1);
    expect(percentile(samples, 0.5)).toBe(50);
    expect(percentile(samples, 0.95)).toBe(95);
    expect(percentile(samples, 1)).toBe(100);
    expect(percentile(samples, 0)).toBe(1);
  });

  it('does not depend on the order of the samples', () => {
    expect(percentile([5, 1, 4, 2, 3], 0.5)).toBe(3);
    expect(percentile([10, 1], 0.95)).toBe(10);
  });

  it('is NaN without samples and rejects fractions outside [0, 1]', () => {
    expect(percentile([], 0.5)).toBeNaN();
    expect(() => percentile([1], 1.5)).toThrow(RangeError);
  });

  it('summarizes median, p95, mean and max', () => {
    expect(summarize([4, 1, 3, 2])).toEqual({ count: 4, median: 2, p95: 4, mean: 2.5, max: 4 });
  });
});

describe('sizes', () => {
  it('parses k and m suffixes', () => {
    expect(parseSize('10k')).toBe(10_000);
    expect(parseSize('100K')).toBe(100_000);
    expect(parseSize('1m')).toBe(1_000_000);
    expect(parseSize('1.5k')).toBe(1500);
    expect(parseSize('2_500')).toBe(2500);
    expect(() => parseSize('ten')).toThrow(/Not a size/);
    expect(() => parseSize('0')).toThrow(/positive/);
  });

  it('formats counts back', () => {
    expect(formatCount(1_000_000)).toBe('1M');
    expect(formatCount(100_000)).toBe('100k');
    expect(formatCount(250)).toBe('250');
  });
});
