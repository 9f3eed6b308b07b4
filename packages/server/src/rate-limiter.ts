/** Outcome of {@link RateLimiter.take}. */
export interface RateLimitDecision {
  /** Whether the request may go ahead. */
  allowed: boolean;
  /** Whole seconds to wait before the next request can succeed (0 when allowed). */
  retryAfterSeconds: number;
  /** Tokens left in the bucket. */
  remaining: number;
}

/** Per-key token buckets. */
export interface RateLimiter {
  take(key: string): RateLimitDecision;
}

/** A {@link RateLimiter} that can also take several tokens at once, and take tokens back. */
export interface RefundableRateLimiter extends RateLimiter {
  /** Puts tokens taken from a key's bucket back (never past its burst). */
  give(key: string, tokens: number): void;
  /**
   * Takes as many whole tokens as the key's bucket holds, up to `most`, in one step; returns how
   * many it took (0 when the bucket holds less than one).
   */
  takeUpTo(key: string, most: number): number;
}

/**
 * Token bucket per key: `burst` requests at once, refilled at `requestsPerSecond`. Idle buckets
 * are dropped so the map does not grow with every key ever seen.
 */
export function createRateLimiter(
  { requestsPerSecond, burst }: { requestsPerSecond: number; burst: number },
  now: () => number = () => performance.now(),
): RefundableRateLimiter {
  const buckets = new Map<string, { tokens: number; updated: number }>();
  const idleMs = Math.max((burst / requestsPerSecond) * 1000, 1000);
  let lastSweep = now();
  /** The key's bucket, refilled for the time since it was last touched. */
  function refilled(key: string) {
    const time = now();
    if (time - lastSweep > idleMs) {
      for (const [name, bucket] of buckets) {
        if (time - bucket.updated > idleMs) buckets.delete(name);
      }
      lastSweep = time;
    }
    const bucket = buckets.get(key) ?? { tokens: burst, updated: time };
    bucket.tokens = Math.min(
      burst,
      bucket.tokens + ((time - bucket.updated) / 1000) * requestsPerSecond,
    );
    bucket.updated = time;
    buckets.set(key, bucket);
    return bucket;
  }
  return {
    take(key) {
      const bucket = refilled(key);
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return { allowed: true, retryAfterSeconds: 0, remaining: Math.floor(bucket.tokens) };
      }
      const wait = (1 - bucket.tokens) / requestsPerSecond;
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(wait)), remaining: 0 };
    },
    takeUpTo(key, most) {
      const bucket = refilled(key);
      const taken = Math.max(0, Math.min(Math.floor(most), Math.floor(bucket.tokens)));
      bucket.tokens -= taken;
      return taken;
    },
    give(key, tokens) {
      const bucket = buckets.get(key);
      if (bucket) bucket.tokens = Math.min(burst, bucket.tokens + tokens);
    },
  };
}
