import {
  AbortedError,
  AdapterCallError,
  ClosedError,
  DimensionMismatchError,
  InvalidArgumentError,
  NotFoundError,
  type VectorRecord,
} from '@engram/core';
import { describe, expect, it } from 'vitest';
import {
  assertPositiveInteger,
  assertRecords,
  chunk,
  createLifecycle,
  isRetryableNetworkError,
  loadOptionalSetting,
  loadSetting,
  optionalSettingLoader,
  pollUntil,
  requiredSetting,
  toAdapterCallError,
} from './index.js';

const record = (id: string, vector: number[]): VectorRecord => ({
  id,
  vector,
  text: id,
  metadata: {},
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
});

describe('arguments', () => {
  it.each([0, -1, 1.5, Number.NaN])('refuses %s as a positive integer', (value) => {
    expect(() => assertPositiveInteger(value, 'limit', 'test')).toThrow(InvalidArgumentError);
  });

  it('checks ids, finite numbers and dimensions of records', () => {
    expect(() => assertRecords([record('', [1])], { source: 'test' })).toThrow(/non-empty/);
    expect(() => assertRecords([record('a', [Number.NaN])], { source: 'test' })).toThrow(/finite/);
    expect(() => assertRecords([record('a', [1, 2])], { source: 'test', dimensions: 3 })).toThrow(
      DimensionMismatchError,
    );
    expect(() =>
      assertRecords([record('a', [1, 2])], { source: 'test', dimensions: 2 }),
    ).not.toThrow();
  });

  it('chunks', () => {
    expect(chunk([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
  });
});

describe('retryable classification', () => {
  it.each([
    [Object.assign(new Error('reset'), { code: 'ECONNRESET' }), undefined, true],
    [new Error('outer', { cause: { code: 'UND_ERR_SOCKET' } }), undefined, true],
    [new TypeError('fetch failed'), undefined, true],
    [new Error('bad request'), 400, false],
    [new Error('busy'), 429, true],
    [new Error('down'), 503, true],
    [new Error('syntax'), undefined, false],
  ])('%s with status %s -> %s', (error, status, expected) => {
    expect(isRetryableNetworkError(error, status)).toBe(expected);
  });

  it('wraps foreign errors and passes Engram errors through', () => {
    const wrapped = toAdapterCallError(new Error('boom'), {
      source: 'test',
      action: 'upsert',
      status: 'HTTP 503',
      httpStatus: 503,
    });
    expect(AdapterCallError.isInstance(wrapped)).toBe(true);
    expect(wrapped.message).toBe('upsert failed (HTTP 503): boom');
    expect((wrapped as AdapterCallError).isRetryable).toBe(true);
    const notFound = new NotFoundError({ message: 'gone' });
    expect(toAdapterCallError(notFound, { source: 'test', action: 'get' })).toBe(notFound);
  });
});

describe('settings', () => {
  it('prefers the option, then the environment, and treats empty as unset', () => {
    const base = { environmentVariableName: 'TEST_URL', settingName: 'url', source: 'test' };
    expect(loadOptionalSetting({ ...base, value: 'a', environment: { TEST_URL: 'b' } })).toBe('a');
    expect(loadOptionalSetting({ ...base, value: '', environment: { TEST_URL: 'b' } })).toBe('b');
    expect(loadOptionalSetting({ ...base, value: undefined, environment: {} })).toBeUndefined();
    expect(() =>
      loadSetting({ ...base, value: undefined, environment: {}, description: 'Test URL' }),
    ).toThrow(/Pass it as the `url` option or set the TEST_URL environment variable/);
    const setting = optionalSettingLoader('test', { TEST_URL: 'b' });
    expect(setting('a', 'url', 'TEST_URL')).toBe('a');
    expect(setting(undefined, 'url', 'TEST_URL')).toBe('b');
    expect(setting(undefined, 'key', 'TEST_KEY')).toBeUndefined();
  });
});

describe('lifecycle', () => {
  it('wraps errors, refuses calls after close and closes once', async () => {
    let closes = 0;
    const lifecycle = createLifecycle({ source: 'test', onClose: () => void closes++ });
    await expect(
      lifecycle.run('query', undefined, async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow(AdapterCallError);
    const controller = new AbortController();
    controller.abort();
    await expect(lifecycle.run('query', controller.signal, async () => 1)).rejects.toThrow(
      AbortedError,
    );
    await Promise.all([lifecycle.close(), lifecycle.close()]);
    expect(closes).toBe(1);
    expect(lifecycle.closed).toBe(true);
    await expect(lifecycle.run('query', undefined, async () => 1)).rejects.toThrow(ClosedError);
  });

  it('reports a failed close once and resolves later closes', async () => {
    const lifecycle = createLifecycle({
      source: 'test',
      onClose: () => {
        throw new Error('socket stuck');
      },
    });
    await expect(lifecycle.close()).rejects.toThrow('socket stuck');
    await expect(lifecycle.close()).resolves.toBeUndefined();
  });
});

describe('pollUntil', () => {
  it('reads until done, checking between reads, and gives up after the timeout', async () => {
    const values = [1, 2, 3];
    let checks = 0;
    const read = async () => values.shift() ?? 0;
    expect(
      await pollUntil(read, {
        done: (value) => value === 3,
        timeout: 60_000,
        interval: 0,
        check: () => checks++,
      }),
    ).toBe(3);
    expect(checks).toBe(2);
    expect(
      await pollUntil(async () => 'never', { done: () => false, timeout: 0, interval: 0 }),
    ).toBe('never');
  });
});

describe('requiredSetting', () => {
  it('returns a set value, and refuses a missing or empty one with the message given', () => {
    expect(requiredSetting('bucket', 'test', 'pass bucket')).toBe('bucket');
    for (const value of [undefined, '']) {
      expect(() => requiredSetting(value, 'test', 'pass bucket or set BUCKET.')).toThrow(
        InvalidArgumentError,
      );
    }
  });
});
