import { AdapterCallError, createLeaseScopeLock, type ScopeLock } from '@engram/core';
import { Redis } from 'ioredis';

/** Options of {@link createRedisScopeLock}. */
export interface RedisScopeLockOptions {
  /** `redis://` or `rediss://` URL: the Redis the servers and workers share (`REDIS_URL`). */
  url: string;
  /** Prefix of the lock keys. Default `engram:lock:`. */
  prefix?: string;
  /** How long a crashed holder keeps its keys; renewed while held. Default 10,000 ms. */
  leaseMs?: number;
}

// Only the token's owner may extend or delete a key: a holder whose lease expired (and went to
// another process) must not touch the new holder's key.
export const renewScript = `if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0`;
export const releaseScript = `if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0`;

/** Runs one Redis call, turning its failure into a retryable `AdapterCallError`. */
export async function redisCall<T>(action: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw new AdapterCallError({
      source: 'server',
      message: `${action} in Redis failed: ${(error as Error).message}. Check that REDIS_URL points at a running Redis.`,
      isRetryable: true,
      cause: error,
    });
  }
}

/**
 * A scope lock in Redis, for servers and workers whose vector store has no lock of its own:
 * `SET key token NX PX lease` takes a key, a script renews it while the work runs and deletes
 * it only for its token. A process that crashes leaves its keys to expire with their lease.
 * This is a single-Redis lock (not Redlock): it holds as long as that Redis does not lose
 * writes it acknowledged.
 */
export function createRedisScopeLock(options: RedisScopeLockOptions): ScopeLock {
  const prefix = options.prefix ?? 'engram:lock:';
  const connection = new Redis(options.url, { lazyConnect: true, maxRetriesPerRequest: 3 });
  // Errors surface through the calls that need Redis; an unhandled 'error' event would crash.
  connection.on('error', () => {});

  return createLeaseScopeLock({
    provider: 'redis',
    ...(options.leaseMs === undefined ? {} : { leaseMs: options.leaseMs }),
    backend: {
      tryAcquire: (key, token, leaseMs) =>
        redisCall('Taking a scope lock', async () => {
          return (await connection.set(`${prefix}${key}`, token, 'PX', leaseMs, 'NX')) === 'OK';
        }),
      renew: (key, token, leaseMs) =>
        redisCall('Renewing a scope lock', async () => {
          return (await connection.eval(renewScript, 1, `${prefix}${key}`, token, leaseMs)) === 1;
        }),
      release: (key, token) =>
        redisCall('Releasing a scope lock', async () => {
          await connection.eval(releaseScript, 1, `${prefix}${key}`, token);
        }),
      async close() {
        if (connection.status === 'wait') connection.disconnect();
        else await connection.quit().catch(() => connection.disconnect());
      },
    },
  });
}
