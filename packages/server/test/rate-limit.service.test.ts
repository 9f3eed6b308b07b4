import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisRateLimiter } from '../src/redis-rate-limiter.js';
import {
  createKey,
  type EngramServer,
  startEngramServer,
  startTestRedis,
  temporaryDataDir,
} from './service-harness.js';

// Refills so slowly (one token an hour) that the run's duration cannot change the counts.
const slow = 1 / 3600;

describe('rate limits in Redis', () => {
  let redisUrl: string;
  beforeAll(() => {
    redisUrl = startTestRedis();
  });

  it('hold across limiters sharing one Redis, per key and per project', async () => {
    const prefix = `engram:test:${randomUUID()}:`;
    const settings = {
      url: redisUrl,
      perKey: { requestsPerSecond: slow, burst: 4 },
      perProject: { requestsPerSecond: slow, burst: 6 },
      prefix,
    };
    const replicas = [createRedisRateLimiter(settings), createRedisRateLimiter(settings)];
    try {
      const allowedOf = async (key: string, count: number) => {
        let allowed = 0;
        for (let index = 0; index < count; index++) {
          const decision = await replicas[index % 2]!.take(key, 'alpha');
          if (decision.allowed) allowed++;
          else expect(decision.retryAfterSeconds).toBeGreaterThan(1);
        }
        return allowed;
      };
      // Key a: its own burst of 4, across both replicas.
      expect(await allowedOf('a', 10)).toBe(4);
      // Key b: 2 left in the project's bucket of 6.
      expect(await allowedOf('b', 10)).toBe(2);
      const other = await replicas[0]!.take('c', 'beta');
      expect(other).toMatchObject({ allowed: true, remaining: 3 });
    } finally {
      await Promise.all(replicas.map((replica) => replica.close()));
    }
  });

  it('refill at the configured rate', async () => {
    const limiter = createRedisRateLimiter({
      url: redisUrl,
      perKey: { requestsPerSecond: 1000, burst: 1 },
      prefix: `engram:test:${randomUUID()}:`,
    });
    try {
      expect((await limiter.take('a', 'p')).allowed).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect((await limiter.take('a', 'p')).allowed).toBe(true);
    } finally {
      await limiter.close();
    }
  });
});

describe('two engram servers on one Redis', () => {
  const servers: EngramServer[] = [];
  let directory: Awaited<ReturnType<typeof temporaryDataDir>>;
  let key: string;

  beforeAll(async () => {
    directory = await temporaryDataDir();
    key = createKey(directory.path, 'alpha').key;
    const env = {
      REDIS_URL: startTestRedis(),
      ENGRAM_QUEUE: 'memory',
      ENGRAM_RATE_LIMIT_RPS: String(slow),
      ENGRAM_RATE_LIMIT_BURST: '5',
    };
    for (let index = 0; index < 2; index++) {
      servers.push(await startEngramServer(directory.path, { env }));
    }
  }, 120_000);

  afterAll(async () => {
    await Promise.all(servers.map((server) => server.stop()));
    await directory?.dispose();
  });

  it('admit together what the limit allows', async () => {
    const statuses: number[] = [];
    for (let index = 0; index < 12; index++) {
      const response = await servers[index % 2]!.request('/v1/memories?userId=u', { key });
      statuses.push(response.status);
    }
    expect(statuses, JSON.stringify(statuses)).toHaveLength(12);
    expect(statuses.filter((status) => status === 200)).toHaveLength(5);
    expect(statuses.filter((status) => status === 429)).toHaveLength(7);
  });
});
