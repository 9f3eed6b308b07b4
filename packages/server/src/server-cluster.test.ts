import { describe, expect, it } from 'vitest';
import { createRateLimitLeases, resolveWorkerCount } from './server-cluster.js';
import { loadServerConfig } from './server-config.js';

describe('resolveWorkerCount', () => {
  it('takes ENGRAM_WORKERS, and runs one process with an embedded Kuzu graph', () => {
    expect(resolveWorkerCount(loadServerConfig({}, { ENGRAM_WORKERS: '3' }))).toEqual({
      workers: 3,
    });
    expect(resolveWorkerCount(loadServerConfig({ workers: 2 }, {})).workers).toBe(2);
    const kuzu = resolveWorkerCount(
      loadServerConfig({}, { ENGRAM_WORKERS: '4', ENGRAM_GRAPH: 'kuzu' }),
    );
    expect(kuzu.workers).toBe(1);
    expect(kuzu.reason).toContain('ENGRAM_GRAPH=kuzu');
    expect(resolveWorkerCount(loadServerConfig({}, {})).workers).toBeGreaterThanOrEqual(1);
  });

  it('refuses a worker count out of range', () => {
    expect(() => loadServerConfig({}, { ENGRAM_WORKERS: '0' })).toThrow(/ENGRAM_WORKERS/);
    expect(() => loadServerConfig({}, { ENGRAM_WORKERS: 'many' })).toThrow(/ENGRAM_WORKERS/);
  });
});

/** Tokens lent by leases taken until the buckets refuse. */
function lentUntilRefused(
  take: ReturnType<typeof createRateLimitLeases>,
  key: string,
  project?: string,
) {
  let total = 0;
  for (;;) {
    const lease = take(key, project);
    if (!lease.allowed) return total;
    total += lease.granted;
  }
}

/** Leases of 2 workers from a key's and a project's buckets that do not refill (time stands still). */
function frozenLeases(keyBurst: number, projectBurst: number) {
  return createRateLimitLeases(
    {
      requestsPerSecond: 1 / 3600,
      burst: keyBurst,
      project: { requestsPerSecond: 1 / 3600, burst: projectBurst },
    },
    2,
    () => 0,
  );
}

describe('createRateLimitLeases', () => {
  it('never lends more tokens than the bucket holds, and one at a time when it is low', () => {
    const time = 0;
    const take = createRateLimitLeases({ requestsPerSecond: 1, burst: 3 }, 2, () => time);
    const leases = [take('k'), take('k'), take('k'), take('k')];
    expect(leases.map((lease) => lease.allowed)).toEqual([true, true, true, false]);
    expect(leases.map((lease) => lease.granted)).toEqual([1, 1, 1, 0]);
    expect(leases[3]!.retryAfterSeconds).toBeGreaterThan(0);
  });

  it('lends a share of a generous bucket, so workers seldom ask', () => {
    const take = createRateLimitLeases({ requestsPerSecond: 1000, burst: 1000 }, 2, () => 0);
    const first = take('k');
    expect(first.allowed).toBe(true);
    expect(first.granted).toBeGreaterThan(200);
    expect(first.granted).toBeLessThanOrEqual(251);
    expect(first.granted + lentUntilRefused(take, 'k')).toBe(1000);
  });

  it('lends a share of a very large bucket in a few steps, not one step per token', () => {
    let clockReads = 0;
    const take = createRateLimitLeases({ requestsPerSecond: 1e6, burst: 1e6 }, 2, () => {
      clockReads += 1;
      return 0;
    });
    expect(take('k').granted).toBe(250_000);
    expect(clockReads).toBeLessThan(10);
  });

  it('takes back the unused tokens of an expired lease, so lending does not lower the limit', () => {
    const take = frozenLeases(41, 41);
    const first = take('k', 'p');
    expect(first.granted).toBe(11);
    // The worker spent 1 of the 10 tokens lent with it, then its lease expired.
    const second = take('k', 'p', 9);
    expect(second.granted).toBe(1 + Math.floor((41 - 2 - 1) / 4));
    expect(first.granted - 9 + second.granted + lentUntilRefused(take, 'k', 'p')).toBe(41);
  });

  it('holds a project limit across the keys of the project, taking from both buckets or neither', () => {
    const take = frozenLeases(40, 50);
    const lent = (key: string, project: string) => lentUntilRefused(take, key, project);
    expect(lent('a', 'alpha')).toBe(40);
    // The project's bucket has 10 left; the key's own bucket is not charged for a refusal.
    expect(lent('b', 'alpha')).toBe(10);
    expect(lent('c', 'beta')).toBe(40);
    expect(take('b', 'alpha')).toMatchObject({ allowed: false, granted: 0 });
    expect(take('b', 'gamma')).toMatchObject({ allowed: true });
  });
});
