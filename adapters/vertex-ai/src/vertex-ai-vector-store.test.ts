// Request-shape tests against a protocol model of the Vertex AI REST API on 127.0.0.1 (see
// vertex-ai-server.test-support.ts), driving the official client over its REST transport: NOT
// the real service.
import { sampleVectorRecord } from '@engram/adapter-kit/testing';
import {
  AdapterCallError,
  ClosedError,
  DimensionMismatchError,
  InvalidArgumentError,
  NotFoundError,
  UnsupportedFunctionalityError,
} from '@engram/core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  startVertexAiModel,
  type VertexAiModel,
  vertexAiModelNames,
} from './vertex-ai-server.test-support.js';
import { createVertexAiVectorStore } from './vertex-ai-vector-store.js';

let model: VertexAiModel;

beforeAll(async () => {
  model = await startVertexAiModel();
});
afterAll(() => model.close());
beforeEach(() => {
  model.requests.length = 0;
  model.datapoints.clear();
  model.intercept = undefined;
});

const newStore = (overrides: Record<string, unknown> = {}) =>
  createVertexAiVectorStore({
    ...vertexAiModelNames,
    apiEndpoint: '127.0.0.1',
    clientOptions: {
      fallback: true,
      protocol: 'http',
      port: model.port,
      // Stands in for a Google auth client: no credentials, plain fetch to the model.
      authClient: {
        getRequestHeaders: async () => new Headers(),
        fetch: (url: string, init: RequestInit & { responseType?: string; agent?: unknown }) => {
          const { responseType: _responseType, agent: _agent, ...request } = init;
          return fetch(url, request);
        },
      } as never,
    },
    ...overrides,
  });

const record = sampleVectorRecord;

const last = (suffix: string) =>
  model.requests.filter((request) => request.path.endsWith(suffix)).at(-1)!;

describe('VertexAiVectorStore requests (protocol model of the REST API, not the real service)', () => {
  it('checks the index, then upserts datapoints with restricts and the record as metadata', async () => {
    const store = newStore();
    expect(store.capabilities).toMatchObject({ keywordSearch: false, metric: 'cosine' });
    await store.ensureCollection({ collection: 'memories', dimensions: 4 });
    await expect(store.ensureCollection({ collection: 'other', dimensions: 3 })).rejects.toThrow(
      DimensionMismatchError,
    );
    await store.upsert({ collection: 'memories', records: [record()] });
    const upsert = last(':upsertDatapoints');
    const [datapoint] = upsert.body.datapoints as Record<string, unknown>[];
    expect(datapoint).toMatchObject({
      datapointId: 'memories/memory-1',
      featureVector: [1, 0, 0, 0],
      numericRestricts: [{ namespace: 'n/rating', valueDouble: 4.5 }],
    });
    expect(datapoint!.restricts).toEqual(
      expect.arrayContaining([
        { namespace: 'collection', allowList: ['memories'] },
        { namespace: 'scope/userId', allowList: ['alice'] },
        { namespace: 'f/topic', allowList: ['s:drinks'] },
      ]),
    );
    expect(JSON.parse((datapoint!.embeddingMetadata as { r: string }).r)).toMatchObject({
      id: 'memory-1',
      text: 'likes green tea',
    });
    await store.close();
  });

  it('queries with collection, scope and filter restricts and returns similarities', async () => {
    const store = newStore();
    await store.upsert({
      collection: 'memories',
      records: [
        record(),
        record({ id: 'memory-2', vector: [0, 1, 0, 0], metadata: { topic: 'drinks', rating: 2 } }),
        record({ id: 'memory-3', userId: 'bob' }),
      ],
    });
    await store.upsert({ collection: 'elsewhere', records: [record()] });
    const matches = await store.query({
      collection: 'memories',
      vector: [1, 0, 0, 0],
      topK: 5,
      scope: { userId: 'alice' },
      filter: { op: 'gte', field: 'rating', value: 3 },
    });
    expect(matches.map((match) => [match.record.id, match.score])).toEqual([['memory-1', 1]]);
    const query = last(':findNeighbors').body as {
      returnFullDatapoint: boolean;
      queries: { neighborCount: number; datapoint: Record<string, unknown> }[];
    };
    expect(query.returnFullDatapoint).toBe(true);
    expect(query.queries[0]).toMatchObject({
      neighborCount: 5,
      datapoint: {
        restricts: [
          { namespace: 'collection', allowList: ['memories'] },
          { namespace: 'scope/userId', allowList: ['alice'] },
        ],
        numericRestricts: [{ namespace: 'n/rating', valueDouble: 3, op: 'GREATER_EQUAL' }],
      },
    });
    const [near] = await store.query({
      collection: 'memories',
      vector: [1, 1, 0, 0],
      topK: 1,
      scope: { userId: 'alice' },
    });
    expect(near!.score).toBeCloseTo(Math.SQRT1_2, 6);
    const requests = model.requests.length;
    expect(
      await store.query({
        collection: 'memories',
        vector: [1, 0, 0, 0],
        topK: 5,
        filter: { op: 'in', field: 'topic', values: [] },
      }),
    ).toEqual([]);
    expect(model.requests.length).toBe(requests);
    await expect(
      store.query({
        collection: 'memories',
        vector: [1, 0, 0, 0],
        topK: 5,
        filter: { op: 'or', filters: [{ op: 'eq', field: 'topic', value: 'x' }] },
      }),
    ).rejects.toThrow(UnsupportedFunctionalityError);
    await expect(store.query({ collection: 'memories', text: 'tea', topK: 1 })).rejects.toThrow(
      UnsupportedFunctionalityError,
    );
  });

  it('reads by id within the collection and deletes only what exists', async () => {
    const store = newStore();
    await store.upsert({
      collection: 'memories',
      records: [record(), record({ id: 'memory-2' })],
    });
    const got = await store.get({
      collection: 'memories',
      ids: ['memory-2', 'missing', 'memory-1'],
      includeVectors: true,
    });
    expect(got.map((stored) => [stored.id, stored.vector])).toEqual([
      ['memory-2', [1, 0, 0, 0]],
      ['memory-1', [1, 0, 0, 0]],
    ]);
    expect(await store.get({ collection: 'elsewhere', ids: ['memory-1'] })).toEqual([]);
    expect(await store.delete({ collection: 'memories', ids: ['memory-1', 'missing'] })).toEqual({
      deleted: 1,
    });
    expect(last(':removeDatapoints').body).toMatchObject({ datapointIds: ['memories/memory-1'] });
    expect([...model.datapoints.keys()]).toEqual(['memories/memory-2']);
  });

  it('refuses an index of another metric or one updated in batches', async () => {
    const saved = model.index;
    try {
      model.index = { ...saved, indexUpdateMethod: 'BATCH_UPDATE' };
      await expect(
        newStore().ensureCollection({ collection: 'memories', dimensions: 4 }),
      ).rejects.toThrow(InvalidArgumentError);
      model.index = {
        ...saved,
        metadata: { config: { dimensions: 4, distanceMeasureType: 'SQUARED_L2_DISTANCE' } },
      };
      await expect(
        newStore().ensureCollection({ collection: 'memories', dimensions: 4 }),
      ).rejects.toThrow(InvalidArgumentError);
    } finally {
      model.index = saved;
    }
  });

  it('refuses what Vector Search cannot enumerate', async () => {
    const store = newStore();
    for (const call of [
      () => store.list({ collection: 'memories', limit: 10 }),
      () => store.count({ collection: 'memories' }),
      () => store.delete({ collection: 'memories', scope: { userId: 'alice' } }),
      () => store.dropCollection({ collection: 'memories' }),
    ]) {
      await expect(call()).rejects.toThrow(UnsupportedFunctionalityError);
    }
  });

  it('maps errors: missing settings, missing deployed index, retryable failures, closed store', async () => {
    await expect(
      newStore({ indexId: undefined }).ensureCollection({ collection: 'memories', dimensions: 4 }),
    ).rejects.toThrow(InvalidArgumentError);
    await expect(
      newStore({ deployedIndexId: 'other' }).get({ collection: 'memories', ids: ['x'] }),
    ).rejects.toThrow(NotFoundError);
    model.intercept = () => ({ status: 503, code: 'UNAVAILABLE' });
    const error = await newStore()
      .upsert({ collection: 'memories', records: [record()] })
      .catch((caught: unknown) => caught);
    expect(AdapterCallError.isInstance(error)).toBe(true);
    expect((error as AdapterCallError).isRetryable).toBe(true);
    model.intercept = undefined;
    const store = newStore();
    await store.close();
    await expect(store.get({ collection: 'memories', ids: ['x'] })).rejects.toThrow(ClosedError);
  });
});
