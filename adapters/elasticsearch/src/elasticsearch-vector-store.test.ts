import {
  AdapterCallError,
  ClosedError,
  InvalidArgumentError,
  UnsupportedFunctionalityError,
} from '@engram/core';
import { describe, expect, it } from 'vitest';
import {
  elasticsearchFilterOperators,
  translateElasticsearchFilter,
} from './elasticsearch-filter.js';
import { elasticsearchIndexBody } from './elasticsearch-mapping.js';
import { createElasticsearchVectorStore } from './elasticsearch-vector-store.js';

describe('createElasticsearchVectorStore', () => {
  it('does no I/O in the factory and declares its capabilities', () => {
    const store = createElasticsearchVectorStore({ url: 'http://127.0.0.1:1' });
    expect(store).toMatchObject({
      provider: 'elasticsearch',
      specificationVersion: 'v1',
      capabilities: {
        keywordSearch: true,
        metric: 'cosine',
        atomicHistory: false,
        maxBatchSize: 500,
      },
    });
    expect([store.commit, store.capabilities.filterOperators.length]).toEqual([undefined, 13]);
  });

  it('turns a refused connection into a retryable AdapterCallError', async () => {
    const store = createElasticsearchVectorStore({
      url: 'http://127.0.0.1:1',
      clientOptions: { maxRetries: 0, requestTimeout: 2_000 },
    });
    const error = await store.count({ collection: 'memories' }).catch((caught) => caught);
    expect(AdapterCallError.isInstance(error), String(error)).toBe(true);
    expect(error).toMatchObject({
      isRetryable: true,
      source: 'elasticsearch',
      cause: expect.anything(),
    });
    await store.close();
  });

  it('rejects index names Elasticsearch would refuse, before any request', async () => {
    const store = createElasticsearchVectorStore({ url: 'http://127.0.0.1:1' });
    for (const collection of ['Memories', 'a b', '_private', 'x/y', 'a#b']) {
      const error = await store
        .ensureCollection({ collection, dimensions: 3 })
        .catch((caught) => caught);
      expect(InvalidArgumentError.isInstance(error), collection).toBe(true);
      expect(String(error)).toMatch(/Elasticsearch index names/);
    }
  });

  it('throws ClosedError after close(), which is idempotent', async () => {
    const store = createElasticsearchVectorStore({ url: 'http://127.0.0.1:1' });
    await store.close();
    await store.close();
    const error = await store.list({ collection: 'memories', limit: 1 }).catch((caught) => caught);
    expect(ClosedError.isInstance(error)).toBe(true);
  });

  it('does not close a client it was given', async () => {
    let closed = 0;
    const client = {
      close: async () => void closed++,
      count: async () => ({ count: 2 }),
    } as never;
    const store = createElasticsearchVectorStore({ client });
    expect(await store.count({ collection: 'memories' })).toBe(2);
    await store[Symbol.asyncDispose]();
    expect(closed).toBe(0);
  });

  it('translates filters natively, with its name on what it refuses', async () => {
    expect(translateElasticsearchFilter({ op: 'exists', field: 'x' })).toEqual({
      term: { metadata_paths: 'x' },
    });
    const store = createElasticsearchVectorStore({ url: 'http://127.0.0.1:1' });
    expect(store.capabilities.filterOperators).toEqual(elasticsearchFilterOperators);
    const filter = { op: 'eq', field: 's', value: 'x'.repeat(9000) } as const;
    const error = await store.count({ collection: 'memories', filter }).catch((caught) => caught);
    expect(UnsupportedFunctionalityError.isInstance(error)).toBe(true);
    expect(error.source).toBe('elasticsearch');
  });
});

describe('index mapping', () => {
  it('maps vectors, text, scope fields, exact metadata and the filter fields', () => {
    const body = elasticsearchIndexBody({ dimensions: 384, settings: { number_of_shards: 1 } });
    expect(body.settings).toEqual({ number_of_shards: 1 });
    expect(elasticsearchIndexBody({ dimensions: 3 })).not.toHaveProperty('settings');
    expect(body.mappings.dynamic).toBe('strict');
    expect(body.mappings.properties).toMatchObject({
      vector: {
        type: 'dense_vector',
        dims: 384,
        index: true,
        similarity: 'cosine',
        index_options: { type: 'hnsw' },
      },
      text: { type: 'text', analyzer: 'standard' },
      user_id: { type: 'keyword' },
      agent_id: { type: 'keyword' },
      run_id: { type: 'keyword' },
      hash: { type: 'keyword' },
      metadata: { type: 'object', enabled: false },
      metadata_terms: { type: 'keyword', ignore_above: 8000 },
      metadata_elements: { type: 'keyword', ignore_above: 8000 },
      metadata_paths: { type: 'keyword' },
    });
  });
});
