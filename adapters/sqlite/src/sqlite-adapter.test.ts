import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidArgumentError } from '@engram/core';
import { afterAll, describe, expect, it } from 'vitest';
import { engramAdapters, vectorCacheFromEnvironment } from './sqlite-adapter.js';

const directory = mkdtempSync(join(tmpdir(), 'engram-sqlite-adapter-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

describe('ENGRAM_VECTOR_CACHE_MB', () => {
  it('gives the scope cache its size in MiB of vectors, 0 to turn it off', () => {
    expect(vectorCacheFromEnvironment({})).toBeUndefined();
    expect(vectorCacheFromEnvironment({ ENGRAM_VECTOR_CACHE_MB: '' })).toBeUndefined();
    expect(vectorCacheFromEnvironment({ ENGRAM_VECTOR_CACHE_MB: '1600' })).toBe(419_430_400);
    expect(vectorCacheFromEnvironment({ ENGRAM_VECTOR_CACHE_MB: ' 0 ' })).toBe(0);
  });

  it('refuses what is not a size, saying what to set', () => {
    for (const value of ['lots', '-1', '1e400']) {
      expect(() => vectorCacheFromEnvironment({ ENGRAM_VECTOR_CACHE_MB: value })).toThrow(
        InvalidArgumentError,
      );
    }
    expect(() => vectorCacheFromEnvironment({ ENGRAM_VECTOR_CACHE_MB: 'lots' })).toThrow(
      /ENGRAM_VECTOR_CACHE_MB must be a number of MiB, 0 or more/,
    );
  });

  it('is read by the adapter that the server and the CLI create their stores with', async () => {
    const vector = engramAdapters.find((adapter) => adapter.kind === 'vector')!;
    const create = (env: Record<string, string>) =>
      (vector.create as (options: unknown) => unknown)({ env, dataDir: directory });
    expect(() => create({ ENGRAM_VECTOR_CACHE_MB: 'lots' })).toThrow(InvalidArgumentError);
    const store = create({ ENGRAM_VECTOR_CACHE_MB: '1' }) as { close(): Promise<void> };
    await store.close();
  });
});
