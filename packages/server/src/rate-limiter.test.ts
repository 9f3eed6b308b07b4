import { describe, expect, it } from 'vitest';
import { createRateLimiter } from './rate-limiter.js';

describe('createRateLimiter', () => {
  it('allows a burst, then refills at the configured rate, per key', () => {
    let time = 0;
    const limiter = createRateLimiter({ requestsPerSecond: 2, burst: 3 }, () => time);
    expect([1, 2, 3].map(() => limiter.take('a').allowed)).toEqual([true, true, true]);
    const denied = limiter.take('a');
    expect(denied).toMatchObject({ allowed: false, retryAfterSeconds: 1 });
    expect(limiter.take('b').allowed).toBe(true);
    time += 500;
    expect(limiter.take('a').allowed).toBe(true);
    expect(limiter.take('a').allowed).toBe(false);
  });

  it('asks slow-refilling clients to wait whole seconds', () => {
    let time = 0;
    const limiter = createRateLimiter({ requestsPerSecond: 0.2, burst: 1 }, () => time);
    limiter.take('a');
    expect(limiter.take('a').retryAfterSeconds).toBe(5);
    time += 5000;
    expect(limiter.take('a').allowed).toBe(true);
  });

  it('takes several tokens in one step, never more than the bucket holds', () => {
    let time = 0;
    const limiter = createRateLimiter({ requestsPerSecond: 10, burst: 20 }, () => time);
    expect(limiter.takeUpTo('a', 5)).toBe(5);
    expect(limiter.takeUpTo('a', 100)).toBe(15);
    expect(limiter.takeUpTo('a', 3)).toBe(0);
    expect(limiter.take('a').allowed).toBe(false);
    time += 250;
    expect(limiter.takeUpTo('a', 3.9)).toBe(2);
    expect(limiter.takeUpTo('b', -1)).toBe(0);
    expect(limiter.take('b').remaining).toBe(19);
  });
});
