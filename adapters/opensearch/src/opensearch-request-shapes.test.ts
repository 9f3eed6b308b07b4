// NOT a real server: a local HTTP stub that records what the store sends and answers with canned
// responses, so the exact requests (paths, query strings, bodies) are checked where no OpenSearch
// with the k-NN plugin can run. The real-server suite is test/opensearch.conformance.test.ts.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  AbortedError,
  AdapterCallError,
  DimensionMismatchError,
  InvalidArgumentError,
  NotFoundError,
  type VectorStore,
} from '@engram/core';
import { encodeTerm } from '@engram/elasticsearch-compatible';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createOpenSearchVectorStore } from './opensearch-vector-store.js';

interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
}

interface Reply {
  status?: number;
  body?: unknown;
  delayMs?: number;
}

type Route = (request: RecordedRequest) => Reply | undefined;

const excludes = ['metadata_terms', 'metadata_elements', 'metadata_paths', 'vector'];
let server: Server;
let url: string;
let requests: RecordedRequest[] = [];
let routes: Route[] = [];

function parseBody(request: IncomingMessage, text: string): unknown {
  if (text === '') return undefined;
  if (String(request.headers['content-type']).includes('ndjson')) {
    return text
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
  }
  return JSON.parse(text);
}

beforeAll(async () => {
  server = createServer((request, response) => {
    let text = '';
    request.on('data', (chunk) => {
      text += chunk;
    });
    request.on('end', () => {
      const parsed = new URL(request.url ?? '/', 'http://stub');
      const recorded: RecordedRequest = {
        method: request.method ?? 'GET',
        path: parsed.pathname,
        query: Object.fromEntries(parsed.searchParams),
        body: parseBody(request, text),
      };
      requests.push(recorded);
      const reply = routes.map((route) => route(recorded)).find(Boolean) ?? {
        status: 500,
        body: {
          error: { type: 'stub', reason: `no route for ${recorded.method} ${recorded.path}` },
        },
      };
      setTimeout(() => {
        if (response.destroyed) return;
        response.writeHead(reply.status ?? 200, { 'content-type': 'application/json' });
        response.end(reply.body === undefined ? '' : JSON.stringify(reply.body));
      }, reply.delayMs ?? 0);
    });
  });
  // No idle timeout: a client reusing a socket the server just closed would see ECONNRESET.
  server.keepAliveTimeout = 0;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  requests = [];
  routes = [];
});

function route(method: string, path: string, reply: Reply | ((request: RecordedRequest) => Reply)) {
  routes.push((request) =>
    request.method === method && request.path === path
      ? typeof reply === 'function'
        ? reply(request)
        : reply
      : undefined,
  );
}

const mapping = (dimension: number) => ({
  memories: { mappings: { properties: { vector: { type: 'knn_vector', dimension } } } },
});

function store(options: Parameters<typeof createOpenSearchVectorStore>[0] = {}): VectorStore {
  return createOpenSearchVectorStore({ url, clientOptions: { maxRetries: 0 }, ...options });
}

function hit(id: string, score: number) {
  return {
    _index: 'memories',
    _id: id,
    _score: score,
    _source: {
      id,
      text: `text of ${id}`,
      user_id: 'alice',
      metadata: { n: 1 },
      created_at: '2024-01-01T00:00:00.000Z',
      updated_at: '2024-01-01T00:00:00.000Z',
    },
  };
}

/** Runs `action` and returns what it threw; fails when it did not throw. */
function caught(action: () => Promise<unknown>): Promise<unknown> {
  return action().then(
    () => {
      throw new Error('expected the call to throw');
    },
    (error: unknown) => error,
  );
}

describe('OpenSearch requests (against a local stub, not a real server)', () => {
  it('creates a missing collection with the k-NN mapping', async () => {
    route('HEAD', '/memories', { status: 404 });
    route('PUT', '/memories', { body: { acknowledged: true } });
    await store({ indexSettings: { number_of_replicas: 0 } }).ensureCollection({
      collection: 'memories',
      dimensions: 3,
    });
    expect(requests.map((request) => `${request.method} ${request.path}`)).toEqual([
      'HEAD /memories',
      'PUT /memories',
    ]);
    const body = requests[1]!.body as {
      settings: Record<string, unknown>;
      mappings: { properties: Record<string, unknown> };
    };
    expect(body.settings).toEqual({ number_of_replicas: 0, 'index.knn': true });
    expect(body.mappings.properties.vector).toEqual({
      type: 'knn_vector',
      dimension: 3,
      method: {
        name: 'hnsw',
        space_type: 'cosinesimil',
        engine: 'lucene',
        parameters: { m: 16, ef_construction: 100 },
      },
    });
  });

  it('checks the dimensions of an existing collection', async () => {
    route('HEAD', '/memories', { status: 200 });
    route('GET', '/memories/_mapping', { body: mapping(3) });
    const vectorStore = store();
    await vectorStore.ensureCollection({ collection: 'memories', dimensions: 3 });
    const error = await caught(() =>
      vectorStore.ensureCollection({ collection: 'memories', dimensions: 4 }),
    );
    expect(DimensionMismatchError.isInstance(error)).toBe(true);
    expect(requests.filter((request) => request.method === 'PUT')).toEqual([]);
  });

  it('upserts in one bulk request with wait_for and the derived filter fields', async () => {
    route('GET', '/memories/_mapping', { body: mapping(2) });
    route('POST', '/_bulk', { body: { errors: false, items: [] } });
    const record = {
      id: 'a',
      vector: [1, 0],
      text: 'hello',
      userId: 'alice',
      metadata: { tags: ['x'], n: 1 },
      createdAt: '2024-01-01T00:00:00.000Z',
      updatedAt: '2024-01-02T00:00:00.000Z',
    };
    await store().upsert({ collection: 'memories', records: [record] });
    const bulk = requests.find((request) => request.path === '/_bulk')!;
    expect(bulk.query).toEqual({ refresh: 'wait_for' });
    const { userId, createdAt, updatedAt, ...unchanged } = record;
    expect(bulk.body).toEqual([
      { index: { _index: 'memories', _id: 'a' } },
      {
        ...unchanged,
        user_id: userId,
        created_at: createdAt,
        updated_at: updatedAt,
        metadata_terms: [encodeTerm('n', 1)],
        metadata_elements: ['tags\u0000s:x'],
        metadata_paths: ['tags', 'n'],
      },
    ]);
  });

  it('refuses a vector of another length before sending it', async () => {
    route('GET', '/memories/_mapping', { body: mapping(2) });
    const error = await caught(() =>
      store().upsert({
        collection: 'memories',
        records: [
          {
            id: 'a',
            vector: [1, 0, 0],
            text: '',
            metadata: {},
            createdAt: '',
            updatedAt: '',
          },
        ],
      }),
    );
    expect(DimensionMismatchError.isInstance(error)).toBe(true);
    expect(requests.some((request) => request.path === '/_bulk')).toBe(false);
  });

  it('puts scope and filter inside the knn query and converts scores to cosine', async () => {
    route('GET', '/memories/_mapping', { body: mapping(2) });
    route('POST', '/memories/_search', {
      body: { hits: { hits: [hit('a', 0.9), hit('b', 0.5)] } },
    });
    const matches = await store({ efSearch: 50 }).query({
      collection: 'memories',
      vector: [1, 0],
      topK: 2,
      scope: { userId: 'alice' },
      filter: { op: 'eq', field: 'n', value: 1 },
    });
    expect(matches.map((match) => match.record.id)).toEqual(['a', 'b']);
    expect(matches[0]!.score).toBeCloseTo(0.8, 12);
    expect(matches[1]!.score).toBeCloseTo(0, 12);
    expect(matches[0]!.record).toEqual({
      id: 'a',
      text: 'text of a',
      userId: 'alice',
      metadata: { n: 1 },
      createdAt: '2024-01-01T00:00:00.000Z',
      updatedAt: '2024-01-01T00:00:00.000Z',
    });
    const search = requests.find((request) => request.path === '/memories/_search')!;
    expect(search.body).toEqual({
      size: 2,
      query: {
        knn: {
          vector: {
            vector: [1, 0],
            k: 100,
            filter: {
              bool: {
                filter: [
                  { term: { user_id: 'alice' } },
                  { term: { metadata_terms: encodeTerm('n', 1) } },
                ],
              },
            },
            method_parameters: { ef_search: 50 },
          },
        },
      },
      _source: { excludes },
    });
  });

  it('sends no filter for an unscoped, unfiltered vector query, and vectors only when asked', async () => {
    route('GET', '/memories/_mapping', { body: mapping(2) });
    route('POST', '/memories/_search', { body: { hits: { hits: [] } } });
    await store().query({ collection: 'memories', vector: [0, 1], topK: 5, includeVectors: true });
    const search = requests.find((request) => request.path === '/memories/_search')!;
    expect(search.body).toEqual({
      size: 5,
      query: { knn: { vector: { vector: [0, 1], k: 100 } } },
      _source: { excludes: excludes.filter((field) => field !== 'vector') },
    });
  });

  it('runs keyword search as a BM25 match inside the scope', async () => {
    route('POST', '/memories/_search', { body: { hits: { hits: [hit('a', 3.2), hit('b', 0)] } } });
    const matches = await store().query({
      collection: 'memories',
      text: 'rare words',
      topK: 3,
      scope: { agentId: 'travel' },
    });
    expect(matches.map((match) => [match.record.id, match.score])).toEqual([['a', 3.2]]);
    expect(requests[0]!.body).toEqual({
      size: 3,
      query: {
        bool: {
          must: [{ match: { text: { query: 'rare words' } } }],
          filter: [{ bool: { filter: [{ term: { agent_id: 'travel' } }] } }],
        },
      },
      _source: { excludes },
    });
  });

  it('gets records with mget and leaves missing ones out', async () => {
    route('POST', '/memories/_mget', {
      body: {
        docs: [
          { ...hit('a', 1), found: true },
          { _index: 'memories', _id: 'z', found: false },
        ],
      },
    });
    const records = await store().get({ collection: 'memories', ids: ['a', 'z'] });
    expect(records.map((record) => record.id)).toEqual(['a']);
    expect(requests[0]!.body).toEqual({ ids: ['a', 'z'] });
    expect(requests[0]!.query._source_excludes).toBe(excludes.join(','));
  });

  it('pages with search_after on the id and an opaque cursor', async () => {
    route('POST', '/memories/_search', (request) => {
      const body = request.body as { search_after?: string[] };
      return body.search_after
        ? { body: { hits: { hits: [hit('c', 1)] } } }
        : { body: { hits: { hits: [hit('a', 1), hit('b', 1), hit('c', 1)] } } };
    });
    const vectorStore = store();
    const first = await vectorStore.list({
      collection: 'memories',
      limit: 2,
      scope: { runId: 'r' },
    });
    expect(first.records.map((record) => record.id)).toEqual(['a', 'b']);
    expect(first.nextCursor).toBeDefined();
    const second = await vectorStore.list({
      collection: 'memories',
      limit: 2,
      cursor: first.nextCursor!,
    });
    expect(second.records.map((record) => record.id)).toEqual(['c']);
    expect(second.nextCursor).toBeUndefined();
    expect(requests[0]!.body).toEqual({
      query: { bool: { filter: [{ term: { run_id: 'r' } }] } },
      sort: [{ id: 'asc' }],
      size: 3,
      track_total_hits: false,
      _source: { excludes },
    });
    expect((requests[1]!.body as { search_after: string[] }).search_after).toEqual(['b']);
    const error = await caught(() =>
      vectorStore.list({ collection: 'memories', limit: 2, cursor: 'not a cursor' }),
    );
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
  });

  it('counts with the selection query', async () => {
    route('POST', '/memories/_count', { body: { count: 7 } });
    expect(
      await store().count({ collection: 'memories', filter: { op: 'exists', field: 'x' } }),
    ).toBe(7);
    expect(requests[0]!.body).toEqual({
      query: { bool: { filter: [{ term: { metadata_paths: 'x' } }] } },
    });
  });

  it('deletes by scope with _delete_by_query and by ids with a bulk request', async () => {
    route('POST', '/memories/_delete_by_query', { body: { deleted: 2, failures: [] } });
    route('POST', '/_bulk', {
      body: {
        errors: false,
        items: [
          { delete: { _id: 'a', status: 200, result: 'deleted' } },
          { delete: { _id: 'z', status: 404, result: 'not_found' } },
        ],
      },
    });
    const vectorStore = store();
    expect(await vectorStore.delete({ collection: 'memories', scope: { userId: 'bob' } })).toEqual({
      deleted: 2,
    });
    expect(requests[0]!.query).toEqual({ refresh: 'true' });
    expect(requests[0]!.body).toEqual({
      query: { bool: { filter: [{ term: { user_id: 'bob' } }] } },
    });
    expect(await vectorStore.delete({ collection: 'memories', ids: ['a', 'z'] })).toEqual({
      deleted: 1,
    });
    expect(requests[1]!.body).toEqual([
      { delete: { _index: 'memories', _id: 'a' } },
      { delete: { _index: 'memories', _id: 'z' } },
    ]);
    const error = await caught(() => vectorStore.delete({ collection: 'memories', scope: {} }));
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    expect(requests).toHaveLength(2);
  });

  it('drops a collection, ignoring one that is already gone', async () => {
    route('DELETE', '/memories', {
      status: 404,
      body: { error: { type: 'index_not_found_exception' } },
    });
    await store().dropCollection({ collection: 'memories' });
    expect(requests.map((request) => `${request.method} ${request.path}`)).toEqual([
      'DELETE /memories',
    ]);
  });

  it('maps a missing index to NotFoundError and 503 to a retryable AdapterCallError', async () => {
    route('POST', '/gone/_count', {
      status: 404,
      body: { error: { type: 'index_not_found_exception', reason: 'no such index [gone]' } },
    });
    route('POST', '/busy/_count', {
      status: 503,
      body: { error: { type: 'cluster_block_exception', reason: 'busy' } },
    });
    const vectorStore = store();
    const missing = await caught(() => vectorStore.count({ collection: 'gone' }));
    expect(NotFoundError.isInstance(missing)).toBe(true);
    const busy = await caught(() => vectorStore.count({ collection: 'busy' }));
    expect(AdapterCallError.isInstance(busy)).toBe(true);
    expect((busy as AdapterCallError).isRetryable).toBe(true);
    expect((busy as AdapterCallError).source).toBe('opensearch');
  });

  it('aborts a request in flight', async () => {
    route('POST', '/memories/_count', { body: { count: 1 }, delayMs: 2_000 });
    const controller = new AbortController();
    const pending = caught(() =>
      store().count({ collection: 'memories', abortSignal: controller.signal }),
    );
    setTimeout(() => controller.abort(), 50);
    expect(AbortedError.isInstance(await pending)).toBe(true);
  });
});
