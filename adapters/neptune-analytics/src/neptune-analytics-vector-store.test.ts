// Request-shape tests against a protocol model of the Neptune Analytics API on 127.0.0.1 (see
// neptune-analytics-server.test-support.ts), driving the official client: NOT the real service.
import { NeptuneGraphClient } from '@aws-sdk/client-neptune-graph';
import { injectedFailureOutcomes, sampleVectorRecord } from '@engram/adapter-kit/testing';
import {
  ClosedError,
  DimensionMismatchError,
  InvalidArgumentError,
  NotFoundError,
  UnsupportedFunctionalityError,
} from '@engram/core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type NeptuneAnalyticsModel,
  startNeptuneAnalyticsModel,
} from './neptune-analytics-server.test-support.js';
import {
  createNeptuneAnalyticsStore,
  toNeptuneAnalyticsProperties,
} from './neptune-analytics-vector-store.js';

let model: NeptuneAnalyticsModel;

beforeAll(async () => {
  model = await startNeptuneAnalyticsModel(6);
});
afterAll(() => model.close());
beforeEach(() => {
  model.requests.length = 0;
  model.nodes.clear();
  model.intercept = undefined;
});

const newStore = (graphIdentifier = model.graphIdentifier) =>
  createNeptuneAnalyticsStore({
    graphIdentifier,
    client: new NeptuneGraphClient({
      endpoint: model.url,
      region: 'eu-west-1',
      credentials: { accessKeyId: 'model', secretAccessKey: 'model' },
      disableHostPrefix: true,
      maxAttempts: 1,
    }),
  });

const record = sampleVectorRecord;

const queries = () =>
  model.requests.filter((request) => request.path === '/queries').map((request) => request.body);

describe('NeptuneAnalyticsStore requests (protocol model of the API, not the real service)', () => {
  it('reads the index dimension, records the collection on a marker node, signs its calls', async () => {
    const store = newStore();
    expect(store.capabilities).toMatchObject({
      keywordSearch: false,
      metric: 'cosine',
      maxBatchSize: 100,
    });
    expect(model.requests).toEqual([]);
    await store.ensureCollection({ collection: 'memories', dimensions: 4 });
    await store.ensureCollection({ collection: 'memories', dimensions: 4 });
    const [graph, marker] = model.requests;
    expect(graph).toMatchObject({ method: 'GET', path: `/graphs/${model.graphIdentifier}` });
    expect(marker!.headers.graphidentifier).toBe(model.graphIdentifier);
    expect(marker!.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=model\/\d+\/eu-west-1\/neptune-graph\//,
    );
    expect(marker!.body).toEqual({
      language: 'OPEN_CYPHER',
      query:
        'MERGE (c:`EngramCollection` {`~id`: $marker}) ON CREATE SET c.dimensions = $dimensions RETURN c.dimensions AS dimensions',
      parameters: { marker: 'engram-collection:memories', dimensions: 4 },
    });
    expect(model.requests.filter((request) => request.method === 'GET')).toHaveLength(1);
    await expect(
      store.ensureCollection({ collection: 'memories', dimensions: 5 }),
    ).rejects.toSatisfy((error: unknown) => DimensionMismatchError.isInstance(error));
    await expect(store.ensureCollection({ collection: 'wide', dimensions: 7 })).rejects.toSatisfy(
      (error: unknown) => DimensionMismatchError.isInstance(error),
    );
  });

  it('upserts nodes with the record JSON and typed properties, padded embeddings, and queries exactly', async () => {
    const store = newStore();
    await store.ensureCollection({ collection: 'memories', dimensions: 4 });
    await store.upsert({
      collection: 'memories',
      records: [record(), record({ id: 'memory-2', vector: [0, 1, 0, 0] })],
    });
    const { vector: _vector, ...stored } = record();
    const upsert = queries().at(-1)!;
    expect(upsert.query).toBe(
      'UNWIND $rows AS row MERGE (n:`memories` {`~id`: row.nodeId}) SET n = row.properties WITH n, row CALL neptune.algo.vectors.upsert(n, row.embedding) YIELD success RETURN count(success) AS upserted',
    );
    expect((upsert.parameters as { rows: unknown[] }).rows[0]).toEqual({
      nodeId: 'engram:memories:memory-1',
      properties: {
        engram_id: 'memory-1',
        engram_order: '006d0065006d006f00720079002d0031',
        engram_record: JSON.stringify(stored),
        userId: 'alice',
        's:topic': 'drinks',
        'h:topic': '006400720069006e006b0073',
        'n:rating': 4.5,
      },
      embedding: [1, 0, 0, 0, 0, 0],
    });
    expect(toNeptuneAnalyticsProperties(record()).engram_record).toBe(JSON.stringify(stored));
    const matches = await store.query({
      collection: 'memories',
      vector: [1, 0, 0, 0],
      topK: 5,
      scope: { userId: 'alice' },
      filter: { op: 'gt', field: 'rating', value: 4 },
      includeVectors: true,
    });
    expect(matches.map((match) => [match.record.id, Number(match.score.toFixed(6))])).toEqual([
      ['memory-1', 1],
      ['memory-2', 0],
    ]);
    expect(matches[0]!.record).toEqual({ ...stored, vector: [1, 0, 0, 0] });
    expect(queries().at(-1)).toEqual({
      language: 'OPEN_CYPHER',
      query:
        'MATCH (n:`memories`) WHERE coalesce(n.userId = $userId, false) AND coalesce(n.`n:rating` > $f1, false) CALL neptune.algo.vectors.distance.byEmbedding(n, {embedding: $embedding, metric: "CosineSimilarity"}) YIELD distance CALL neptune.algo.vectors.get(n) YIELD embedding RETURN n.engram_record AS record, distance AS score, embedding ORDER BY score DESC, n.engram_order LIMIT $topK',
      parameters: { userId: 'alice', f1: 4, embedding: [1, 0, 0, 0, 0, 0], topK: 5 },
    });
    await expect(store.query({ collection: 'memories', text: 'tea', topK: 5 })).rejects.toSatisfy(
      (error: unknown) => UnsupportedFunctionalityError.isInstance(error),
    );
  });

  it('pages by the hex order key, counts and deletes in one statement each', async () => {
    const store = newStore();
    await store.ensureCollection({ collection: 'memories', dimensions: 4 });
    await store.upsert({
      collection: 'memories',
      records: ['e', 'c', 'a', 'd', 'b'].map((id) => record({ id })),
    });
    const first = await store.list({
      collection: 'memories',
      limit: 3,
      scope: { userId: 'alice' },
    });
    expect(first.records.map((item) => item.id)).toEqual(['a', 'b', 'c']);
    const next = await store.list({
      collection: 'memories',
      limit: 3,
      scope: { userId: 'alice' },
      cursor: first.nextCursor!,
    });
    expect(next.records.map((item) => item.id)).toEqual(['d', 'e']);
    expect(next.nextCursor).toBeUndefined();
    expect(queries().at(-1)!.parameters).toMatchObject({ after: '0063', limit: 4 });
    expect(await store.count({ collection: 'memories', scope: { userId: 'bob' } })).toBe(0);
    expect(await store.delete({ collection: 'memories', ids: ['a', 'missing'] })).toEqual({
      deleted: 1,
    });
    expect(
      await store.delete({ collection: 'memories', filter: { op: 'exists', field: 'topic' } }),
    ).toEqual({ deleted: 4 });
    await expect(
      store.list({ collection: 'memories', limit: 3, cursor: 'not a cursor' }),
    ).rejects.toSatisfy((error: unknown) => InvalidArgumentError.isInstance(error));
  });

  it('maps errors: a missing graph or collection is NotFoundError, throttling and 5xx are retryable', async () => {
    await expect(
      newStore('g-missing').ensureCollection({ collection: 'memories', dimensions: 4 }),
    ).rejects.toSatisfy((error: unknown) => NotFoundError.isInstance(error));
    const store = newStore();
    await expect(store.count({ collection: 'memories' })).rejects.toSatisfy((error: unknown) =>
      NotFoundError.isInstance(error),
    );
    await store.ensureCollection({ collection: 'memories', dimensions: 4 });
    const cases = [
      [429, 'ThrottlingException', true],
      [500, 'InternalServerException', true],
      [400, 'ValidationException', false],
      [403, 'AccessDeniedException', false],
    ] as const;
    const outcomes = await injectedFailureOutcomes(cases, {
      label: ([, type]) => type,
      inject: ([status, type]) => {
        model.intercept = (request) => (request.path === '/queries' ? { status, type } : undefined);
      },
      call: () => store.count({ collection: 'memories' }),
    });
    expect(outcomes).toEqual(
      cases.map(([, type, isRetryable]) => ({
        label: type,
        name: 'AdapterCallError',
        isRetryable,
      })),
    );
  });

  it('needs a graph, and rejects every call after close()', async () => {
    const saved = process.env.NEPTUNE_ANALYTICS_GRAPH_ID;
    delete process.env.NEPTUNE_ANALYTICS_GRAPH_ID;
    const store = createNeptuneAnalyticsStore({ region: 'us-east-1' });
    await expect(store.count({ collection: 'memories' })).rejects.toSatisfy((error: unknown) =>
      InvalidArgumentError.isInstance(error),
    );
    if (saved !== undefined) process.env.NEPTUNE_ANALYTICS_GRAPH_ID = saved;
    await store.close();
    await store.close();
    await expect(store.count({ collection: 'memories' })).rejects.toSatisfy((error: unknown) =>
      ClosedError.isInstance(error),
    );
  });
});
