// Protocol-level tests, NOT against a real Pinecone: a tiny node:http stub plays both the control
// plane and an index's data plane, records the REST requests the official client sends, and
// answers with bodies shaped like the examples of Pinecone's API reference. They check the
// requests this store builds and how it reads answers and errors; the real-server behaviour is
// covered by the conformance suite where Pinecone Local runs.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sampleVectorRecord } from '@engram/adapter-kit/testing';
import {
  AdapterCallError,
  ClosedError,
  DimensionMismatchError,
  InvalidArgumentError,
  NotFoundError,
  UnsupportedFunctionalityError,
  type VectorRecord,
} from '@engram/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isRetryablePineconeError } from './pinecone-errors.js';
import {
  createPineconeVectorStore,
  decodePineconeCursor,
  encodePineconeCursor,
  toPineconeMetadata,
} from './pinecone-vector-store.js';

interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  body: unknown;
}

type Reply = { status?: number; body?: unknown };
type Handler = (request: RecordedRequest) => Reply | undefined;

let server: Server;
let url: string;
let host: string;
let requests: RecordedRequest[] = [];
let handlers: Handler[] = [];

beforeAll(async () => {
  server = createServer((incoming: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const parsed = new URL(incoming.url ?? '/', 'http://stub');
      const text = Buffer.concat(chunks).toString('utf8');
      const request: RecordedRequest = {
        method: incoming.method ?? 'GET',
        path: parsed.pathname,
        query: parsed.searchParams,
        body: text ? JSON.parse(text) : undefined,
      };
      requests.push(request);
      let reply: Reply | undefined;
      for (const handler of handlers) {
        reply = handler(request);
        if (reply) break;
      }
      reply ??= {
        status: 500,
        body: { error: { code: 'UNKNOWN', message: 'stub: no handler' }, status: 500 },
      };
      response.writeHead(reply.status ?? 200, { 'content-type': 'application/json' });
      response.end(reply.body === undefined ? '' : JSON.stringify(reply.body));
    });
  });
  // No idle timeout: a client reusing a socket the server just closed would see ECONNRESET.
  server.keepAliveTimeout = 0;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  url = `http://127.0.0.1:${port}`;
  host = `127.0.0.1:${port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

afterEach(() => {
  requests = [];
  handlers = [];
});

function on(handler: Handler) {
  handlers.push(handler);
}

const indexModel = (name: string, dimension: number, state = 'Ready') => ({
  name,
  dimension,
  metric: 'cosine',
  host,
  deletion_protection: 'disabled',
  tags: null,
  spec: { serverless: { cloud: 'aws', region: 'us-east-1' } },
  status: { ready: state === 'Ready', state },
  vector_type: 'dense',
});

const notFound: Reply = {
  status: 404,
  body: { error: { code: 'NOT_FOUND', message: 'Resource memories not found' }, status: 404 },
};

function existingIndex(dimension = 4): Handler {
  return (request) =>
    request.method === 'GET' && request.path === '/indexes/memories'
      ? { body: indexModel('memories', dimension) }
      : undefined;
}

/** Answers every request to `path` with the body `build` makes from it. */
function answer(path: string, build: (request: RecordedRequest) => unknown): Handler {
  return (request) => (request.path === path ? { body: build(request) } : undefined);
}

/** The data plane's fetch: every id asked for exists. */
const fetchAll = answer('/vectors/fetch', (request) => ({
  vectors: Object.fromEntries(
    request.query.getAll('ids').map((id) => [id, stored(record({ id }))]),
  ),
  namespace: '',
}));

function newStore(extra: Parameters<typeof createPineconeVectorStore>[0] = {}) {
  return createPineconeVectorStore({ url, apiKey: 'stub-key', maxRetries: 0, ...extra });
}

function record(seed: Partial<VectorRecord> = {}): VectorRecord {
  return sampleVectorRecord({
    text: 'likes tea',
    metadata: { topic: 'drinks', rating: 4.5, tags: ['tea'], nested: { a: 1 }, nothing: null },
    ...seed,
  });
}

function stored(source: VectorRecord, score?: number) {
  return {
    id: source.id,
    values: source.vector,
    metadata: toPineconeMetadata(source),
    ...(score === undefined ? {} : { score }),
  };
}

describe('PineconeVectorStore requests (protocol-level stub, not a real server)', () => {
  it('does no I/O when created', async () => {
    const store = newStore();
    expect(store.capabilities).toMatchObject({
      keywordSearch: false,
      metric: 'cosine',
      maxBatchSize: 100,
    });
    expect(store.capabilities.filterOperators).not.toContain('contains');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(requests).toEqual([]);
  });

  it('creates one cosine serverless index per collection and checks the dimension', async () => {
    let created = false;
    on((request) => {
      if (request.method === 'GET' && request.path === '/indexes/engram-memories')
        return created ? { body: indexModel('engram-memories', 4) } : notFound;
      if (request.method === 'POST' && request.path === '/indexes') {
        created = true;
        return { status: 201, body: indexModel('engram-memories', 4, 'Initializing') };
      }
      return undefined;
    });
    const store = newStore();
    await store.ensureCollection({ collection: 'engram_memories', dimensions: 4 });
    const create = requests.find((request) => request.method === 'POST')!;
    expect(create.body).toMatchObject({
      name: 'engram-memories',
      dimension: 4,
      metric: 'cosine',
      spec: { serverless: { cloud: 'aws', region: 'us-east-1' } },
    });
    await expect(
      store.ensureCollection({ collection: 'engram_memories', dimensions: 5 }),
    ).rejects.toSatisfy((error: unknown) => DimensionMismatchError.isInstance(error));
    await expect(
      store.ensureCollection({ collection: 'Bad Name!', dimensions: 4 }),
    ).rejects.toSatisfy((error: unknown) => InvalidArgumentError.isInstance(error));
  });

  it('upserts the record fields, the exact metadata JSON and the flat filter keys', async () => {
    on(existingIndex(4));
    on(answer('/vectors/upsert', () => ({ upsertedCount: 2 })));
    const store = newStore({ namespace: 'tenant-a' });
    await store.upsert({
      collection: 'memories',
      records: [record(), record({ id: 'memory-2', userId: undefined, runId: 'r' })],
    });
    const upsert = requests.find((request) => request.path === '/vectors/upsert')!;
    const body = upsert.body as {
      vectors: { id: string; values: number[]; metadata: Record<string, unknown> }[];
      namespace: string;
    };
    expect(body.namespace).toBe('tenant-a');
    expect(body.vectors[0]).toEqual({
      id: 'memory-1',
      values: [1, 0, 0, 0],
      metadata: {
        text: 'likes tea',
        createdAt: '2024-01-02T03:04:05.000Z',
        updatedAt: '2024-01-02T03:04:05.000Z',
        _metadata: JSON.stringify(record().metadata),
        '_v.topic': 's:drinks',
        '_s.topic.0': expect.any(Number),
        '_s.topic.1': expect.any(Number),
        '_s.topic.2': expect.any(Number),
        '_v.rating': 'n:4.5',
        '_n.rating': 4.5,
        '_v.nested.a': 'n:1',
        '_n.nested.a': 1,
        _p: ['topic', 'rating', 'tags', 'nested', 'nested.a'],
        userId: 'alice',
      },
    });
    expect(body.vectors[1]!.metadata).not.toHaveProperty('userId');
    expect(body.vectors[1]!.metadata.runId).toBe('r');

    requests = [];
    await expect(
      store.upsert({ collection: 'memories', records: [record({ vector: [1, 0] })] }),
    ).rejects.toSatisfy((error: unknown) => DimensionMismatchError.isInstance(error));
    await expect(
      store.upsert({
        collection: 'memories',
        records: [record({ metadata: { big: 'x'.repeat(50_000) } })],
      }),
    ).rejects.toSatisfy((error: unknown) => InvalidArgumentError.isInstance(error));
    expect(requests.some((request) => request.path === '/vectors/upsert')).toBe(false);
  });

  it('queries with the scope and filter in the request and returns the cosine score as is', async () => {
    const memory = record();
    on(existingIndex(4));
    on(answer('/query', () => ({ matches: [stored(memory, 0.9876)], namespace: '' })));
    const store = newStore();
    const matches = await store.query({
      collection: 'memories',
      vector: [1, 0, 0, 0],
      topK: 3,
      scope: { userId: 'alice' },
      filter: { op: 'not', filter: { op: 'eq', field: 'topic', value: 'food' } },
    });
    const query = requests.find((request) => request.path === '/query')!;
    expect(query.body).toEqual({
      vector: [1, 0, 0, 0],
      topK: 3,
      filter: {
        $and: [
          { userId: { $eq: 'alice' } },
          { $or: [{ '_v.topic': { $exists: false } }, { '_v.topic': { $ne: 's:food' } }] },
        ],
      },
      includeMetadata: true,
      includeValues: false,
      // the client names the default namespace explicitly
      namespace: '__default__',
    });
    const { vector: _, ...withoutVector } = memory;
    expect(matches).toEqual([{ score: 0.9876, record: withoutVector }]);

    await expect(store.query({ collection: 'memories', text: 'tea', topK: 3 })).rejects.toSatisfy(
      (error: unknown) => UnsupportedFunctionalityError.isInstance(error),
    );
  });

  it('lists without a filter through list + fetch, with Pinecone’s token in the cursor', async () => {
    on(existingIndex(4));
    on(
      answer('/vectors/list', () => ({
        vectors: [{ id: 'memory-1' }, { id: 'memory-2' }],
        pagination: { next: 'Tm9LZXk=' },
        namespace: '',
      })),
    );
    on(fetchAll);
    const store = newStore();
    const page = await store.list({ collection: 'memories', limit: 2 });
    expect(page.records.map((item) => item.id)).toEqual(['memory-1', 'memory-2']);
    expect(decodePineconeCursor(page.nextCursor)).toEqual({ token: 'Tm9LZXk=' });
    const list = requests.find((request) => request.path === '/vectors/list')!;
    expect(list.method).toBe('GET');
    expect(list.query.get('limit')).toBe('2');
    const fetch = requests.find((request) => request.path === '/vectors/fetch')!;
    expect(fetch.query.getAll('ids')).toEqual(['memory-1', 'memory-2']);

    requests = [];
    await store.list({ collection: 'memories', limit: 2, cursor: page.nextCursor! });
    expect(
      requests.find((request) => request.path === '/vectors/list')!.query.get('paginationToken'),
    ).toBe('Tm9LZXk=');
    await expect(
      store.list({ collection: 'memories', limit: 2, cursor: 'bm9wZQ' }),
    ).rejects.toSatisfy((error: unknown) => InvalidArgumentError.isInstance(error));
  });

  it('lists and counts a filtered set by enumerating it with a filtered query, in id order', async () => {
    on(existingIndex(4));
    const matches = ['c', 'a', 'b'].map((id) => ({ id, score: 0.1, values: [] }));
    on(answer('/query', () => ({ matches, namespace: '' })));
    on(fetchAll);
    const store = newStore();
    const page = await store.list({
      collection: 'memories',
      limit: 2,
      scope: { agentId: 'planner' },
    });
    expect(page.records.map((item) => item.id)).toEqual(['a', 'b']);
    expect(decodePineconeCursor(page.nextCursor)).toEqual({ after: 'b' });
    expect(requests.find((request) => request.path === '/query')!.body).toEqual({
      vector: [1, 0, 0, 0],
      topK: 10_000,
      filter: { agentId: { $eq: 'planner' } },
      includeMetadata: false,
      includeValues: false,
      // the client names the default namespace explicitly
      namespace: '__default__',
    });
    const next = await store.list({
      collection: 'memories',
      limit: 2,
      scope: { agentId: 'planner' },
      cursor: page.nextCursor!,
    });
    expect(next.records.map((item) => item.id)).toEqual(['c']);
    expect(next.nextCursor).toBeUndefined();
    expect(
      await store.count({ collection: 'memories', filter: { op: 'exists', field: 'topic' } }),
    ).toBe(3);
  });

  it('refuses to count a filtered set it cannot enumerate exactly', async () => {
    on(existingIndex(4));
    const matches = Array.from({ length: 10_000 }, (_, index) => ({ id: `id-${index}`, score: 0 }));
    on(answer('/query', () => ({ matches, namespace: '' })));
    const store = newStore();
    await expect(
      store.count({ collection: 'memories', scope: { userId: 'big' } }),
    ).rejects.toSatisfy((error: unknown) => UnsupportedFunctionalityError.isInstance(error));
  });

  it('counts everything from describe_index_stats', async () => {
    on(existingIndex(4));
    on(
      answer('/describe_index_stats', () => ({
        namespaces: { '': { vectorCount: 42 } },
        dimension: 4,
        indexFullness: 0,
        totalVectorCount: 42,
      })),
    );
    expect(await newStore().count({ collection: 'memories' })).toBe(42);
  });

  it('deletes by ids counting only the records that exist', async () => {
    on(existingIndex(4));
    on(answer('/vectors/fetch', () => ({ vectors: { 'memory-1': stored(record()) } })));
    on(answer('/vectors/delete', () => ({})));
    const store = newStore();
    expect(await store.delete({ collection: 'memories', ids: ['memory-1', 'missing'] })).toEqual({
      deleted: 1,
    });
    expect(requests.find((request) => request.path === '/vectors/delete')!.body).toEqual({
      ids: ['memory-1'],
      namespace: '__default__',
    });
    await expect(store.delete({ collection: 'memories', scope: {} })).rejects.toSatisfy(
      (error: unknown) => InvalidArgumentError.isInstance(error),
    );
  });

  it('maps a missing index to NotFoundError and its drop to a no-op', async () => {
    on((request) => (request.path.startsWith('/indexes/') ? notFound : undefined));
    const store = newStore();
    await expect(store.count({ collection: 'memories' })).rejects.toSatisfy((error: unknown) =>
      NotFoundError.isInstance(error),
    );
    await expect(store.dropCollection({ collection: 'memories' })).resolves.toBeUndefined();
    expect(requests.at(-1)).toMatchObject({ method: 'DELETE', path: '/indexes/memories' });
  });

  it('maps HTTP failures: 429 and 5xx are retryable, other 4xx are not', async () => {
    for (const [status, retryable] of [
      [429, true],
      [500, true],
      [503, true],
      [400, false],
      [401, false],
    ] as const) {
      handlers = [
        existingIndex(4),
        (request) =>
          request.path === '/describe_index_stats'
            ? {
                status,
                body: { error: { code: 'STUB', message: `stub status ${status}` }, status },
              }
            : undefined,
      ];
      const error = await newStore()
        .count({ collection: 'memories' })
        .catch((caught: unknown) => caught);
      expect(AdapterCallError.isInstance(error), `${status}: ${String(error)}`).toBe(true);
      expect((error as AdapterCallError).isRetryable, `${status}`).toBe(retryable);
      expect((error as AdapterCallError).source).toBe('pinecone');
      expect((error as AdapterCallError).cause).toBeDefined();
    }
  });

  it('treats lost connections as retryable', async () => {
    const store = createPineconeVectorStore({
      url: 'http://127.0.0.1:9',
      apiKey: 'k',
      maxRetries: 0,
    });
    const error = await store.count({ collection: 'memories' }).catch((caught: unknown) => caught);
    expect(AdapterCallError.isInstance(error), String(error)).toBe(true);
    expect((error as AdapterCallError).isRetryable).toBe(true);
    expect(
      isRetryablePineconeError({ name: 'PineconeUnmappedHttpError', message: 'Status: 502.' }),
    ).toBe(true);
  });

  it('rejects every call after close()', async () => {
    const store = newStore();
    await store.close();
    await store.close();
    await expect(store.count({ collection: 'memories' })).rejects.toSatisfy((error: unknown) =>
      ClosedError.isInstance(error),
    );
    expect(requests).toEqual([]);
  });

  it('cursors are opaque and validated', () => {
    expect(decodePineconeCursor(encodePineconeCursor({ after: 'x' }))).toEqual({ after: 'x' });
    expect(() => decodePineconeCursor('%%%')).toThrow(InvalidArgumentError);
  });
});
