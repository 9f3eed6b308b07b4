// Request-shape tests against a protocol model of the Baidu VectorDB HTTP API on 127.0.0.1 (see
// baidu-server.test-support.ts): NOT the real service.
import { injectedFailureOutcomes, sampleVectorRecord } from '@engram/adapter-kit/testing';
import {
  ClosedError,
  DimensionMismatchError,
  InvalidArgumentError,
  NotFoundError,
  UnsupportedFunctionalityError,
  type VectorRecord,
} from '@engram/core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type BaiduModel, startBaiduModel } from './baidu-server.test-support.js';
import { createBaiduVectorStore, toBaiduRow } from './baidu-vector-store.js';

let model: BaiduModel;

beforeAll(async () => {
  model = await startBaiduModel();
});
afterAll(() => model.close());
beforeEach(() => {
  model.requests.length = 0;
  model.tables.clear();
  model.intercept = undefined;
  model.pageSize = 1000;
});

const newStore = () =>
  createBaiduVectorStore({
    endpoint: `${model.url}/`,
    apiKey: model.apiKey,
    database: model.database,
    filterFields: ['topic', 'rating'],
  });

const record = (seed: Partial<VectorRecord> = {}) =>
  sampleVectorRecord({ userId: "o'brien", ...seed });

const last = (path: string, action: string) =>
  model.requests.filter((request) => request.path === path && request.action === action).at(-1)!;

describe('BaiduVectorStore requests (protocol model of the HTTP API, not the real service)', () => {
  it('creates a table with typed filter columns and an HNSW cosine index', async () => {
    const store = newStore();
    expect(store.capabilities).toMatchObject({
      keywordSearch: false,
      metric: 'cosine',
      maxBatchSize: 500,
    });
    expect(store.capabilities.filterOperators).not.toContain('contains');
    expect(model.requests).toEqual([]);
    await store.ensureCollection({ collection: 'memories', dimensions: 4 });
    await store.ensureCollection({ collection: 'memories', dimensions: 4 });
    const create = last('/v1/table', 'create');
    expect(create.headers.authorization).toBe(`Bearer account=root&api_key=${model.apiKey}`);
    expect(create.body).toMatchObject({
      database: 'engram',
      table: 'memories',
      partition: { partitionType: 'HASH', partitionNum: 1 },
      schema: {
        indexes: [
          { indexName: 'vector_idx', indexType: 'HNSW', field: 'vector', metricType: 'COSINE' },
        ],
      },
    });
    const fields = (create.body.schema as { fields: { fieldName: string; fieldType: string }[] })
      .fields;
    expect(fields.map((field) => `${field.fieldName}:${field.fieldType}`)).toEqual([
      'id:STRING',
      'h_id:STRING',
      'record:STRING',
      'user_id:STRING',
      'agent_id:STRING',
      'run_id:STRING',
      's_topic:STRING',
      'n_topic:DOUBLE',
      't_topic:STRING',
      's_rating:STRING',
      'n_rating:DOUBLE',
      't_rating:STRING',
      'vector:FLOAT_VECTOR',
    ]);
    expect(model.requests.filter((request) => request.action === 'create')).toHaveLength(1);
    await expect(
      store.ensureCollection({ collection: 'memories', dimensions: 5 }),
    ).rejects.toSatisfy((error: unknown) => DimensionMismatchError.isInstance(error));
  });

  it('upserts rows with hex-encoded strings, and searches with the filter expression', async () => {
    const store = newStore();
    await store.ensureCollection({ collection: 'memories', dimensions: 4 });
    await store.upsert({
      collection: 'memories',
      records: [record(), record({ id: 'memory-2', vector: [0, 1, 0, 0] })],
    });
    const { vector: _vector, ...stored } = record();
    expect((last('/v1/row', 'upsert').body.rows as unknown[])[0]).toEqual({
      ...toBaiduRow(record(), ['topic', 'rating']),
      id: 'memory-1',
      record: JSON.stringify(stored),
      user_id: 's006f00270062007200690065006e',
      agent_id: '',
      run_id: '',
      t_rating: 'n',
      n_rating: 4.5,
      s_rating: '',
    });
    const matches = await store.query({
      collection: 'memories',
      vector: [1, 0, 0, 0],
      topK: 5,
      scope: { userId: "o'brien" },
      filter: { op: 'gt', field: 'rating', value: 4 },
      includeVectors: true,
    });
    expect(matches.map((match) => [match.record.id, Number(match.score.toFixed(6))])).toEqual([
      ['memory-1', 1],
      ['memory-2', 0],
    ]);
    expect(matches[0]!.record).toEqual({ ...stored, vector: [1, 0, 0, 0] });
    expect(last('/v1/row', 'search').body).toEqual({
      database: 'engram',
      table: 'memories',
      anns: {
        vectorField: 'vector',
        vectorFloats: [1, 0, 0, 0],
        params: { ef: 64, limit: 5 },
        filter: "user_id = 's006f00270062007200690065006e' AND (t_rating = 'n' AND n_rating > 4)",
      },
      projections: ['id', 'record'],
      retrieveVector: true,
    });
    await expect(
      store.query({
        collection: 'memories',
        vector: [1, 0, 0, 0],
        topK: 5,
        filter: { op: 'eq', field: 'undeclared', value: 1 },
      }),
    ).rejects.toSatisfy((error: unknown) => UnsupportedFunctionalityError.isInstance(error));
  });

  it('lists by select markers, counts, and deletes by filter after counting', async () => {
    const store = newStore();
    model.pageSize = 2;
    await store.ensureCollection({ collection: 'memories', dimensions: 4 });
    await store.upsert({
      collection: 'memories',
      records: ['e', 'c', 'a', 'd', 'b'].map((id) => record({ id })),
    });
    const first = await store.list({ collection: 'memories', limit: 3 });
    expect(first.records.map((item) => item.id)).toEqual(['a', 'b']);
    const next = await store.list({ collection: 'memories', limit: 3, cursor: first.nextCursor! });
    expect(next.records.map((item) => item.id)).toEqual(['c', 'd']);
    expect(last('/v1/row', 'select').body.marker).toEqual({ id: 'c' });
    expect(await store.count({ collection: 'memories', scope: { userId: "o'brien" } })).toBe(5);
    expect(await store.delete({ collection: 'memories', ids: ['a', 'missing'] })).toEqual({
      deleted: 1,
    });
    expect(last('/v1/row', 'delete').body.filter).toBe(
      "h_id IN ('0061', '006d0069007300730069006e0067')",
    );
    await expect(
      store.list({ collection: 'memories', limit: 3, cursor: 'not a cursor' }),
    ).rejects.toSatisfy((error: unknown) => InvalidArgumentError.isInstance(error));
  });

  it('maps errors: a missing table is NotFoundError, 429 and 5xx are retryable', async () => {
    const store = newStore();
    await expect(store.count({ collection: 'memories' })).rejects.toSatisfy((error: unknown) =>
      NotFoundError.isInstance(error),
    );
    await expect(store.dropCollection({ collection: 'memories' })).resolves.toBeUndefined();
    await store.ensureCollection({ collection: 'memories', dimensions: 4 });
    const cases = [
      [429, 3, true],
      [503, 1, true],
      [400, 1, false],
      [401, 2, false],
    ] as const;
    const outcomes = await injectedFailureOutcomes(cases, {
      label: ([status]) => String(status),
      inject: ([status, code]) => {
        model.intercept = (request) => (request.action === 'select' ? { status, code } : undefined);
      },
      call: () => store.count({ collection: 'memories' }),
    });
    expect(outcomes).toEqual(
      cases.map(([status, , isRetryable]) => ({
        label: String(status),
        name: 'AdapterCallError',
        isRetryable,
      })),
    );
  });

  it('needs an endpoint, a key and a database, and rejects every call after close()', async () => {
    const saved = { ...process.env };
    for (const name of [
      'BAIDU_VECTORDB_ENDPOINT',
      'BAIDU_VECTORDB_API_KEY',
      'BAIDU_VECTORDB_DATABASE',
    ]) {
      delete process.env[name];
    }
    await expect(createBaiduVectorStore().count({ collection: 'memories' })).rejects.toSatisfy(
      (error: unknown) => InvalidArgumentError.isInstance(error),
    );
    Object.assign(process.env, saved);
    expect(() => createBaiduVectorStore({ filterFields: ['a__b'] })).toThrow(InvalidArgumentError);
    const store = newStore();
    await store.close();
    await store.close();
    await expect(store.count({ collection: 'memories' })).rejects.toSatisfy((error: unknown) =>
      ClosedError.isInstance(error),
    );
  });
});
