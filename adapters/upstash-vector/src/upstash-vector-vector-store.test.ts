// Request-shape tests against a protocol model of Upstash Vector's REST API on 127.0.0.1 (see
// upstash-vector-server.test-support.ts), driving the official client: NOT a real index.
import { orderedHex } from '@engram/adapter-kit';
import { sampleVectorRecord } from '@engram/adapter-kit/testing';
import {
  AdapterCallError,
  ClosedError,
  DimensionMismatchError,
  InvalidArgumentError,
  UnsupportedFunctionalityError,
  type VectorRecord,
} from '@engram/core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { pathKey } from './upstash-vector-filter.js';
import {
  startUpstashVectorModel,
  type UpstashVectorModel,
} from './upstash-vector-server.test-support.js';
import {
  createUpstashVectorStore,
  decodeUpstashVectorCursor,
  toUpstashVectorMetadata,
} from './upstash-vector-vector-store.js';

let model: UpstashVectorModel;

beforeAll(async () => {
  model = await startUpstashVectorModel(4);
});
afterAll(() => model.close());
beforeEach(() => {
  model.requests.length = 0;
  model.namespaces.clear();
  model.intercept = undefined;
});

const newStore = () =>
  createUpstashVectorStore({ url: model.url, token: 'model-token', maxRetries: 0 });

const record = (seed: Partial<VectorRecord> = {}) =>
  sampleVectorRecord({
    metadata: { topic: 'drinks', rating: 4.5, nested: { a: 1 }, nothing: null },
    ...seed,
  });

const last = (command: string) =>
  model.requests.filter((request) => request.path.startsWith(`/${command}`)).at(-1)!;

describe('UpstashVectorStore requests (protocol model of the REST API, not a real index)', () => {
  it('does no I/O when created, and checks the index dimension on ensureCollection', async () => {
    const store = newStore();
    expect(store.capabilities).toMatchObject({
      keywordSearch: false,
      metric: 'cosine',
      maxBatchSize: 500,
    });
    expect(store.capabilities.filterOperators).not.toContain('contains');
    expect(model.requests).toEqual([]);
    await store.ensureCollection({ collection: 'memories', dimensions: 4 });
    expect(last('info').headers.authorization).toBe('Bearer model-token');
    await expect(
      store.ensureCollection({ collection: 'memories', dimensions: 5 }),
    ).rejects.toSatisfy((error: unknown) => DimensionMismatchError.isInstance(error));
  });

  it('upserts into the collection namespace with the record JSON and hex filter projection', async () => {
    const store = newStore();
    await store.upsert({ collection: 'memories', records: [record()] });
    const upsert = last('upsert');
    expect(upsert.path).toBe('/upsert/memories');
    const { vector: _vector, ...stored } = record();
    expect(upsert.body).toEqual([
      {
        id: 'memory-1',
        vector: [1, 0, 0, 0],
        metadata: {
          r: JSON.stringify(stored),
          userId: orderedHex('alice'),
          t: [
            '',
            orderedHex('topic=s:drinks'),
            orderedHex('rating=n:4.5'),
            orderedHex('nested.a=n:1'),
          ],
          p: ['', ...['topic', 'rating', 'nested', 'nested.a'].map(orderedHex)],
          n: { [pathKey('rating')]: 4.5, [pathKey('nested.a')]: 1 },
          s: { [pathKey('topic')]: orderedHex('drinks') },
        },
      },
    ]);
    expect(toUpstashVectorMetadata(record()).r).toBe(JSON.stringify(stored));
    await expect(
      store.upsert({ collection: 'memories', records: [record({ vector: [1, 0] })] }),
    ).rejects.toSatisfy((error: unknown) => DimensionMismatchError.isInstance(error));
  });

  it('queries with scope and filter in the request and returns cosine similarities', async () => {
    const store = newStore();
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
      filter: { op: 'ne', field: 'topic', value: 'food' },
    });
    expect(matches.map((match) => [match.record.id, Number(match.score.toFixed(6))])).toEqual([
      ['memory-1', 1],
      ['memory-2', 0],
    ]);
    expect(matches[0]!.record).toEqual((({ vector: _, ...rest }) => rest)(record()));
    expect(last('query')).toMatchObject({
      path: '/query/memories',
      body: {
        vector: [1, 0, 0, 0],
        topK: 5,
        includeMetadata: true,
        includeVectors: false,
        filter: `(userId = '${orderedHex('alice')}') AND (t NOT CONTAINS '${orderedHex('topic=s:food')}')`,
      },
    });
    await expect(store.query({ collection: 'memories', text: 'tea', topK: 3 })).rejects.toSatisfy(
      (error: unknown) => UnsupportedFunctionalityError.isInstance(error),
    );
  });

  it('lists with range cursors, and a filtered set through a filtered query in id order', async () => {
    const store = newStore();
    await store.upsert({
      collection: 'memories',
      records: ['c', 'a', 'b'].map((id) => record({ id })),
    });
    const first = await store.list({ collection: 'memories', limit: 2 });
    expect(first.records.map((item) => item.id)).toEqual(['a', 'b']);
    expect(last('range').body).toMatchObject({ cursor: '0', limit: 2, includeMetadata: true });
    const second = await store.list({
      collection: 'memories',
      limit: 2,
      cursor: first.nextCursor!,
    });
    expect(second.records.map((item) => item.id)).toEqual(['c']);
    expect(second.nextCursor).toBeUndefined();
    const scoped = await store.list({
      collection: 'memories',
      limit: 2,
      scope: { userId: 'alice' },
    });
    expect(scoped.records.map((item) => item.id)).toEqual(['a', 'b']);
    expect(decodeUpstashVectorCursor(scoped.nextCursor)).toEqual({ after: 'b' });
    expect(last('query').body).toMatchObject({ topK: 1000, includeMetadata: false });
    expect(await store.count({ collection: 'memories' })).toBe(3);
    expect(
      await store.count({ collection: 'memories', filter: { op: 'exists', field: 'topic' } }),
    ).toBe(3);
    await expect(
      store.list({ collection: 'memories', limit: 2, cursor: 'bm9wZQ' }),
    ).rejects.toSatisfy((error: unknown) => InvalidArgumentError.isInstance(error));
  });

  it('gets and deletes by ids, deletes by filter natively, drops the namespace', async () => {
    const store = newStore();
    await store.upsert({
      collection: 'memories',
      records: [record(), record({ id: 'memory-2', userId: 'bob' }), record({ id: 'memory-3' })],
    });
    expect(
      (await store.get({ collection: 'memories', ids: ['memory-3', 'x', 'memory-1'] })).map(
        (r) => r.id,
      ),
    ).toEqual(['memory-3', 'memory-1']);
    expect(await store.delete({ collection: 'memories', ids: ['memory-1', 'missing'] })).toEqual({
      deleted: 1,
    });
    expect(await store.delete({ collection: 'memories', scope: { userId: 'bob' } })).toEqual({
      deleted: 1,
    });
    expect(last('delete').body).toEqual({ filter: `userId = '${orderedHex('bob')}'` });
    await expect(store.delete({ collection: 'memories', scope: {} })).rejects.toSatisfy(
      (error: unknown) => InvalidArgumentError.isInstance(error),
    );
    await store.dropCollection({ collection: 'memories' });
    expect(last('delete-namespace').path).toBe('/delete-namespace/memories');
    expect(await store.count({ collection: 'memories' })).toBe(0);
    await expect(store.dropCollection({ collection: 'memories' })).resolves.toBeUndefined();
  });

  it('maps failures to AdapterCallError, throttling as retryable', async () => {
    const store = newStore();
    for (const [message, retryable] of [
      ['ERR max requests limit exceeded: rate limit', true],
      ['Invalid filter', false],
    ] as const) {
      model.intercept = () => ({
        status: message.includes('rate') ? 429 : 400,
        body: { error: message, status: 400 },
      });
      const error = await store
        .count({ collection: 'memories' })
        .catch((caught: unknown) => caught);
      expect(AdapterCallError.isInstance(error), String(error)).toBe(true);
      expect((error as AdapterCallError).isRetryable, message).toBe(retryable);
      expect((error as AdapterCallError).cause).toBeDefined();
    }
  });

  it('needs a URL and token, and rejects every call after close()', async () => {
    const saved = { ...process.env };
    delete process.env.UPSTASH_VECTOR_REST_URL;
    delete process.env.UPSTASH_VECTOR_REST_TOKEN;
    const store = createUpstashVectorStore();
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
