import { AdapterCallError, InvalidArgumentError, type VectorRecord } from '@engram/core';
import { describe, expect, it } from 'vitest';
import type {
  ElasticsearchCompatibleClient,
  SearchBody,
  SearchResponse,
} from './elasticsearch-compatible-client.js';
import {
  type ElasticsearchCompatibleConnectionOptions,
  elasticsearchCompatibleConnection,
} from './elasticsearch-compatible-connection.js';
import type {
  ElasticsearchCompatibleDialect,
  ElasticsearchCompatibleStoreOptions,
} from './elasticsearch-compatible-dialect.js';
import { createElasticsearchCompatibleVectorStore } from './elasticsearch-compatible-vector-store.js';

const excludes = ['metadata_terms', 'metadata_elements', 'metadata_paths', 'vector'];

interface Call {
  name: string;
  args: unknown[];
}

function responseError(status: number, type: string) {
  return { name: 'ResponseError', statusCode: status, body: { error: { type, reason: type } } };
}

function hit(id: string, score = 1) {
  return { _id: id, _score: score, _source: { id, text: id, metadata: {} } };
}

/** A client whose calls are recorded and answered by `answers`, defaulting to success. */
function fakeClient(answers: Partial<ElasticsearchCompatibleClient> = {}) {
  const calls: Call[] = [];
  const defaults: ElasticsearchCompatibleClient = {
    indexExists: async () => true,
    createIndex: async () => ({}),
    getMapping: async (index) => ({
      [index]: { mappings: { properties: { vector: { type: 'test_vector', size: 2 } } } },
    }),
    bulk: async () => ({ errors: false, items: [] }),
    search: async () => ({ hits: { hits: [] } }),
    mget: async () => ({ docs: [] }),
    count: async () => 0,
    refresh: async () => ({}),
    deleteIndex: async () => ({}),
  };
  const client = Object.fromEntries(
    Object.entries({ ...defaults, ...answers }).map(([name, method]) => [
      name,
      (...args: unknown[]) => {
        calls.push({ name, args });
        return (method as (...args: unknown[]) => unknown)(...args);
      },
    ]),
  ) as unknown as ElasticsearchCompatibleClient;
  return { client, calls };
}

/** A vendor client that only counts how often it was closed. */
function vendorClient() {
  const vendor = { closes: 0, close: async () => void vendor.closes++ };
  return vendor;
}

type Vendor = ReturnType<typeof vendorClient>;

function storeOn(
  client: ElasticsearchCompatibleClient,
  options: ElasticsearchCompatibleStoreOptions & ElasticsearchCompatibleConnectionOptions = {},
  dialect: Partial<ElasticsearchCompatibleDialect<Vendor>> = {},
) {
  return createElasticsearchCompatibleVectorStore<Vendor>(
    {
      provider: 'engine',
      productName: 'Engine',
      environmentPrefix: 'ENGINE',
      mapping: { vectorType: 'test_vector', dimensionsKey: 'size', vectorParameters: {} },
      vectorQuery: ({ vector, topK, filter }) => ({ knn: { vector, k: topK, filter } }),
      createClient: vendorClient,
      calls: () => client,
      ...dialect,
    } as ElasticsearchCompatibleDialect<Vendor>,
    options,
  );
}

const record = (id: string, vector = [1, 0]): VectorRecord => ({
  id,
  vector,
  text: id,
  metadata: { n: 1 },
  createdAt: '2024-01-01T00:00:00.000Z',
  updatedAt: '2024-01-01T00:00:00.000Z',
});

const named = (calls: Call[], name: string) => calls.filter((call) => call.name === name);

describe('createElasticsearchCompatibleVectorStore', () => {
  it('creates a client on first use only, and closes it once', async () => {
    const { client } = fakeClient();
    const created: Vendor[] = [];
    const createClient = () => {
      created.push(vendorClient());
      return created.at(-1)!;
    };
    const store = storeOn(client, {}, { createClient });
    expect(store.provider).toBe('engine');
    expect(store.capabilities).toMatchObject({ keywordSearch: true, metric: 'cosine' });
    expect(created).toHaveLength(0);
    await store.count({ collection: 'memories' });
    await store.count({ collection: 'memories' });
    expect(created).toHaveLength(1);
    await Promise.all([store.close(), store[Symbol.asyncDispose]()]);
    expect(created[0]!.closes).toBe(1);
    const error = await store.count({ collection: 'memories' }).catch((caught) => caught);
    expect(error).toMatchObject({ code: 'closed' });
  });

  it('uses a client it was given as it is and never closes it', async () => {
    const { client } = fakeClient();
    const given = vendorClient();
    const seen: Vendor[] = [];
    const store = storeOn(
      client,
      {},
      {
        client: given,
        createClient: () => {
          throw new Error('no client should be created');
        },
        calls: (vendor) => {
          seen.push(vendor);
          return client;
        },
      },
    );
    await store.count({ collection: 'memories' });
    await store.close();
    expect(seen).toEqual([given]);
    expect(given.closes).toBe(0);
  });

  it('creates its client with the connection settings from the options', async () => {
    const { client } = fakeClient();
    const connections: unknown[] = [];
    const options = { url: 'http://engine:9200', apiKey: 'key', username: 'user' };
    const createClient = (connection: unknown) => {
      connections.push(connection);
      return vendorClient();
    };
    await storeOn(client, options, { apiKeys: true, createClient }).count({ collection: 'a' });
    await storeOn(client, options, { createClient }).count({ collection: 'a' });
    expect(connections).toEqual([
      { node: 'http://engine:9200', auth: { apiKey: 'key' } },
      { node: 'http://engine:9200', auth: { username: 'user', password: '' } },
    ]);
  });

  it('creates a missing collection with the engine mapping and settings', async () => {
    const { client, calls } = fakeClient({ indexExists: async () => false });
    await storeOn(client, {
      indexPrefix: 'app_',
      indexSettings: { number_of_shards: 1 },
    }).ensureCollection({ collection: 'memories', dimensions: 3 });
    const [index, body] = named(calls, 'createIndex')[0]!.args as [string, Record<string, never>];
    expect(index).toBe('app_memories');
    expect(body).toMatchObject({
      settings: { number_of_shards: 1 },
      mappings: { dynamic: 'strict', properties: { vector: { type: 'test_vector', size: 3 } } },
    });
  });

  it('checks the dimensions of a collection another process created first', async () => {
    const { client } = fakeClient({
      indexExists: async () => false,
      createIndex: async () => {
        throw responseError(400, 'resource_already_exists_exception');
      },
    });
    const store = storeOn(client);
    await store.ensureCollection({ collection: 'memories', dimensions: 2 });
    const error = await store
      .ensureCollection({ collection: 'memories', dimensions: 3 })
      .catch((caught) => caught);
    expect(error).toMatchObject({ code: 'dimension_mismatch' });
  });

  it('refuses an index that is not an Engram collection, and bad names before any request', async () => {
    const { client, calls } = fakeClient({
      getMapping: async () => ({ memories: { mappings: { properties: {} } } }),
    });
    const store = storeOn(client);
    const foreign = await store
      .ensureCollection({ collection: 'memories', dimensions: 2 })
      .catch((caught) => caught);
    expect(InvalidArgumentError.isInstance(foreign)).toBe(true);
    expect(String(foreign)).toMatch(/no test_vector field/);
    calls.length = 0;
    for (const collection of ['Memories', 'a b', '_private', 'x/y', 'a#b']) {
      const error = await store.count({ collection }).catch((caught) => caught);
      expect(InvalidArgumentError.isInstance(error), collection).toBe(true);
      expect(String(error)).toMatch(/Engine index names/);
    }
    expect(calls).toEqual([]);
  });

  it('upserts in one bulk request and reports the first failed item', async () => {
    const { client, calls } = fakeClient({
      bulk: async () => ({
        errors: true,
        items: [
          { index: { _id: 'a', status: 201, result: 'created' } },
          {
            index: {
              _id: 'b',
              status: 429,
              error: { type: 'rejected_execution_exception', reason: 'queue full' },
            },
          },
        ],
      }),
    });
    const store = storeOn(client, { refresh: true });
    const error = await store
      .upsert({ collection: 'memories', records: [record('a'), record('b')] })
      .catch((caught) => caught);
    expect(AdapterCallError.isInstance(error)).toBe(true);
    expect((error as AdapterCallError).isRetryable).toBe(true);
    expect((error as Error).message).toBe(
      'Upserting record "b" failed (HTTP 429 rejected_execution_exception): queue full',
    );
    const [operations, refresh] = named(calls, 'bulk')[0]!.args as [object[], unknown];
    expect(refresh).toBe(true);
    expect(operations).toHaveLength(4);
    expect(operations[0]).toEqual({ index: { _index: 'memories', _id: 'a' } });
    expect(operations[1]).toMatchObject({ id: 'a', metadata_terms: ['n\u0000n:bff0000000000000'] });
    const mismatch = await store
      .upsert({ collection: 'memories', records: [record('c', [1, 0, 0])] })
      .catch((caught) => caught);
    expect(mismatch).toMatchObject({ code: 'dimension_mismatch' });
    expect(named(calls, 'bulk')).toHaveLength(1);
  });

  it('searches by vector with the engine k-NN query and by text with BM25', async () => {
    const bodies: SearchBody[] = [];
    const { client } = fakeClient({
      search: async (_index, body): Promise<SearchResponse> => {
        bodies.push(body);
        return { hits: { hits: [hit('a', 0.9), hit('b', 0)] } };
      },
    });
    const store = storeOn(client);
    const byVector = await store.query({
      collection: 'memories',
      vector: [1, 0],
      topK: 2,
      scope: { userId: 'u' },
    });
    expect(byVector.map((match) => match.score)).toEqual(
      [0.8, -1].map((score) => expect.closeTo(score, 12)),
    );
    expect(bodies[0]).toEqual({
      knn: { vector: [1, 0], k: 2, filter: { bool: { filter: [{ term: { user_id: 'u' } }] } } },
      size: 2,
      _source: { excludes },
    });
    const byText = await store.query({ collection: 'memories', text: 'words', topK: 2 });
    expect(byText.map((match) => match.record.id)).toEqual(['a']);
    expect(bodies[1]).toEqual({
      query: {
        bool: { must: [{ match: { text: { query: 'words' } } }], filter: [{ match_all: {} }] },
      },
      size: 2,
      _source: { excludes },
    });
    for (const topK of [0, 10_001]) {
      const error = await store
        .query({ collection: 'memories', text: 'x', topK })
        .catch((caught) => caught);
      expect(InvalidArgumentError.isInstance(error), String(topK)).toBe(true);
    }
  });

  it('gets found documents and maps a failed one', async () => {
    const { client } = fakeClient({
      mget: async (_index, ids) => ({
        docs: ids.map((id) =>
          id === 'z' ? { _id: id, found: false } : { ...hit(id), found: true },
        ),
      }),
    });
    const store = storeOn(client);
    expect(
      (await store.get({ collection: 'memories', ids: ['a', 'z'] })).map((found) => found.id),
    ).toEqual(['a']);
    const { client: failing } = fakeClient({
      mget: async () => ({ docs: [{ _id: 'a', error: { type: 'index_not_found_exception' } }] }),
    });
    const error = await storeOn(failing)
      .get({ collection: 'memories', ids: ['a'] })
      .catch((caught) => caught);
    expect(error).toMatchObject({ code: 'not_found' });
  });

  it('deletes by scope page by page when the engine has no _delete_by_query', async () => {
    const pages = [Array.from({ length: 1000 }, (_, index) => hit(`id${index}`)), [hit('last')]];
    const { client, calls } = fakeClient({
      search: async () => ({ hits: { hits: pages.shift() ?? [] } }),
      bulk: async (operations) => ({
        errors: false,
        items: operations.map(() => ({ delete: { status: 200, result: 'deleted' } })),
      }),
    });
    const result = await storeOn(client).delete({ collection: 'memories', scope: { userId: 'u' } });
    expect(result).toEqual({ deleted: 1001 });
    const searches = named(calls, 'search').map((call) => call.args[1] as SearchBody);
    expect(searches[0]).toMatchObject({ sort: [{ id: 'asc' }], size: 1000, _source: false });
    expect(searches[1]).toMatchObject({ search_after: ['id999'] });
    expect(named(calls, 'bulk').map((call) => call.args[1])).toEqual([false, false]);
    expect(named(calls, 'refresh')).toHaveLength(1);
  });

  it('reports documents and store size from the index stats, else the count alone', async () => {
    const { client, calls } = fakeClient({
      indexStats: async () => ({
        _all: { primaries: { docs: { count: 12 } }, total: { store: { size_in_bytes: 20_480 } } },
      }),
    });
    expect(await storeOn(client).stats!({ collection: 'memories' })).toEqual({
      vectors: 12,
      bytes: 20_480,
    });
    expect(named(calls, 'indexStats')[0]!.args[0]).toBe('memories');
    const { client: countOnly, calls: countCalls } = fakeClient({ count: async () => 7 });
    expect(await storeOn(countOnly).stats!({ collection: 'memories' })).toEqual({ vectors: 7 });
    expect(named(countCalls, 'count')[0]!.args.slice(0, 2)).toEqual([
      'memories',
      { match_all: {} },
    ]);
  });

  it('deletes by filter with _delete_by_query where the engine has it', async () => {
    const { client, calls } = fakeClient({
      deleteByQuery: async () => ({ deleted: 3, failures: [] }),
    });
    const store = storeOn(client, { refresh: false });
    const filter = { op: 'exists', field: 'x' } as const;
    expect(await store.delete({ collection: 'memories', filter })).toEqual({ deleted: 3 });
    expect(named(calls, 'deleteByQuery')[0]!.args.slice(0, 3)).toEqual([
      'memories',
      { bool: { filter: [{ term: { metadata_paths: 'x' } }] } },
      false,
    ]);
    const { client: conflicting } = fakeClient({
      deleteByQuery: async () => ({ deleted: 1, failures: [{ id: 'a' }] }),
    });
    const error = await storeOn(conflicting)
      .delete({ collection: 'memories', filter })
      .catch((caught) => caught);
    expect((error as AdapterCallError).isRetryable).toBe(true);
    const empty = await store
      .delete({ collection: 'memories', scope: {} })
      .catch((caught) => caught);
    expect(InvalidArgumentError.isInstance(empty)).toBe(true);
  });

  it('pages a list with an opaque cursor', async () => {
    const { client, calls } = fakeClient({
      search: async (_index, body) => ({
        hits: { hits: body.search_after ? [hit('c')] : [hit('a'), hit('b'), hit('c')] },
      }),
    });
    const store = storeOn(client);
    const first = await store.list({ collection: 'memories', limit: 2 });
    expect(first.records.map((found) => found.id)).toEqual(['a', 'b']);
    const second = await store.list({
      collection: 'memories',
      limit: 2,
      cursor: first.nextCursor!,
    });
    expect(second).toMatchObject({ records: [{ id: 'c' }] });
    expect(second.nextCursor).toBeUndefined();
    expect((named(calls, 'search')[1]!.args[1] as SearchBody).search_after).toEqual(['b']);
  });

  it('maps what the client throws, with the call that failed', async () => {
    const { client } = fakeClient({
      count: async () => {
        throw responseError(503, 'cluster_block_exception');
      },
    });
    const error = await storeOn(client)
      .count({ collection: 'memories' })
      .catch((caught) => caught);
    expect(AdapterCallError.isInstance(error)).toBe(true);
    expect((error as AdapterCallError).isRetryable).toBe(true);
    expect((error as AdapterCallError).source).toBe('engine');
    expect((error as Error).message).toMatch(/^Counting records failed \(HTTP 503/);
  });
});

describe('elasticsearchCompatibleConnection', () => {
  const settings = { source: 'engine', environmentPrefix: 'ENGINE', apiKeys: true };

  it('prefers options, then the environment, then localhost', () => {
    expect(elasticsearchCompatibleConnection({}, { ...settings, environment: {} })).toEqual({
      node: 'http://localhost:9200',
    });
    const environment = {
      ENGINE_URL: 'http://engine:9200',
      ENGINE_USERNAME: 'user',
      ENGINE_PASSWORD: 'secret',
    };
    expect(elasticsearchCompatibleConnection({}, { ...settings, environment })).toEqual({
      node: 'http://engine:9200',
      auth: { username: 'user', password: 'secret' },
    });
    expect(
      elasticsearchCompatibleConnection(
        { url: ['http://a:9200', 'http://b:9200'], apiKey: 'key' },
        { ...settings, environment },
      ),
    ).toEqual({ node: ['http://a:9200', 'http://b:9200'], auth: { apiKey: 'key' } });
    expect(
      elasticsearchCompatibleConnection(
        {},
        { ...settings, apiKeys: false, environment: { ENGINE_API_KEY: 'key' } },
      ),
    ).toEqual({ node: 'http://localhost:9200' });
  });
});
