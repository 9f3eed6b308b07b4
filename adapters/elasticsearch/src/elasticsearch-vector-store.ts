import { Client, type estypes } from '@elastic/elasticsearch';
import {
  type CallOptions,
  ClosedError,
  type CountOptions,
  type DeleteOptions,
  DimensionMismatchError,
  decodeCursor,
  type EnsureCollectionOptions,
  encodeCursor,
  type GetOptions,
  InvalidArgumentError,
  type ListOptions,
  type ListPage,
  normalizeScope,
  type QueryOptions,
  type StoredRecord,
  throwIfAborted,
  type UpsertOptions,
  type VectorMatch,
  type VectorRecord,
  type VectorStore,
  type VectorStoreCapabilities,
} from '@engram/core';
import {
  derivedFields,
  type ElasticsearchDocument,
  fromSource,
  toDocument,
} from './elasticsearch-document.js';
import { source, toEngramError } from './elasticsearch-errors.js';
import { elasticsearchFilterOperators, selectionQuery } from './elasticsearch-filter.js';
import {
  cosineFromScore,
  dimensionsOfMapping,
  elasticsearchIndexBody,
} from './elasticsearch-mapping.js';
import type { ElasticsearchVectorStoreOptions } from './elasticsearch-vector-store-options.js';

/** Elasticsearch's limit on `k`, `num_candidates` and a search page (`index.max_result_window`). */
const maxWindow = 10_000;
/** Ids fetched per page while deleting by scope and filter. */
const deletePageSize = 1_000;

type Query = estypes.QueryDslQueryContainer;

function checkIndexName(index: string): void {
  const problem =
    index.length === 0
      ? 'is empty'
      : index !== index.toLowerCase()
        ? 'has uppercase letters'
        : /[\\/*?"<>| ,#:]/.test(index)
          ? 'holds one of \\ / * ? " < > | , # : or a space'
          : /^[-_+]/.test(index)
            ? 'starts with -, _ or +'
            : index === '.' || index === '..'
              ? 'is . or ..'
              : Buffer.byteLength(index) > 255
                ? 'is longer than 255 bytes'
                : undefined;
  if (problem) {
    throw new InvalidArgumentError({
      source,
      message: `Index name "${index}" ${problem}; Elasticsearch index names are lowercase, without \\ / * ? " < > | , # : or spaces, and do not start with -, _ or +.`,
    });
  }
}

function checkPositiveInteger(name: string, value: number, max?: number): void {
  if (!Number.isInteger(value) || value <= 0 || (max !== undefined && value > max)) {
    throw new InvalidArgumentError({
      source,
      message: `${name} must be a positive integer${max !== undefined ? ` of at most ${max}` : ''}, got ${value}.`,
    });
  }
}

function sourceExcludes(includeVectors: boolean | undefined): string[] {
  return includeVectors ? derivedFields : [...derivedFields, 'vector'];
}

/**
 * A `VectorStore` on Elasticsearch 8: one index per collection, `dense_vector` k-NN (cosine,
 * full-precision HNSW) with scope and filter as pre-filters, BM25 over `text`, and metadata
 * stored exactly as given plus typed keyword terms for filtering.
 */
export function createElasticsearchVectorStore(
  options: ElasticsearchVectorStoreOptions = {},
): VectorStore {
  const refresh = options.refresh ?? 'wait_for';
  const prefix = options.indexPrefix ?? '';
  const dimensionsByIndex = new Map<string, number>();
  let client: Client | undefined = options.client;
  let ownsClient = false;
  let closed = false;

  const capabilities: VectorStoreCapabilities = {
    keywordSearch: true,
    filterOperators: elasticsearchFilterOperators,
    maxBatchSize: 500,
    metric: 'cosine',
    atomicHistory: false,
  };

  function open(abortSignal?: AbortSignal): Client {
    if (closed) {
      throw new ClosedError({ source, message: 'The store was closed; create a new one.' });
    }
    throwIfAborted(abortSignal, source);
    if (!client) {
      const environment = process.env;
      const url = options.url ?? environment.ELASTICSEARCH_URL ?? 'http://localhost:9200';
      const apiKey = options.apiKey ?? environment.ELASTICSEARCH_API_KEY;
      const username = options.username ?? environment.ELASTICSEARCH_USERNAME;
      const password = options.password ?? environment.ELASTICSEARCH_PASSWORD;
      client = new Client({
        ...options.clientOptions,
        node: url,
        ...(apiKey
          ? { auth: { apiKey } }
          : username !== undefined
            ? { auth: { username, password: password ?? '' } }
            : {}),
      });
      ownsClient = true;
    }
    return client;
  }

  function indexOf(collection: string): string {
    const index = `${prefix}${collection}`;
    checkIndexName(index);
    return index;
  }

  function transport(abortSignal?: AbortSignal) {
    return abortSignal ? { signal: abortSignal } : {};
  }

  async function call<T>(
    action: string,
    abortSignal: AbortSignal | undefined,
    run: () => Promise<T>,
  ) {
    try {
      return await run();
    } catch (error) {
      throw toEngramError(error, action, abortSignal);
    }
  }

  async function dimensionsOf(
    es: Client,
    collection: string,
    index: string,
    abortSignal?: AbortSignal,
  ): Promise<number> {
    const cached = dimensionsByIndex.get(index);
    if (cached !== undefined) return cached;
    const response = await call(`Reading collection "${collection}"`, abortSignal, () =>
      es.indices.getMapping({ index }, transport(abortSignal)),
    );
    const mapping = Object.values(response)[0]?.mappings;
    const dimensions = dimensionsOfMapping(mapping);
    if (dimensions === undefined) {
      throw new InvalidArgumentError({
        source,
        message: `Index "${index}" exists but is not an Engram collection (no dense_vector field "vector"); use another collection name or indexPrefix.`,
      });
    }
    dimensionsByIndex.set(index, dimensions);
    return dimensions;
  }

  function checkVector(vector: number[], expected: number, what: string): void {
    if (vector.length !== expected) {
      throw new DimensionMismatchError({
        source,
        expected,
        actual: vector.length,
        message: `${what} has ${vector.length} dimensions; the collection holds ${expected}.`,
      });
    }
  }

  function selection(options: { scope?: QueryOptions['scope']; filter?: QueryOptions['filter'] }) {
    return selectionQuery(normalizeScope(options.scope, { source }), options.filter) as Query;
  }

  async function deleteIds(
    es: Client,
    index: string,
    ids: string[],
    abortSignal: AbortSignal | undefined,
    refreshAfter: boolean,
  ): Promise<number> {
    if (ids.length === 0) return 0;
    const response = await call('Deleting records', abortSignal, () =>
      es.bulk(
        {
          operations: ids.map((id) => ({ delete: { _index: index, _id: id } })),
          refresh: refreshAfter ? refresh : false,
        },
        transport(abortSignal),
      ),
    );
    let deleted = 0;
    for (const item of response.items) {
      const result = item.delete;
      if (!result) continue;
      if (result.result === 'deleted') deleted++;
      else if (result.error && result.status !== 404) {
        throw toEngramError(
          { name: 'ResponseError', statusCode: result.status, body: { error: result.error } },
          `Deleting record "${result._id}"`,
        );
      }
    }
    return deleted;
  }

  return {
    specificationVersion: 'v1',
    provider: source,
    capabilities,

    async ensureCollection({ collection, dimensions, abortSignal }: EnsureCollectionOptions) {
      const es = open(abortSignal);
      checkPositiveInteger('dimensions', dimensions);
      const index = indexOf(collection);
      const exists = await call(`Checking collection "${collection}"`, abortSignal, () =>
        es.indices.exists({ index }, transport(abortSignal)),
      );
      if (!exists) {
        try {
          await es.indices.create(
            {
              index,
              ...elasticsearchIndexBody({
                dimensions,
                ...(options.indexSettings ? { settings: options.indexSettings } : {}),
              }),
            } as estypes.IndicesCreateRequest,
            transport(abortSignal),
          );
          dimensionsByIndex.set(index, dimensions);
          return;
        } catch (error) {
          const type = (error as { body?: { error?: { type?: string } } }).body?.error?.type;
          // another process created it first: then its dimensions must match
          if (type !== 'resource_already_exists_exception') {
            throw toEngramError(error, `Creating collection "${collection}"`, abortSignal);
          }
        }
      }
      dimensionsByIndex.delete(index);
      const existing = await dimensionsOf(es, collection, index, abortSignal);
      if (existing !== dimensions) {
        throw new DimensionMismatchError({
          source,
          expected: existing,
          actual: dimensions,
          message: `Collection "${collection}" holds ${existing}-dimensional vectors, not ${dimensions}. Use the embedder it was created with, or another collection.`,
        });
      }
    },

    async upsert({ collection, records, abortSignal }: UpsertOptions) {
      const es = open(abortSignal);
      const index = indexOf(collection);
      const dimensions = await dimensionsOf(es, collection, index, abortSignal);
      for (const record of records) {
        if (typeof record.id !== 'string' || record.id.length === 0) {
          throw new InvalidArgumentError({
            source,
            message: 'Every record needs a non-empty string id.',
          });
        }
        checkVector(record.vector, dimensions, `Record "${record.id}"`);
      }
      if (records.length === 0) return;
      const operations = records.flatMap((record: VectorRecord) => [
        { index: { _index: index, _id: record.id } },
        toDocument(record),
      ]);
      const response = await call('Upserting records', abortSignal, () =>
        es.bulk({ operations, refresh }, transport(abortSignal)),
      );
      if (response.errors) {
        const failed = response.items.find((item) => item.index?.error)?.index;
        throw toEngramError(
          { name: 'ResponseError', statusCode: failed?.status, body: { error: failed?.error } },
          `Upserting record "${failed?._id}"`,
        );
      }
    },

    async query(queryOptions: QueryOptions): Promise<VectorMatch[]> {
      const { collection, topK, vector, text, includeVectors, abortSignal } = queryOptions;
      const es = open(abortSignal);
      const index = indexOf(collection);
      checkPositiveInteger('topK', topK, maxWindow);
      const filter = selection(queryOptions);
      const excludes = sourceExcludes(includeVectors);
      if (vector) {
        checkVector(
          vector,
          await dimensionsOf(es, collection, index, abortSignal),
          'The query vector',
        );
        const candidates = Math.min(
          maxWindow,
          Math.max(topK, options.numCandidates ?? Math.max(100, topK * 10)),
        );
        const response = await call('Searching by vector', abortSignal, () =>
          es.search<Partial<ElasticsearchDocument>>(
            {
              index,
              knn: {
                field: 'vector',
                query_vector: vector,
                k: topK,
                num_candidates: candidates,
                filter,
              },
              size: topK,
              _source: { excludes },
            },
            transport(abortSignal),
          ),
        );
        return response.hits.hits.map((hit) => ({
          record: fromSource(hit._source ?? {}, hit._id ?? ''),
          score: cosineFromScore(hit._score ?? 0),
        }));
      }
      if (text !== undefined) {
        const response = await call('Searching by text', abortSignal, () =>
          es.search<Partial<ElasticsearchDocument>>(
            {
              index,
              query: { bool: { must: [{ match: { text: { query: text } } }], filter: [filter] } },
              size: topK,
              _source: { excludes },
            },
            transport(abortSignal),
          ),
        );
        return response.hits.hits
          .filter((hit) => (hit._score ?? 0) > 0)
          .map((hit) => ({
            record: fromSource(hit._source ?? {}, hit._id ?? ''),
            score: hit._score ?? 0,
          }));
      }
      throw new InvalidArgumentError({ source, message: 'query needs a vector or a text.' });
    },

    async get({ collection, ids, includeVectors, abortSignal }: GetOptions) {
      const es = open(abortSignal);
      const index = indexOf(collection);
      if (ids.length === 0) {
        await dimensionsOf(es, collection, index, abortSignal);
        return [];
      }
      const response = await call('Reading records', abortSignal, () =>
        es.mget<Partial<ElasticsearchDocument>>(
          { index, ids, _source_excludes: sourceExcludes(includeVectors) },
          transport(abortSignal),
        ),
      );
      const records: StoredRecord[] = [];
      for (const document of response.docs) {
        if ('error' in document) {
          throw toEngramError(
            { name: 'ResponseError', statusCode: 404, body: { error: document.error } },
            `Reading records of "${collection}"`,
          );
        }
        if (document.found) records.push(fromSource(document._source ?? {}, document._id));
      }
      return records;
    },

    async delete(deleteOptions: DeleteOptions) {
      const { collection, abortSignal } = deleteOptions;
      const es = open(abortSignal);
      const index = indexOf(collection);
      if (deleteOptions.ids) {
        if (deleteOptions.ids.length === 0) {
          await dimensionsOf(es, collection, index, abortSignal);
          return { deleted: 0 };
        }
        return { deleted: await deleteIds(es, index, deleteOptions.ids, abortSignal, true) };
      }
      const scope = normalizeScope(deleteOptions.scope, { source });
      if (!deleteOptions.filter && Object.keys(scope).length === 0) {
        throw new InvalidArgumentError({
          source,
          message:
            'delete needs ids, a non-empty scope or a filter; use dropCollection to empty a collection.',
        });
      }
      const query = selection({
        scope,
        ...(deleteOptions.filter ? { filter: deleteOptions.filter } : {}),
      });
      // _delete_by_query lives in the reindex module, which minimal distributions lack: page
      // through the matching ids instead and delete them in bulk.
      let deleted = 0;
      let after: string | undefined;
      for (;;) {
        const page = await call('Finding records to delete', abortSignal, () =>
          es.search(
            {
              index,
              query,
              sort: [{ id: 'asc' }],
              size: deletePageSize,
              _source: false,
              track_total_hits: false,
              ...(after !== undefined ? { search_after: [after] } : {}),
            },
            transport(abortSignal),
          ),
        );
        const ids = page.hits.hits.map((hit) => hit._id ?? '');
        deleted += await deleteIds(es, index, ids, abortSignal, false);
        if (ids.length < deletePageSize) break;
        after = ids.at(-1);
      }
      if (deleted > 0 && refresh !== false) {
        await call('Refreshing after delete', abortSignal, () =>
          es.indices.refresh({ index }, transport(abortSignal)),
        );
      }
      return { deleted };
    },

    async list(listOptions: ListOptions): Promise<ListPage> {
      const { collection, limit, cursor, includeVectors, abortSignal } = listOptions;
      const es = open(abortSignal);
      const index = indexOf(collection);
      checkPositiveInteger('limit', limit);
      const after = decodeCursor(cursor, source);
      const query = selection(listOptions);
      // a page larger than the result window is shortened, with a cursor for the rest
      const pageSize = Math.min(limit, maxWindow - 1);
      const response = await call('Listing records', abortSignal, () =>
        es.search<Partial<ElasticsearchDocument>>(
          {
            index,
            query,
            sort: [{ id: 'asc' }],
            size: pageSize + 1,
            track_total_hits: false,
            _source: { excludes: sourceExcludes(includeVectors) },
            ...(after !== undefined ? { search_after: [after] } : {}),
          },
          transport(abortSignal),
        ),
      );
      const hits = response.hits.hits;
      const records = hits
        .slice(0, pageSize)
        .map((hit) => fromSource(hit._source ?? {}, hit._id ?? ''));
      const last = records.at(-1);
      return {
        records,
        ...(hits.length > pageSize && last ? { nextCursor: encodeCursor(last.id) } : {}),
      };
    },

    async count(countOptions: CountOptions) {
      const { collection, abortSignal } = countOptions;
      const es = open(abortSignal);
      const index = indexOf(collection);
      const query = selection(countOptions);
      const response = await call('Counting records', abortSignal, () =>
        es.count({ index, query }, transport(abortSignal)),
      );
      return response.count;
    },

    async dropCollection({ collection, abortSignal }: CallOptions & { collection: string }) {
      const es = open(abortSignal);
      const index = indexOf(collection);
      dimensionsByIndex.delete(index);
      await call(`Dropping collection "${collection}"`, abortSignal, () =>
        es.indices.delete({ index }, { ...transport(abortSignal), ignore: [404] }),
      );
    },

    async close() {
      if (closed) return;
      closed = true;
      dimensionsByIndex.clear();
      if (client && ownsClient) await client.close();
    },

    async [Symbol.asyncDispose]() {
      await this.close();
    },
  };
}
