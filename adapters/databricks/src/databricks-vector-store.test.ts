// Request-shape tests against a protocol model of the Databricks Vector Search REST API on
// 127.0.0.1 (see databricks-server.test-support.ts): NOT the real service.
import { injectedFailureOutcomes, sampleVectorRecord } from '@engram/adapter-kit/testing';
import {
  ClosedError,
  DimensionMismatchError,
  InvalidArgumentError,
  NotFoundError,
  UnsupportedFunctionalityError,
} from '@engram/core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type DatabricksModel, startDatabricksModel } from './databricks-server.test-support.js';
import { createDatabricksVectorStore, toDatabricksRow } from './databricks-vector-store.js';

let model: DatabricksModel;

beforeAll(async () => {
  model = await startDatabricksModel();
});
afterAll(() => model.close());
beforeEach(() => {
  model.requests.length = 0;
  model.indexes.clear();
  model.intercept = undefined;
});

const newStore = () =>
  createDatabricksVectorStore({
    host: `${model.url}/`,
    token: model.token,
    endpointName: 'memories-endpoint',
    schema: 'main.engram',
    filterColumns: { rating: 'double', topic: 'string' },
  });

const record = sampleVectorRecord;

const last = (suffix: string) =>
  model.requests.filter((request) => request.path.endsWith(suffix)).at(-1)!;

describe('DatabricksVectorStore requests (protocol model of the REST API, not the real service)', () => {
  it('creates a direct-access index with the fixed schema and the declared filter columns', async () => {
    const store = newStore();
    expect(store.capabilities).toMatchObject({
      keywordSearch: false,
      metric: 'euclidean',
      maxBatchSize: 500,
      filterOperators: ['eq', 'in', 'gt', 'gte', 'lt', 'lte', 'and'],
    });
    expect(model.requests).toEqual([]);
    await store.ensureCollection({ collection: 'memories', dimensions: 4 });
    await store.ensureCollection({ collection: 'memories', dimensions: 4 });
    const create = model.requests.find((request) => request.method === 'POST')!;
    expect(create.path).toBe('/api/2.0/vector-search/indexes');
    expect(create.headers.authorization).toBe(`Bearer ${model.token}`);
    expect(create.body).toEqual({
      name: 'main.engram.memories',
      endpoint_name: 'memories-endpoint',
      primary_key: 'id',
      index_type: 'DIRECT_ACCESS',
      direct_access_index_spec: {
        embedding_vector_columns: [{ name: 'vector', embedding_dimension: 4 }],
        schema_json: JSON.stringify({
          id: 'string',
          vector: 'array<float>',
          record: 'string',
          m_tokens: 'string',
          user_id: 'string',
          agent_id: 'string',
          run_id: 'string',
          m_rating: 'double',
          m_topic: 'string',
        }),
      },
    });
    await expect(
      store.ensureCollection({ collection: 'memories', dimensions: 5 }),
    ).rejects.toSatisfy((error: unknown) => DimensionMismatchError.isInstance(error));
  });

  it('upserts rows with the record JSON, tokens and columns, and queries with filters_json', async () => {
    const store = newStore();
    await store.ensureCollection({ collection: 'memories', dimensions: 4 });
    await store.upsert({
      collection: 'memories',
      records: [record(), record({ id: 'memory-2', vector: [0, 1, 0, 0] })],
    });
    const { vector: _vector, ...stored } = record();
    const rows = JSON.parse(String(last('/upsert-data').body.inputs_json)) as unknown[];
    expect(rows[0]).toEqual({
      ...toDatabricksRow(record(), { rating: 'double', topic: 'string' }),
      record: JSON.stringify(stored),
      user_id: 'alice',
      agent_id: null,
      run_id: null,
      m_rating: 4.5,
      m_topic: 'drinks',
    });
    const matches = await store.query({
      collection: 'memories',
      vector: [1, 0, 0, 0],
      topK: 5,
      scope: { userId: 'alice' },
      filter: { op: 'gt', field: 'rating', value: 4 },
      includeVectors: true,
    });
    expect(matches.map((match) => [match.record.id, match.score])).toEqual([
      ['memory-1', 1],
      ['memory-2', 1 / 3],
    ]);
    expect(matches[0]!.record).toEqual({ ...stored, vector: [1, 0, 0, 0] });
    expect(last('/query').body).toEqual({
      columns: ['id', 'record', 'vector'],
      query_vector: [1, 0, 0, 0],
      num_results: 5,
      filters_json: JSON.stringify({ user_id: 'alice', 'm_rating >': 4 }),
    });
    await expect(
      store.upsert({ collection: 'memories', records: [record({ metadata: { rating: 'high' } })] }),
    ).rejects.toSatisfy((error: unknown) => InvalidArgumentError.isInstance(error));
    await expect(
      store.query({
        collection: 'memories',
        vector: [1, 0, 0, 0],
        topK: 5,
        filter: { op: 'ne', field: 'topic', value: 'x' },
      }),
    ).rejects.toSatisfy((error: unknown) => UnsupportedFunctionalityError.isInstance(error));
  });

  it('scans unfiltered pages, enumerates filtered ones, deletes by primary keys', async () => {
    const store = newStore();
    await store.ensureCollection({ collection: 'memories', dimensions: 4 });
    await store.upsert({
      collection: 'memories',
      records: ['e', 'c', 'a', 'd', 'b'].map((id) => record({ id })),
    });
    const first = await store.list({ collection: 'memories', limit: 3 });
    expect(first.records.map((item) => item.id)).toEqual(['a', 'b', 'c']);
    expect(last('/scan').body).toEqual({ num_results: 4 });
    const next = await store.list({ collection: 'memories', limit: 3, cursor: first.nextCursor! });
    expect(next.records.map((item) => item.id)).toEqual(['d', 'e']);
    expect(last('/scan').body).toEqual({ num_results: 4, last_primary_key: 'c' });
    const scoped = await store.list({
      collection: 'memories',
      limit: 2,
      scope: { userId: 'alice' },
    });
    expect(scoped.records.map((item) => item.id)).toEqual(['a', 'b']);
    expect(await store.count({ collection: 'memories' })).toBe(5);
    expect(await store.delete({ collection: 'memories', ids: ['a', 'missing'] })).toEqual({
      deleted: 1,
    });
    const removal = last('/delete-data');
    expect(removal.method).toBe('DELETE');
    expect(removal.query.getAll('primary_keys')).toEqual(['a']);
  });

  it('gets an OAuth M2M token once, and maps errors', async () => {
    const store = createDatabricksVectorStore({
      host: model.url,
      clientId: 'client',
      clientSecret: 'secret',
      endpointName: 'memories-endpoint',
      schema: 'main.engram',
    });
    await expect(store.count({ collection: 'memories' })).rejects.toSatisfy((error: unknown) =>
      NotFoundError.isInstance(error),
    );
    await store.ensureCollection({ collection: 'memories', dimensions: 4 });
    expect(model.requests.filter((request) => request.path === '/oidc/v1/token')).toHaveLength(1);
    const cases = [
      [429, 'REQUEST_LIMIT_EXCEEDED', true],
      [503, 'TEMPORARILY_UNAVAILABLE', true],
      [400, 'INVALID_PARAMETER_VALUE', false],
      [403, 'PERMISSION_DENIED', false],
    ] as const;
    const outcomes = await injectedFailureOutcomes(cases, {
      label: ([, code]) => code,
      inject: ([status, code]) => {
        model.intercept = (request) =>
          request.path.endsWith('/scan') ? { status, code } : undefined;
      },
      call: () => store.count({ collection: 'memories' }),
    });
    expect(outcomes).toEqual(
      cases.map(([, code, isRetryable]) => ({
        label: code,
        name: 'AdapterCallError',
        isRetryable,
      })),
    );
  });

  it('needs a host and credentials, and rejects every call after close()', async () => {
    const saved = { ...process.env };
    for (const name of ['DATABRICKS_HOST', 'DATABRICKS_TOKEN', 'DATABRICKS_CLIENT_ID']) {
      delete process.env[name];
    }
    await expect(
      createDatabricksVectorStore({ schema: 'a.b' }).count({ collection: 'memories' }),
    ).rejects.toSatisfy((error: unknown) => InvalidArgumentError.isInstance(error));
    await expect(
      createDatabricksVectorStore({ host: model.url, schema: 'a.b' }).count({
        collection: 'memories',
      }),
    ).rejects.toSatisfy((error: unknown) => InvalidArgumentError.isInstance(error));
    Object.assign(process.env, saved);
    const store = newStore();
    await store.close();
    await store.close();
    await expect(store.count({ collection: 'memories' })).rejects.toSatisfy((error: unknown) =>
      ClosedError.isInstance(error),
    );
  });
});
