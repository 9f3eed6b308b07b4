// Request-shape tests against a protocol model of the S3 Vectors REST API on 127.0.0.1 (see
// s3-vectors-server.test-support.ts), driving the official client: NOT the real service.
import { S3VectorsClient } from '@aws-sdk/client-s3vectors';
import { injectedFailureOutcomes, sampleVectorRecord } from '@engram/adapter-kit/testing';
import {
  ClosedError,
  DimensionMismatchError,
  InvalidArgumentError,
  NotFoundError,
} from '@engram/core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type S3VectorsModel, startS3VectorsModel } from './s3-vectors-server.test-support.js';
import { createS3VectorsStore, toS3VectorsMetadata } from './s3-vectors-vector-store.js';

let model: S3VectorsModel;

beforeAll(async () => {
  model = await startS3VectorsModel();
});
afterAll(() => model.close());
beforeEach(() => {
  model.requests.length = 0;
  model.indexes.clear();
  model.intercept = undefined;
  model.pageSize = 1000;
});

const newStore = () =>
  createS3VectorsStore({
    vectorBucketName: 'memories-bucket',
    client: new S3VectorsClient({
      endpoint: model.url,
      region: 'eu-west-1',
      credentials: { accessKeyId: 'model', secretAccessKey: 'model' },
      maxAttempts: 1,
    }),
  });

const record = sampleVectorRecord;

const last = (operation: string) =>
  model.requests.filter((request) => request.operation === operation).at(-1)!;

describe('S3VectorsStore requests (protocol model of the REST API, not the real service)', () => {
  it('creates a signed cosine float32 index per collection with the record key not filterable', async () => {
    const store = newStore();
    expect(store.capabilities).toMatchObject({
      keywordSearch: false,
      metric: 'cosine',
      maxBatchSize: 500,
    });
    expect(model.requests).toEqual([]);
    await store.ensureCollection({ collection: 'engram_memories', dimensions: 4 });
    await store.ensureCollection({ collection: 'engram_memories', dimensions: 4 });
    const create = last('CreateIndex');
    expect(create.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=model\/\d+\/eu-west-1\/s3vectors\//,
    );
    expect(create.body).toEqual({
      vectorBucketName: 'memories-bucket',
      indexName: 'engram-memories',
      dataType: 'float32',
      dimension: 4,
      distanceMetric: 'cosine',
      metadataConfiguration: { nonFilterableMetadataKeys: ['r'] },
    });
    expect(model.requests.filter((request) => request.operation === 'CreateIndex')).toHaveLength(1);
    await expect(
      store.ensureCollection({ collection: 'engram_memories', dimensions: 5 }),
    ).rejects.toSatisfy((error: unknown) => DimensionMismatchError.isInstance(error));
  });

  it('puts vectors with the record JSON and flat filter keys, and queries with the filter', async () => {
    const store = newStore();
    await store.ensureCollection({ collection: 'memories', dimensions: 4 });
    await store.upsert({
      collection: 'memories',
      records: [record(), record({ id: 'memory-2', vector: [0, 1, 0, 0] })],
    });
    const { vector: _vector, ...stored } = record();
    expect((last('PutVectors').body.vectors as unknown[])[0]).toEqual({
      key: 'memory-1',
      data: { float32: [1, 0, 0, 0] },
      metadata: {
        r: JSON.stringify(stored),
        userId: 'alice',
        'v/topic': 's:drinks',
        's0/topic': expect.any(Number),
        's1/topic': expect.any(Number),
        's2/topic': expect.any(Number),
        'v/rating': 'n:4.5',
        'n/rating': 4.5,
      },
    });
    const matches = await store.query({
      collection: 'memories',
      vector: [1, 0, 0, 0],
      topK: 5,
      scope: { userId: 'alice' },
      filter: { op: 'gt', field: 'rating', value: 4 },
    });
    expect(matches.map((match) => [match.record.id, Number(match.score.toFixed(6))])).toEqual([
      ['memory-1', 1],
      ['memory-2', 0],
    ]);
    expect(matches[0]!.record).toEqual(stored);
    expect(last('QueryVectors').body).toMatchObject({
      topK: 5,
      queryVector: { float32: [1, 0, 0, 0] },
      filter: { $and: [{ userId: { $eq: 'alice' } }, { 'n/rating': { $gt: 4 } }] },
      returnMetadata: true,
      returnDistance: true,
    });
    expect(toS3VectorsMetadata(record()).r).toBe(JSON.stringify(stored));
  });

  it('refuses records whose filterable metadata exceeds 2 KB before sending them', async () => {
    const store = newStore();
    await store.ensureCollection({ collection: 'memories', dimensions: 4 });
    const metadata = Object.fromEntries(
      Array.from({ length: 80 }, (_, index) => [`field${index}`, 'value']),
    );
    await expect(
      store.upsert({ collection: 'memories', records: [record({ metadata })] }),
    ).rejects.toSatisfy((error: unknown) => InvalidArgumentError.isInstance(error));
    expect(model.requests.some((request) => request.operation === 'PutVectors')).toBe(false);
  });

  it('follows nextToken through lists, counts and filtered enumerations', async () => {
    const store = newStore();
    model.pageSize = 2;
    await store.ensureCollection({ collection: 'memories', dimensions: 4 });
    await store.upsert({
      collection: 'memories',
      records: ['e', 'c', 'a', 'd', 'b'].map((id) => record({ id })),
    });
    expect(await store.count({ collection: 'memories' })).toBe(5);
    expect(await store.count({ collection: 'memories', scope: { userId: 'alice' } })).toBe(5);
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
    expect(await store.delete({ collection: 'memories', ids: ['a', 'missing'] })).toEqual({
      deleted: 1,
    });
    expect(last('DeleteVectors').body.keys).toEqual(['a']);
    expect(
      await store.delete({ collection: 'memories', filter: { op: 'exists', field: 'topic' } }),
    ).toEqual({ deleted: 4 });
  });

  it('maps errors: a missing index is NotFoundError, throttling and 5xx are retryable', async () => {
    const store = newStore();
    await expect(store.count({ collection: 'memories' })).rejects.toSatisfy((error: unknown) =>
      NotFoundError.isInstance(error),
    );
    await expect(store.dropCollection({ collection: 'memories' })).resolves.toBeUndefined();
    await store.ensureCollection({ collection: 'memories', dimensions: 4 });
    const cases = [
      [429, 'TooManyRequestsException', true],
      [503, 'ServiceUnavailableException', true],
      [400, 'ValidationException', false],
      [403, 'AccessDeniedException', false],
    ] as const;
    const outcomes = await injectedFailureOutcomes(cases, {
      label: ([, type]) => type,
      inject: ([status, type]) => {
        model.intercept = (request) =>
          request.operation === 'ListVectors' ? { status, type } : undefined;
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

  it('needs a vector bucket, and rejects every call after close()', async () => {
    const saved = process.env.S3_VECTORS_BUCKET_NAME;
    delete process.env.S3_VECTORS_BUCKET_NAME;
    const store = createS3VectorsStore({ region: 'us-east-1' });
    await expect(store.count({ collection: 'memories' })).rejects.toSatisfy((error: unknown) =>
      InvalidArgumentError.isInstance(error),
    );
    if (saved !== undefined) process.env.S3_VECTORS_BUCKET_NAME = saved;
    await store.close();
    await store.close();
    await expect(store.count({ collection: 'memories' })).rejects.toSatisfy((error: unknown) =>
      ClosedError.isInstance(error),
    );
  });
});
