// Protocol-level tests, NOT against a real Qdrant server: a tiny node:http stub records the REST
// requests the official client sends and answers with bodies shaped like the examples of
// Qdrant's API reference. They check the requests this store builds and how it reads answers
// and errors; the real-server behaviour is covered by the conformance suite where Qdrant runs.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  AdapterCallError,
  ClosedError,
  DimensionMismatchError,
  decodeCursor,
  encodeCursor,
  InvalidArgumentError,
  NotFoundError,
  UnsupportedFunctionalityError,
  type VectorRecord,
} from '@engram/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isRetryableQdrantError, toQdrantError } from './qdrant-errors.js';
import { qdrantPointId } from './qdrant-payload.js';
import { createQdrantVectorStore, qdrantSelection } from './qdrant-vector-store.js';

interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
}

type Reply = { status?: number; body: unknown };
type Handler = (request: RecordedRequest) => Reply | undefined;

const ok = (result: unknown): Reply => ({ body: { result, status: 'ok', time: 0.000_42 } });
const notFound = (collection: string): Reply => ({
  status: 404,
  body: {
    status: { error: `Not found: Collection \`${collection}\` doesn't exist!` },
    time: 0.000_1,
  },
});
const collectionInfo = (size: number) =>
  ok({
    status: 'green',
    optimizer_status: 'ok',
    indexed_vectors_count: 0,
    points_count: 0,
    segments_count: 2,
    config: {
      params: {
        vectors: { size, distance: 'Cosine' },
        shard_number: 1,
        replication_factor: 1,
        write_consistency_factor: 1,
        on_disk_payload: true,
      },
      hnsw_config: { m: 16, ef_construct: 100, full_scan_threshold: 10_000 },
      optimizer_config: { deleted_threshold: 0.2, vacuum_min_vector_number: 1000 },
      wal_config: { wal_capacity_mb: 32, wal_segments_ahead: 0 },
      quantization_config: null,
    },
    payload_schema: {},
  });

let server: Server;
let url: string;
let requests: RecordedRequest[] = [];
let handlers: Handler[] = [];

function on(handler: Handler) {
  handlers.push(handler);
}

/** The reply of the first handler that knows the request; later handlers are not asked. */
function firstReply(request: RecordedRequest): Reply | undefined {
  for (const handler of handlers) {
    const reply = handler(request);
    if (reply) return reply;
  }
  return undefined;
}

/** Reads one request, records it and answers with the first handler that knows it. */
async function answer(incoming: IncomingMessage, response: ServerResponse) {
  let text = '';
  for await (const part of incoming) text += part;
  const { pathname, searchParams } = new URL(incoming.url ?? '/', 'http://stub');
  const request: RecordedRequest = {
    method: incoming.method ?? 'GET',
    path: pathname,
    query: Object.fromEntries(searchParams),
    body: text ? JSON.parse(text) : undefined,
  };
  requests.push(request);
  const reply = firstReply(request) ?? {
    status: 500,
    body: { status: { error: 'stub: no handler' }, time: 0 },
  };
  response.writeHead(reply.status ?? 200, { 'content-type': 'application/json' });
  response.end(JSON.stringify(reply.body));
}

beforeAll(async () => {
  server = createServer((incoming, response) => void answer(incoming, response));
  // No idle timeout: a client reusing a socket the server just closed would see ECONNRESET.
  server.keepAliveTimeout = 0;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

afterEach(() => {
  requests = [];
  handlers = [];
});

function record(seed: Partial<VectorRecord> = {}): VectorRecord {
  return {
    id: '0b6f2c9e-7d4a-4f51-9a0e-3c2b1d4e5f60',
    vector: [1, 0, 0, 0],
    text: 'likes tea',
    userId: 'alice',
    metadata: { topic: 'drinks', rating: 4.5, tags: ['tea'], nested: { a: 1 } },
    createdAt: '2024-01-02T03:04:05.000Z',
    updatedAt: '2024-01-02T03:04:05.000Z',
    ...seed,
  };
}

function storedPoint(source: VectorRecord, score?: number) {
  const { vector: _, ...fields } = source;
  return {
    id: qdrantPointId(source.id),
    version: 3,
    ...(score === undefined ? {} : { score }),
    payload: { ...fields },
  };
}

describe('QdrantVectorStore requests (protocol-level stub, not a real server)', () => {
  it('does no I/O when created', async () => {
    const store = createQdrantVectorStore({ url });
    expect(store.provider).toBe('qdrant');
    expect(store.capabilities.keywordSearch).toBe(false);
    expect(store.capabilities.filterOperators).not.toContain('contains');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(requests).toEqual([]);
  });

  it('creates a cosine collection with keyword payload indexes', async () => {
    let created = false;
    on((request) => {
      if (request.method === 'GET' && request.path === '/collections/memories')
        return created ? collectionInfo(4) : notFound('memories');
      if (request.method === 'PUT' && request.path === '/collections/memories') {
        created = true;
        return ok(true);
      }
      if (request.method === 'PUT' && request.path === '/collections/memories/index')
        return ok({ operation_id: 1, status: 'completed' });
      return undefined;
    });
    const store = createQdrantVectorStore({ url });
    await store.ensureCollection({ collection: 'memories', dimensions: 4 });
    expect(requests.map((request) => `${request.method} ${request.path}`)).toEqual([
      'GET /collections/memories',
      'PUT /collections/memories',
      'PUT /collections/memories/index',
      'PUT /collections/memories/index',
      'PUT /collections/memories/index',
      'PUT /collections/memories/index',
    ]);
    expect(requests[1]!.body).toMatchObject({ vectors: { size: 4, distance: 'Cosine' } });
    expect(requests.slice(2).map((request) => request.body)).toEqual([
      { field_name: 'userId', field_schema: 'keyword' },
      { field_name: 'agentId', field_schema: 'keyword' },
      { field_name: 'runId', field_schema: 'keyword' },
      { field_name: '_filter.paths', field_schema: 'keyword' },
    ]);
    expect(requests[2]!.query.wait).toBe('true');

    requests = [];
    await store.ensureCollection({ collection: 'memories', dimensions: 4 });
    expect(requests.map((request) => request.method)).toEqual(['GET']);
    await expect(
      store.ensureCollection({ collection: 'memories', dimensions: 5 }),
    ).rejects.toSatisfy((error: unknown) => DimensionMismatchError.isInstance(error));
  });

  it('upserts points with a UUID id, the record payload and the filter projection', async () => {
    on((request) => {
      if (request.method === 'GET') return collectionInfo(4);
      if (request.method === 'PUT' && request.path === '/collections/memories/points')
        return ok({ operation_id: 7, status: 'completed' });
      return undefined;
    });
    const store = createQdrantVectorStore({ url });
    const uuidRecord = record();
    const otherRecord = record({ id: 'memory-42', userId: undefined, runId: 'run-1' });
    await store.upsert({ collection: 'memories', records: [uuidRecord, otherRecord] });
    const upsert = requests.find((request) => request.method === 'PUT')!;
    expect(upsert.query.wait).toBe('true');
    const points = (
      upsert.body as {
        points: { id: string; vector: number[]; payload: Record<string, unknown> }[];
      }
    ).points;
    expect(points[0]!.id).toBe(uuidRecord.id);
    expect(points[1]!.id).toBe(qdrantPointId('memory-42'));
    expect(points[1]!.id).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(points[0]!.vector).toEqual([1, 0, 0, 0]);
    expect(points[0]!.payload).toEqual({
      id: uuidRecord.id,
      text: 'likes tea',
      userId: 'alice',
      metadata: uuidRecord.metadata,
      createdAt: uuidRecord.createdAt,
      updatedAt: uuidRecord.updatedAt,
      _filter: {
        values: { topic: 'drinks', rating: 4.5, nested: { a: 1 } },
        arrays: { tags: ['tea'] },
        strings: {
          topic: { c0: expect.any(Number), c1: expect.any(Number), c2: expect.any(Number) },
        },
        paths: ['topic', 'rating', 'tags', 'nested', 'nested.a'],
      },
    });
    expect(points[1]!.payload).not.toHaveProperty('userId');
    expect(points[1]!.payload.runId).toBe('run-1');

    requests = [];
    await expect(
      store.upsert({ collection: 'memories', records: [record({ vector: [1, 0, 0] })] }),
    ).rejects.toSatisfy((error: unknown) => DimensionMismatchError.isInstance(error));
    expect(requests).toEqual([]);
  });

  it('queries with scope and filter inside the request and passes the cosine score through', async () => {
    const stored = record();
    on((request) => {
      if (request.method === 'GET') return collectionInfo(4);
      if (request.path === '/collections/memories/points/query')
        return ok({ points: [storedPoint(stored, 0.987_654)] });
      return undefined;
    });
    const store = createQdrantVectorStore({ url });
    const matches = await store.query({
      collection: 'memories',
      vector: [1, 0, 0, 0],
      topK: 3,
      scope: { userId: 'alice', runId: 'r1' },
      filter: { op: 'eq', field: 'topic', value: 'drinks' },
    });
    const query = requests.find((request) => request.path.endsWith('/points/query'))!;
    expect(query.method).toBe('POST');
    expect(query.body).toEqual({
      query: [1, 0, 0, 0],
      filter: {
        must: [
          { key: 'userId', match: { value: 'alice' } },
          { key: 'runId', match: { value: 'r1' } },
          { key: '_filter.values.topic', match: { value: 'drinks' } },
        ],
      },
      limit: 3,
      with_payload: { exclude: ['_filter'] },
      with_vector: false,
    });
    const { vector: _, ...withoutVector } = stored;
    expect(matches).toEqual([{ score: 0.987_654, record: withoutVector }]);

    requests = [];
    expect(
      await store.query({
        collection: 'memories',
        vector: [1, 0, 0, 0],
        topK: 3,
        filter: { op: 'in', field: 'topic', values: [] },
      }),
    ).toEqual([]);
    expect(requests.some((request) => request.path.endsWith('/points/query'))).toBe(false);

    await expect(store.query({ collection: 'memories', text: 'tea', topK: 3 })).rejects.toSatisfy(
      (error: unknown) => UnsupportedFunctionalityError.isInstance(error),
    );
    await expect(
      store.query({
        collection: 'memories',
        vector: [1, 0, 0, 0],
        topK: 3,
        filter: { op: 'contains', field: 'tags', value: 'tea' },
      }),
    ).rejects.toSatisfy((error: unknown) => UnsupportedFunctionalityError.isInstance(error));
  });

  it('exactSearch asks Qdrant for an exact search', async () => {
    on((request) => {
      if (request.method === 'GET') return collectionInfo(2);
      if (request.path.endsWith('/points/query')) return ok({ points: [] });
      return undefined;
    });
    const store = createQdrantVectorStore({ url, exactSearch: true });
    await store.query({ collection: 'memories', vector: [0, 1], topK: 1 });
    expect(requests.at(-1)!.body).toMatchObject({ params: { exact: true } });
  });

  it('lists with scroll: the cursor wraps next_page_offset', async () => {
    const first = record();
    const next = '9f0e7d6c-5b4a-4392-8170-6f5e4d3c2b1a';
    on((request) => {
      if (request.path.endsWith('/points/scroll'))
        return ok({ points: [storedPoint(first)], next_page_offset: next });
      return undefined;
    });
    const store = createQdrantVectorStore({ url });
    const page = await store.list({ collection: 'memories', limit: 1, scope: { agentId: 'a' } });
    expect(requests[0]!.body).toEqual({
      filter: { must: [{ key: 'agentId', match: { value: 'a' } }] },
      limit: 1,
      with_payload: { exclude: ['_filter'] },
      with_vector: false,
    });
    expect(page.records.map((item) => item.id)).toEqual([first.id]);
    expect(decodeCursor(page.nextCursor)).toBe(next);

    requests = [];
    await store.list({ collection: 'memories', limit: 1, cursor: page.nextCursor! });
    expect(requests[0]!.body).toMatchObject({ offset: next });

    requests = [];
    for (const cursor of ['%%%', encodeCursor('not-a-point-id')]) {
      await expect(store.list({ collection: 'memories', limit: 1, cursor })).rejects.toSatisfy(
        (error: unknown) => InvalidArgumentError.isInstance(error),
      );
    }
    expect(requests).toEqual([]);
  });

  it('counts exactly', async () => {
    on((request) => (request.path.endsWith('/points/count') ? ok({ count: 17 }) : undefined));
    const store = createQdrantVectorStore({ url });
    expect(
      await store.count({ collection: 'memories', filter: { op: 'exists', field: 'topic' } }),
    ).toBe(17);
    expect(requests[0]!.body).toEqual({
      filter: { must: [{ key: '_filter.paths', match: { value: 'topic' } }] },
      exact: true,
    });
  });

  it('deletes by ids counting only the points that exist', async () => {
    const existing = record();
    on((request) => {
      if (request.path === '/collections/memories/points' && request.method === 'POST')
        return ok([{ id: existing.id, payload: { id: existing.id } }]);
      if (request.path === '/collections/memories/points/delete')
        return ok({ operation_id: 9, status: 'completed' });
      return undefined;
    });
    const store = createQdrantVectorStore({ url });
    const missing = '11111111-2222-4333-8444-555555555555';
    expect(await store.delete({ collection: 'memories', ids: [existing.id, missing] })).toEqual({
      deleted: 1,
    });
    expect(requests[0]!.body).toEqual({
      ids: [existing.id, missing],
      with_payload: ['id'],
      with_vector: false,
    });
    expect(requests[1]!.body).toEqual({ points: [existing.id] });
    expect(requests[1]!.query.wait).toBe('true');
  });

  it('deletes by scope and filter page by page until nothing matches', async () => {
    const pages = [
      [
        { id: 'a0000000-0000-4000-8000-000000000001' },
        { id: 'a0000000-0000-4000-8000-000000000002' },
      ],
      [{ id: 'a0000000-0000-4000-8000-000000000003' }],
      [],
    ];
    on((request) => {
      if (request.method === 'GET') return collectionInfo(4);
      if (request.path.endsWith('/points/scroll'))
        return ok({ points: pages.shift(), next_page_offset: null });
      if (request.path.endsWith('/points/delete'))
        return ok({ operation_id: 1, status: 'completed' });
      return undefined;
    });
    const store = createQdrantVectorStore({ url });
    const result = await store.delete({
      collection: 'memories',
      scope: { userId: 'alice' },
      filter: { op: 'lt', field: 'rating', value: 3 },
    });
    expect(result).toEqual({ deleted: 3 });
    const scroll = requests.find((request) => request.path.endsWith('/points/scroll'))!;
    expect(scroll.body).toEqual({
      filter: {
        must: [
          { key: 'userId', match: { value: 'alice' } },
          { key: '_filter.values.rating', range: { lt: 3 } },
        ],
      },
      limit: 1000,
      with_payload: false,
      with_vector: false,
    });
    await expect(store.delete({ collection: 'memories', scope: {} })).rejects.toSatisfy(
      (error: unknown) => InvalidArgumentError.isInstance(error),
    );
  });

  it('maps a missing collection to NotFoundError and a drop of it to a no-op', async () => {
    on((request) => notFound(request.path.split('/')[2]!));
    const store = createQdrantVectorStore({ url });
    await expect(store.count({ collection: 'nowhere' })).rejects.toSatisfy((error: unknown) =>
      NotFoundError.isInstance(error),
    );
    await expect(store.dropCollection({ collection: 'nowhere' })).resolves.toBeUndefined();
  });

  it('maps HTTP failures: 429 and 5xx are retryable, other 4xx are not', async () => {
    const store = createQdrantVectorStore({ url });
    for (const [status, retryable] of [
      [429, true],
      [500, true],
      [503, true],
      [400, false],
      [403, false],
    ] as const) {
      handlers = [
        () => ({ status, body: { status: { error: `stub status ${status}` }, time: 0 } }),
      ];
      const error = await store
        .count({ collection: 'memories' })
        .catch((caught: unknown) => caught);
      expect(AdapterCallError.isInstance(error), `${status}: ${String(error)}`).toBe(true);
      expect((error as AdapterCallError).isRetryable, `${status}`).toBe(retryable);
      expect((error as AdapterCallError).source).toBe('qdrant');
      expect((error as AdapterCallError).cause).toBeDefined();
    }
  });

  it('maps Qdrant’s vector length error to DimensionMismatchError', () => {
    const apiError = Object.assign(new Error('Bad Request'), {
      status: 400,
      data: {
        status: { error: 'Wrong input: Vector dimension error: expected dim: 8, got 9' },
        time: 0,
      },
    });
    const error = toQdrantError(apiError, 'upsert', 'memories');
    expect(DimensionMismatchError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ expected: 8, actual: 9 });
  });

  it('treats lost connections as retryable', async () => {
    const store = createQdrantVectorStore({ url: 'http://127.0.0.1:9', timeoutMs: 2000 });
    const error = await store.count({ collection: 'memories' }).catch((caught: unknown) => caught);
    expect(AdapterCallError.isInstance(error), String(error)).toBe(true);
    expect((error as AdapterCallError).isRetryable).toBe(true);
    expect(isRetryableQdrantError(new TypeError('fetch failed'))).toBe(true);
  });

  it('rejects every call after close()', async () => {
    const store = createQdrantVectorStore({ url });
    await store.close();
    await store.close();
    await expect(store.count({ collection: 'memories' })).rejects.toSatisfy((error: unknown) =>
      ClosedError.isInstance(error),
    );
    expect(requests).toEqual([]);
  });

  it('builds one filter from scope and portable filter', () => {
    expect(qdrantSelection(undefined, undefined)).toBeUndefined();
    expect(qdrantSelection({ userId: 'u' }, { op: 'nin', field: 'x', values: [] })).toEqual({
      must: [{ key: 'userId', match: { value: 'u' } }],
    });
    expect(qdrantSelection({}, { op: 'in', field: 'x', values: [] })).toBe(false);
    expect(() => qdrantSelection({ userId: '' }, undefined)).toThrow(InvalidArgumentError);
  });
});
