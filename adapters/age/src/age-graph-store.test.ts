import { ClosedError, InvalidArgumentError } from '@engram/core';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { createAgeGraphStore } from './age-graph-store.js';

describe('createAgeGraphStore', () => {
  it('does no I/O until the first call, and reads AGE_URL', () => {
    const store = createAgeGraphStore({ env: { AGE_URL: 'postgres://nobody@127.0.0.1:1/none' } });
    expect(store.provider).toBe('age');
    expect(store.capabilities).toEqual({ nativeVectorIndex: false });
  });

  it('needs a connection string or a pool, and a valid graph name', () => {
    expect(() => createAgeGraphStore({ env: {} })).toThrow(InvalidArgumentError);
    for (const graphName of ['ab', '1graph', 'my-graph', "x'y", 'a'.repeat(64)]) {
      expect(() =>
        createAgeGraphStore({ connectionString: 'postgres://x@127.0.0.1/x', graphName }),
      ).toThrow(InvalidArgumentError);
    }
  });

  it('refuses an empty scope or namespace before connecting', async () => {
    const store = createAgeGraphStore({ connectionString: 'postgres://x@127.0.0.1:1/x' });
    for (const call of [
      () => store.deleteScope({ namespace: 'p_a', scope: {} }),
      () => store.deleteScope({ namespace: '', scope: { userId: 'u' } }),
      () => store.list({ namespace: 'p_a', scope: {}, limit: 1 }),
      () => store.findSimilarEntities({ namespace: 'p_a', scope: {}, embedding: [1], topK: 1 }),
      () =>
        store.findSimilarEntities({
          namespace: ' ',
          scope: { userId: 'u' },
          embedding: [1],
          topK: 1,
        }),
      () =>
        store.invalidateRelations({
          namespace: 'p_a',
          scope: { runId: ' ' },
          relationIds: ['r'],
          at: 'now',
        }),
    ]) {
      await expect(call()).rejects.toSatisfy((error) => InvalidArgumentError.isInstance(error));
    }
    await store.close();
  });

  it('rejects calls with ClosedError after close, and leaves a pool it was given open', async () => {
    const pool = new pg.Pool({ connectionString: 'postgres://x@127.0.0.1:1/x' });
    const store = createAgeGraphStore({ pool });
    await store.close();
    await store.close();
    await expect(
      store.list({ namespace: 'p_a', scope: { userId: 'u' }, limit: 1 }),
    ).rejects.toSatisfy((error) => ClosedError.isInstance(error));
    expect(pool.ending).toBe(false);
    await pool.end();
  });
});
