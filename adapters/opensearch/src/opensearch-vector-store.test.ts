import { AdapterCallError, ClosedError } from '@engram/core';
import { describe, expect, it } from 'vitest';
import { translateOpenSearchFilter } from './opensearch-filter.js';
import { openSearchIndexBody } from './opensearch-mapping.js';
import { createOpenSearchVectorStore } from './opensearch-vector-store.js';

const unreachable = 'http://127.0.0.1:1';

describe('createOpenSearchVectorStore', () => {
  it('declares its capabilities without connecting', () => {
    const store = createOpenSearchVectorStore({ url: unreachable });
    expect([store.provider, store.specificationVersion, store.commit]).toEqual([
      'opensearch',
      'v1',
      undefined,
    ]);
    expect(store.capabilities).toMatchObject({ keywordSearch: true, maxBatchSize: 500 });
    expect(store.capabilities.filterOperators).toHaveLength(13);
  });

  it('reports a refused connection as retryable, and refuses calls once closed', async () => {
    const store = createOpenSearchVectorStore({
      url: unreachable,
      clientOptions: { maxRetries: 0, requestTimeout: 2_000 },
    });
    const refused = await store.count({ collection: 'memories' }).catch((error) => error);
    expect(AdapterCallError.isInstance(refused), String(refused)).toBe(true);
    expect(refused).toMatchObject({ isRetryable: true, source: 'opensearch' });
    expect(refused.cause).toBeDefined();
    await Promise.all([store.close(), store.close()]);
    const closed = await store.get({ collection: 'memories', ids: ['a'] }).catch((error) => error);
    expect(ClosedError.isInstance(closed)).toBe(true);
  });

  it('leaves a client it was given open', async () => {
    const closes: string[] = [];
    const store = createOpenSearchVectorStore({
      client: { close: async () => void closes.push('closed') } as never,
    });
    await store[Symbol.asyncDispose]();
    expect(closes).toEqual([]);
  });

  it('translates filters with its own name on errors', () => {
    expect(translateOpenSearchFilter({ op: 'nin', field: 'x', values: [] })).toEqual({
      match_all: {},
    });
    expect(() =>
      translateOpenSearchFilter({ op: 'contains', field: 's', value: 'y'.repeat(9000) }),
    ).toThrowError(expect.objectContaining({ source: 'opensearch' }));
  });
});

describe('openSearchIndexBody', () => {
  it('creates a k-NN index with a Lucene HNSW cosinesimil vector', () => {
    const body = openSearchIndexBody({ dimensions: 384, settings: { number_of_shards: 1 } });
    expect(body.settings).toEqual({ number_of_shards: 1, 'index.knn': true });
    expect(openSearchIndexBody({ dimensions: 8 }).settings).toEqual({ 'index.knn': true });
    expect(body.mappings.dynamic).toBe('strict');
    expect(body.mappings.properties.vector).toMatchObject({
      type: 'knn_vector',
      dimension: 384,
      method: { name: 'hnsw', space_type: 'cosinesimil', engine: 'lucene' },
    });
    expect(body.mappings.properties.metadata).toEqual({ type: 'object', enabled: false });
  });
});
