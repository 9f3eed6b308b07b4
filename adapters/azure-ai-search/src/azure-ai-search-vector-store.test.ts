// Request-shape tests against a protocol model of Azure AI Search's REST API on 127.0.0.1 (see
// azure-ai-search-server.test-support.ts), driving the official client: NOT a real service.
import { sampleVectorRecord } from '@engram/adapter-kit/testing';
import {
  AdapterCallError,
  ClosedError,
  DimensionMismatchError,
  decodeCursor,
  InvalidArgumentError,
  NotFoundError,
  type VectorRecord,
} from '@engram/core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type AzureAiSearchModel,
  startAzureAiSearchModel,
} from './azure-ai-search-server.test-support.js';
import {
  azureAiSearchKey,
  createAzureAiSearchVectorStore,
  escapeSimpleQuery,
} from './azure-ai-search-vector-store.js';

let model: AzureAiSearchModel;

beforeAll(async () => {
  model = await startAzureAiSearchModel();
});
afterAll(() => model.close());
beforeEach(() => {
  model.requests.length = 0;
  model.indexes.clear();
  model.intercept = undefined;
});

const newStore = () =>
  createAzureAiSearchVectorStore({ endpoint: model.url, apiKey: 'model-admin-key', maxRetries: 0 });

const record = (seed: Partial<VectorRecord> = {}) =>
  sampleVectorRecord({
    metadata: { topic: 'drinks', rating: 4.5, tags: ['tea'], nested: { a: 1 }, nothing: null },
    ...seed,
  });

const last = (operation: string) =>
  model.requests.filter((request) => request.path.endsWith(operation)).at(-1)!;

describe('AzureAiSearchVectorStore requests (protocol model of the REST API, not a real service)', () => {
  it('does no I/O when created and declares its capabilities', async () => {
    const store = newStore();
    expect(store.capabilities).toMatchObject({ keywordSearch: true, metric: 'cosine' });
    expect(store.capabilities.filterOperators).not.toContain('contains');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(model.requests).toEqual([]);
  });

  it('creates one index per collection with the api-key header, and checks the dimension', async () => {
    const store = newStore();
    await store.ensureCollection({ collection: 'engram_memories', dimensions: 4 });
    await store.ensureCollection({ collection: 'engram_memories', dimensions: 4 });
    const create = model.requests.find((request) => request.method === 'POST')!;
    expect(create.path).toBe('/indexes');
    expect(create.headers['api-key']).toBe('model-admin-key');
    expect(create.query.get('api-version')).toMatch(/^\d{4}-\d{2}-\d{2}/);
    const body = create.body as {
      name: string;
      fields: { name: string; type: string; key?: boolean; dimensions?: number }[];
      vectorSearch: { algorithms: { kind: string; hnswParameters?: { metric: string } }[] };
    };
    expect(body.name).toBe('engram-memories');
    expect(body.fields.find((field) => field.key)?.name).toBe('key');
    expect(body.fields.find((field) => field.name === 'vector')).toMatchObject({
      type: 'Collection(Edm.Single)',
      dimensions: 4,
    });
    expect(body.fields.find((field) => field.name === 'filterNumbers')?.type).toBe(
      'Collection(Edm.ComplexType)',
    );
    expect(JSON.stringify(body.vectorSearch)).toContain('"metric":"cosine"');
    expect(model.requests.filter((request) => request.method === 'POST')).toHaveLength(1);
    await expect(
      store.ensureCollection({ collection: 'engram_memories', dimensions: 5 }),
    ).rejects.toSatisfy((error: unknown) => DimensionMismatchError.isInstance(error));
    await expect(store.ensureCollection({ collection: 'a__b', dimensions: 4 })).rejects.toSatisfy(
      (error: unknown) => InvalidArgumentError.isInstance(error),
    );
  });

  it('uploads whole documents: fields, exact metadata JSON, the filter projection', async () => {
    const store = newStore();
    await store.ensureCollection({ collection: 'memories', dimensions: 4 });
    await store.upsert({
      collection: 'memories',
      records: [record(), record({ id: 'a b/ü', userId: undefined, keywordText: '東京 です' })],
    });
    const batch = last('/docs/search.index').body as { value: Record<string, unknown>[] };
    const { vector: _vector, ...stored } = record();
    expect(batch.value[0]).toEqual({
      '@search.action': 'upload',
      key: 'memory-1',
      record: JSON.stringify(stored),
      keywordText: 'likes green tea',
      vector: [1, 0, 0, 0],
      userId: 'alice',
      agentId: null,
      runId: null,
      filterTokens: ['topic=s:drinks', 'rating=n:4.5', 'nested.a=n:1'],
      filterPaths: ['topic', 'rating', 'tags', 'nested', 'nested.a'],
      filterNumbers: [
        { path: 'rating', value: 4.5 },
        { path: 'nested.a', value: 1 },
      ],
      filterStrings: [{ path: 'topic', value: expect.any(String) }],
    });
    expect(batch.value[1]).toMatchObject({
      key: azureAiSearchKey('a b/ü'),
      keywordText: '東京 です',
    });
    expect(azureAiSearchKey('a b/ü')).toMatch(/^=[A-Za-z0-9_-]+$/);
    await expect(
      store.upsert({ collection: 'memories', records: [record({ vector: [1, 0] })] }),
    ).rejects.toSatisfy((error: unknown) => DimensionMismatchError.isInstance(error));
  });

  it('queries vectors with preFilter, k and the scope in $filter, and returns cosine similarities', async () => {
    const store = newStore();
    await store.ensureCollection({ collection: 'memories', dimensions: 4 });
    await store.upsert({
      collection: 'memories',
      records: [
        record(),
        record({ id: 'memory-2', vector: [0, 1, 0, 0] }),
        record({ id: 'memory-3', vector: [-1, 0, 0, 0], userId: 'bob' }),
      ],
    });
    const matches = await store.query({
      collection: 'memories',
      vector: [1, 0, 0, 0],
      topK: 5,
      scope: { userId: 'alice' },
      filter: { op: 'not', filter: { op: 'eq', field: 'topic', value: 'food' } },
    });
    expect(matches.map((match) => [match.record.id, Number(match.score.toFixed(6))])).toEqual([
      ['memory-1', 1],
      ['memory-2', 0],
    ]);
    expect(matches[0]!.record).toEqual((({ vector: _, ...rest }) => rest)(record()));
    expect(last('/docs/search.post.search').body).toMatchObject({
      filter: "(userId eq 'alice') and (not (filterTokens/any(t: t eq 'topic=s:food')))",
      top: 5,
      vectorFilterMode: 'preFilter',
      vectorQueries: [{ kind: 'vector', vector: [1, 0, 0, 0], k: 5, fields: 'vector' }],
    });
  });

  it('runs keyword queries as simple-syntax full-text search over keywordText', async () => {
    const store = newStore();
    await store.ensureCollection({ collection: 'memories', dimensions: 4 });
    await store.upsert({
      collection: 'memories',
      records: [record(), record({ id: 'memory-2', text: 'drives a red car' })],
    });
    const matches = await store.query({ collection: 'memories', text: 'red car -tea', topK: 2 });
    expect(matches.map((match) => match.record.id)).toEqual(['memory-2', 'memory-1']);
    expect(last('/docs/search.post.search').body).toMatchObject({
      search: 'red car \\-tea',
      searchFields: 'keywordText',
      searchMode: 'any',
      queryType: 'simple',
    });
    expect(escapeSimpleQuery('a+b (c) "d" e*')).toBe('a\\+b \\(c\\) \\"d\\" e\\*');
    model.requests.length = 0;
    expect(await store.query({ collection: 'memories', text: ' -*? ', topK: 2 })).toEqual([]);
    expect(model.requests.filter((request) => request.path.endsWith('search.post.search'))).toEqual(
      [],
    );
  });

  it('pages with key order and a key cursor, counts with $count, gets and deletes by key', async () => {
    const store = newStore();
    await store.ensureCollection({ collection: 'memories', dimensions: 4 });
    await store.upsert({
      collection: 'memories',
      records: ['c', 'a', 'b'].map((id) => record({ id })),
    });
    const first = await store.list({ collection: 'memories', limit: 2 });
    expect(first.records.map((item) => item.id)).toEqual(['a', 'b']);
    expect(decodeCursor(first.nextCursor)).toBe('b');
    expect(last('/docs/search.post.search').body).toMatchObject({ orderby: 'key asc', top: 3 });
    const second = await store.list({
      collection: 'memories',
      limit: 2,
      cursor: first.nextCursor!,
    });
    expect(second.records.map((item) => item.id)).toEqual(['c']);
    expect(second.nextCursor).toBeUndefined();
    expect(last('/docs/search.post.search').body).toMatchObject({ filter: "key gt 'b'" });
    expect(await store.count({ collection: 'memories', scope: { userId: 'alice' } })).toBe(3);
    expect(last('/docs/search.post.search').body).toMatchObject({ count: true, top: 0 });
    expect(
      (await store.get({ collection: 'memories', ids: ['c', 'x', 'a'] })).map((r) => r.id),
    ).toEqual(['c', 'a']);
    expect(await store.delete({ collection: 'memories', ids: ['a', 'missing'] })).toEqual({
      deleted: 1,
    });
    expect(last('/docs/search.index').body).toEqual({
      value: [{ '@search.action': 'delete', key: 'a' }],
    });
    expect(
      await store.delete({ collection: 'memories', filter: { op: 'exists', field: 'topic' } }),
    ).toEqual({ deleted: 2 });
    await expect(
      store.list({ collection: 'memories', limit: 2, cursor: 'bm9wZQ' }),
    ).rejects.toSatisfy((error: unknown) => InvalidArgumentError.isInstance(error));
  });

  it('maps a missing index to NotFoundError and its drop to a no-op', async () => {
    const store = newStore();
    await expect(store.count({ collection: 'memories' })).rejects.toSatisfy((error: unknown) =>
      NotFoundError.isInstance(error),
    );
    await expect(store.dropCollection({ collection: 'memories' })).resolves.toBeUndefined();
  });

  it('maps HTTP failures: 429 and 5xx are retryable, other 4xx are not', async () => {
    const store = createAzureAiSearchVectorStore({
      endpoint: model.url,
      apiKey: 'k',
      maxRetries: 0,
    });
    await store.ensureCollection({ collection: 'memories', dimensions: 4 });
    for (const [status, retryable] of [
      [429, true],
      [503, true],
      [400, false],
      [403, false],
    ] as const) {
      model.intercept = (request) =>
        request.path.endsWith('search.post.search')
          ? { status, body: { error: { code: 'Model', message: `model status ${status}` } } }
          : undefined;
      const error = await store
        .count({ collection: 'memories' })
        .catch((caught: unknown) => caught);
      expect(AdapterCallError.isInstance(error), `${status}: ${String(error)}`).toBe(true);
      expect((error as AdapterCallError).isRetryable, `${status}`).toBe(retryable);
      expect((error as AdapterCallError).cause).toBeDefined();
    }
  }, 120_000);

  it('needs an endpoint and key, and rejects every call after close()', async () => {
    const store = createAzureAiSearchVectorStore({ endpoint: '', apiKey: '' });
    const saved = { ...process.env };
    delete process.env.AZURE_AI_SEARCH_ENDPOINT;
    delete process.env.AZURE_AI_SEARCH_API_KEY;
    await expect(store.count({ collection: 'x' })).rejects.toSatisfy((error: unknown) =>
      InvalidArgumentError.isInstance(error),
    );
    process.env = saved;
    await store.close();
    await store.close();
    await expect(store.count({ collection: 'x' })).rejects.toSatisfy((error: unknown) =>
      ClosedError.isInstance(error),
    );
  });
});
