import {
  AbortedError,
  AdapterCallError,
  ClosedError,
  InvalidArgumentError,
  NotFoundError,
} from '@engram/core';
import { describe, expect, it } from 'vitest';
import { encodeTerm, fromSource, indexMetadata, toDocument } from './opensearch-document.js';
import { toEngramError } from './opensearch-errors.js';
import { cosineFromScore, dimensionsOfMapping, openSearchIndexBody } from './opensearch-mapping.js';
import { createOpenSearchVectorStore } from './opensearch-vector-store.js';

async function caught(action: () => Promise<unknown>): Promise<unknown> {
  try {
    await action();
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to throw');
}

function responseError(statusCode: number, type: string) {
  return {
    name: 'ResponseError',
    message: type,
    statusCode,
    body: { error: { type, reason: type } },
  };
}

describe('createOpenSearchVectorStore', () => {
  it('does no I/O in the factory and declares its capabilities', () => {
    const store = createOpenSearchVectorStore({ url: 'http://127.0.0.1:1' });
    expect(store.provider).toBe('opensearch');
    expect(store.specificationVersion).toBe('v1');
    expect(store.capabilities).toMatchObject({
      keywordSearch: true,
      metric: 'cosine',
      atomicHistory: false,
      maxBatchSize: 500,
    });
    expect(store.capabilities.filterOperators).toHaveLength(13);
    expect(store.commit).toBeUndefined();
  });

  it('turns a refused connection into a retryable AdapterCallError', async () => {
    const store = createOpenSearchVectorStore({
      url: 'http://127.0.0.1:1',
      clientOptions: { maxRetries: 0, requestTimeout: 2_000 },
    });
    const error = await caught(() => store.count({ collection: 'memories' }));
    expect(AdapterCallError.isInstance(error), String(error)).toBe(true);
    expect((error as AdapterCallError).isRetryable).toBe(true);
    expect((error as AdapterCallError).source).toBe('opensearch');
    expect((error as Error).cause).toBeDefined();
    await store.close();
  });

  it('rejects index names OpenSearch would refuse, before any request', async () => {
    const store = createOpenSearchVectorStore({ url: 'http://127.0.0.1:1' });
    for (const collection of ['Memories', 'a b', '_private', 'x/y', 'a#b']) {
      const error = await caught(() => store.ensureCollection({ collection, dimensions: 3 }));
      expect(InvalidArgumentError.isInstance(error), collection).toBe(true);
    }
  });

  it('throws ClosedError after close(), which is idempotent', async () => {
    const store = createOpenSearchVectorStore({ url: 'http://127.0.0.1:1' });
    await store.close();
    await store.close();
    const error = await caught(() => store.list({ collection: 'memories', limit: 1 }));
    expect(ClosedError.isInstance(error)).toBe(true);
  });

  it('does not close a client it was given', async () => {
    let closed = 0;
    const client = { close: async () => void closed++ } as never;
    const store = createOpenSearchVectorStore({ client });
    await store[Symbol.asyncDispose]();
    expect(closed).toBe(0);
  });
});

describe('toEngramError', () => {
  it.each([
    ['a missing index', responseError(404, 'index_not_found_exception'), 'not_found', false],
    ['too many requests', responseError(429, 'rejected_execution_exception'), 'adapter_call', true],
    ['a server error', responseError(503, 'unavailable_shards_exception'), 'adapter_call', true],
    [
      'a version conflict',
      responseError(409, 'version_conflict_engine_exception'),
      'adapter_call',
      true,
    ],
    ['a bad request', responseError(400, 'mapper_parsing_exception'), 'adapter_call', false],
    [
      'a bad index name',
      responseError(400, 'invalid_index_name_exception'),
      'invalid_argument',
      false,
    ],
    ['a timeout', { name: 'TimeoutError', message: 'Request timed out' }, 'adapter_call', true],
    ['no connection', { name: 'ConnectionError', message: 'ECONNREFUSED' }, 'adapter_call', true],
    ['no living node', { name: 'NoLivingConnectionsError', message: 'none' }, 'adapter_call', true],
    ['an aborted request', { name: 'RequestAbortedError', message: 'aborted' }, 'aborted', false],
  ])('maps %s', (_, raw, code, retryable) => {
    const error = toEngramError(raw, 'Doing it');
    expect(error.code).toBe(code);
    expect(error.source).toBe('opensearch');
    expect(error.cause).toBe(raw);
    expect(error.prefixedMessage.startsWith('[engram/opensearch] Doing it')).toBe(true);
    if (AdapterCallError.isInstance(error)) expect(error.isRetryable).toBe(retryable);
  });

  it('keeps Engram errors and reports an aborted signal as AbortedError', () => {
    const original = new NotFoundError({ source: 'opensearch', message: 'gone' });
    expect(toEngramError(original, 'x')).toBe(original);
    const controller = new AbortController();
    controller.abort();
    expect(
      AbortedError.isInstance(toEngramError(new Error('socket'), 'x', controller.signal)),
    ).toBe(true);
  });
});

describe('index mapping', () => {
  it('maps vectors, text, scope fields, exact metadata and the filter fields', () => {
    const body = openSearchIndexBody({ dimensions: 384, settings: { number_of_shards: 1 } });
    expect(body.settings).toEqual({ number_of_shards: 1, 'index.knn': true });
    expect(body.mappings.dynamic).toBe('strict');
    expect(body.mappings.properties).toMatchObject({
      vector: {
        type: 'knn_vector',
        dimension: 384,
        method: { name: 'hnsw', space_type: 'cosinesimil', engine: 'lucene' },
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
    expect(dimensionsOfMapping(body.mappings)).toBe(384);
    expect(dimensionsOfMapping({ properties: { vector: { type: 'keyword' } } })).toBeUndefined();
    expect(dimensionsOfMapping(undefined)).toBeUndefined();
  });

  it('converts the Lucene cosinesimil score (2 - (1 - cos)) / 2 back to the cosine', () => {
    expect(cosineFromScore(1)).toBe(1);
    expect(cosineFromScore(0.5)).toBe(0);
    expect(cosineFromScore(0)).toBe(-1);
    expect(cosineFromScore((1 + 0.8) / 2)).toBeCloseTo(0.8, 12);
  });
});

describe('documents', () => {
  it('round-trips a record and leaves absent fields absent', () => {
    const record = {
      id: 'r1',
      vector: [0.1, 0.2],
      text: 'hello',
      userId: 'alice',
      metadata: { a: { b: [1, 'x', null] }, n: null, 'dotted.key': 1 },
      createdAt: '2024-01-01T00:00:00.000Z',
      updatedAt: '2024-01-02T00:00:00.000Z',
    };
    const document = toDocument(record);
    expect(document).not.toHaveProperty('agent_id');
    expect(document).not.toHaveProperty('hash');
    expect(fromSource(document, 'r1')).toEqual(record);
    const { vector: _, ...withoutVector } = document;
    expect(fromSource(withoutVector, 'r1')).not.toHaveProperty('vector');
  });

  it('indexes paths, typed scalar terms and array elements the way readField sees them', () => {
    expect(
      indexMetadata({ a: { b: [1, 'x', null, { c: 1 }] }, n: null, s: 's', 'd.k': 1 }),
    ).toEqual({
      metadata_terms: ['s\u0000s:s'],
      metadata_elements: [encodeTerm('a.b', 1), 'a.b\u0000s:x'],
      metadata_paths: ['a', 'a.b', 's'],
    });
  });
});
