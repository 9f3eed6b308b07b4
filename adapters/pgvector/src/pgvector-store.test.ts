import { ClosedError, type EngramError, filterOperators, InvalidArgumentError } from '@engram/core';
import type pg from 'pg';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createPgvectorStore, createPgvectorVectorStore } from './pgvector-stores.js';

// No server here: these tests cover what happens before (or instead of) talking to PostgreSQL.
// Everything that reaches the database runs in test/pgvector.conformance.test.ts.

function fakePool() {
  const pool = {
    query: vi.fn(async () => {
      throw new Error('no database in unit tests');
    }),
    connect: vi.fn(async () => {
      throw new Error('no database in unit tests');
    }),
    end: vi.fn(async () => {}),
    on: vi.fn(),
  };
  return pool as typeof pool & pg.Pool;
}

async function rejection(promise: Promise<unknown>) {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('createPgvectorStore', () => {
  it('does no I/O in the factory and declares its capabilities', () => {
    const pool = fakePool();
    const store = createPgvectorStore({ pool });
    expect(pool.query).not.toHaveBeenCalled();
    expect(pool.connect).not.toHaveBeenCalled();
    expect(store.provider).toBe('pgvector');
    expect(store.specificationVersion).toBe('v1');
    expect(store.capabilities).toEqual({
      keywordSearch: true,
      filterOperators,
      maxBatchSize: 1000,
      metric: 'cosine',
      atomicHistory: true,
    });
    expect(typeof store.commit).toBe('function');
    expect(typeof store.byScope).toBe('function');
  });

  it('createPgvectorVectorStore is the same store', () => {
    const store = createPgvectorVectorStore({ pool: fakePool() });
    expect(store.capabilities.atomicHistory).toBe(true);
    expect(typeof store.append).toBe('function');
  });

  it('needs a server: connectionString, pool, PGVECTOR_URL or DATABASE_URL', async () => {
    vi.stubEnv('PGVECTOR_URL', '');
    vi.stubEnv('DATABASE_URL', '');
    vi.stubEnv('PGHOST', '');
    const store = createPgvectorStore();
    const error = await rejection(store.count({ collection: 'memories' }));
    expect(InvalidArgumentError.isInstance(error), String(error)).toBe(true);
  });

  it('rejects invalid options in the factory', () => {
    for (const options of [
      { tablePrefix: 'Bad-Prefix' },
      { schema: '' },
      { textSearchConfig: 'english; drop' },
      { exactSearchThreshold: -1 },
      { efSearch: 0 },
      { maxConnections: 1.5 },
      { deferVectorIndex: 'yes' as unknown as boolean },
      { vectorIndex: 'ivf' as unknown as 'ivfflat' },
      { ivfflatLists: 0 },
      { ivfflatProbes: 1.5 },
      { indexBuildMemory: '8 GB' },
      { indexBuildMemory: "1GB'; DROP TABLE x; --" },
    ]) {
      expect(() => createPgvectorStore(options), JSON.stringify(options)).toThrow(
        InvalidArgumentError,
      );
    }
  });

  it('wraps driver failures as AdapterCallError with the cause', async () => {
    const pool = fakePool();
    const store = createPgvectorStore({ pool });
    const error = (await rejection(
      store.get({ collection: 'memories', ids: ['a'] }),
    )) as EngramError;
    expect(error.name).toBe('AdapterCallError');
    expect(error.prefixedMessage).toContain('[engram/pgvector] get failed');
    expect((error.cause as Error).message).toBe('no database in unit tests');
  });

  it('validates arguments before any query', async () => {
    const pool = fakePool();
    const store = createPgvectorStore({ pool });
    for (const call of [
      () => store.ensureCollection({ collection: 'memories', dimensions: 0 }),
      () => store.ensureCollection({ collection: '', dimensions: 8 }),
      () => store.deleteScope({ namespace: 'memories', scope: {} }),
      () => store.byScope({ namespace: 'memories', scope: {}, limit: 10 }),
      () =>
        store.byScope({
          namespace: 'memories',
          scope: { userId: 'alice' },
          limit: 10,
          cursor: 'not a cursor',
        }),
      () => store.byScope({ namespace: '', scope: { userId: 'alice' }, limit: 10 }),
      () => store.byMemory({ namespace: '', memoryId: 'm' }),
      () => store.deleteScope({ namespace: '', scope: { userId: 'alice' } }),
    ]) {
      const error = await rejection(call());
      expect(InvalidArgumentError.isInstance(error), String(error)).toBe(true);
    }
    expect(pool.query).not.toHaveBeenCalled();
    expect(pool.connect).not.toHaveBeenCalled();
  });

  it('after close() every call throws ClosedError, and a pool passed in is left open', async () => {
    const pool = fakePool();
    const store = createPgvectorStore({ pool });
    await store.close();
    await store.close();
    await store[Symbol.asyncDispose]();
    expect(pool.end).not.toHaveBeenCalled();
    const calls = [
      () => store.ensureCollection({ collection: 'c', dimensions: 3 }),
      () => store.query({ collection: 'c', vector: [1, 0, 0], topK: 1 }),
      () => store.count({ collection: 'c' }),
      () => store.append({ events: [] }),
      () => store.byMemory({ namespace: 'memories', memoryId: 'm' }),
      () => store.commit({ collection: 'c', upsert: [], delete: [], history: [] }),
    ];
    for (const call of calls) {
      const error = await rejection(call());
      expect(ClosedError.isInstance(error), String(error)).toBe(true);
    }
  });
});
