import { AdapterCallError, ClosedError, InvalidArgumentError } from '@engram/core';
import { describe, expect, it } from 'vitest';
import { createRedisVectorStore } from './redis-vector-store.js';

describe('createRedisVectorStore', () => {
  it('does no I/O until the first call and declares its capabilities', () => {
    const store = createRedisVectorStore({ url: 'redis://127.0.0.1:1' });
    expect(store.provider).toBe('redis');
    expect(store.capabilities).toMatchObject({ keywordSearch: true, metric: 'cosine' });
    expect(store.capabilities.filterOperators).toHaveLength(13);
    expect(store.commit).toBeUndefined();
  });

  it('reports an unreachable server as a retryable AdapterCallError', async () => {
    const store = createRedisVectorStore({ url: 'redis://127.0.0.1:1' });
    const error = await store.count({ collection: 'memories' }).catch((caught) => caught);
    expect(AdapterCallError.isInstance(error), String(error)).toBe(true);
    expect((error as AdapterCallError).isRetryable).toBe(true);
    expect((error as AdapterCallError).source).toBe('redis');
    await store.close();
  });

  it('rejects an efRuntime that is not a positive integer', () => {
    for (const efRuntime of [0, -1, 1.5]) {
      expect(() => createRedisVectorStore({ url: 'redis://127.0.0.1:1', efRuntime })).toThrow(
        InvalidArgumentError,
      );
    }
  });

  it('rejects every call after close(), which is idempotent', async () => {
    const store = createRedisVectorStore({ url: 'redis://127.0.0.1:1' });
    await store.close();
    await store.close();
    await expect(store.count({ collection: 'memories' })).rejects.toSatisfy(ClosedError.isInstance);
  });
});
