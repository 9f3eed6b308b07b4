import { AdapterCallError } from '@engram/core';
import { Redis } from 'ioredis';
import type { RateLimitDecision } from './rate-limiter.js';

/** A token bucket's sustained rate and burst size. */
export interface BucketLimit {
  /** Tokens added per second. */
  requestsPerSecond: number;
  /** Most tokens the bucket holds. */
  burst: number;
}

/** Options of {@link createRedisRateLimiter}. */
export interface RedisRateLimiterOptions {
  /** `redis://` or `rediss://` URL of the Redis every replica shares (`REDIS_URL`). */
  url: string;
  /** The bucket of each API key (or token subject). */
  perKey: BucketLimit;
  /** The bucket of each project, shared by all of its keys. Default: none. */
  perProject?: BucketLimit | undefined;
  /** Prefix of the bucket keys. Default `engram:rate:`. */
  prefix?: string;
}

/** Rate limits that hold across every replica sharing one Redis. */
export interface SharedRateLimiter {
  /** Takes one token from the key's bucket and, when configured, from its project's. */
  take(keyId: string, project: string): Promise<RateLimitDecision>;
  /** Closes the Redis connection. */
  close(): Promise<void>;
}

// One script, so reading, refilling and taking from both buckets is atomic across replicas. The
// clock is Redis's own: replicas with skewed clocks still share one notion of time. Tokens are
// taken from no bucket unless every bucket has one.
const takeScript = `
if redis.replicate_commands then redis.replicate_commands() end
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local levels = {}
local allowed = 1
local wait = 0
for i = 1, #KEYS do
  local rate = tonumber(ARGV[2 * i - 1])
  local burst = tonumber(ARGV[2 * i])
  local state = redis.call('HMGET', KEYS[i], 'tokens', 'updated')
  local tokens = tonumber(state[1]) or burst
  local updated = tonumber(state[2]) or now
  tokens = math.min(burst, tokens + math.max(0, now - updated) / 1000 * rate)
  levels[i] = tokens
  if tokens < 1 then
    allowed = 0
    wait = math.max(wait, (1 - tokens) / rate)
  end
end
local remaining = -1
for i = 1, #KEYS do
  local rate = tonumber(ARGV[2 * i - 1])
  local burst = tonumber(ARGV[2 * i])
  local tokens = levels[i] - allowed
  redis.call('HSET', KEYS[i], 'tokens', tostring(tokens), 'updated', tostring(now))
  redis.call('PEXPIRE', KEYS[i], math.ceil(burst / rate * 1000) + 1000)
  if remaining < 0 or tokens < remaining then remaining = tokens end
end
return { allowed, tostring(wait), tostring(math.max(0, math.floor(remaining))) }
`;

/**
 * Token buckets in Redis, per key and per project, for servers run as several replicas: one Lua
 * script refills and takes from both buckets atomically, so the replicas together admit what
 * the limit allows, whichever replica a request reaches.
 */
export function createRedisRateLimiter(options: RedisRateLimiterOptions): SharedRateLimiter {
  const prefix = options.prefix ?? 'engram:rate:';
  const connection = new Redis(options.url, { lazyConnect: true, maxRetriesPerRequest: 3 });
  // Errors surface through the calls that need Redis; an unhandled 'error' event would crash.
  connection.on('error', () => {});
  const limits = (limit: BucketLimit) => [String(limit.requestsPerSecond), String(limit.burst)];
  return {
    async take(keyId, project) {
      const keys = [`${prefix}key:${keyId}`];
      const values = limits(options.perKey);
      if (options.perProject) {
        keys.push(`${prefix}project:${project}`);
        values.push(...limits(options.perProject));
      }
      let answer: [number, string, string];
      try {
        answer = (await connection.eval(takeScript, keys.length, ...keys, ...values)) as [
          number,
          string,
          string,
        ];
      } catch (error) {
        throw new AdapterCallError({
          source: 'server',
          message: `Taking a rate-limit token in Redis failed: ${(error as Error).message}. Check that REDIS_URL points at a running Redis.`,
          isRetryable: true,
          cause: error,
        });
      }
      const [allowed, wait, remaining] = answer;
      return allowed === 1
        ? { allowed: true, retryAfterSeconds: 0, remaining: Number(remaining) }
        : {
            allowed: false,
            retryAfterSeconds: Math.max(1, Math.ceil(Number(wait))),
            remaining: 0,
          };
    },
    async close() {
      if (connection.status === 'wait') connection.disconnect();
      else await connection.quit().catch(() => connection.disconnect());
    },
  };
}
