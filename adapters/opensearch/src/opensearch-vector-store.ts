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
  type VectorStore,
  type VectorStoreCapabilities,
} from '@engram/core';
import { Client } from '@opensearch-project/opensearch';
import {
  derivedFields,
  fromSource,
  type OpenSearchDocument,
  toDocument,
} from './opensearch-document.js';
import { source, toEngramError } from './opensearch-errors.js';
import {
  type OpenSearchQuery,
  openSearchFilterOperators,
  selectionQuery,
} from './opensearch-filter.js';
import { cosineFromScore, dimensionsOfMapping, openSearchIndexBody } from './opensearch-mapping.js';
import type { OpenSearchVectorStoreOptions } from './opensearch-vector-store-options.js';

/** OpenSearch's limit on `k` and on a search page (`index.max_result_window`). */
const maxWindow = 10_000;

interface Hit {
  _id: string;
  _score?: number | null;
  _source?: Partial<OpenSearchDocument>;
}

interface SearchBody {
  hits: { hits: Hit[] };
}

interface BulkItem {
  _id?: string;
  status?: number;
  result?: string;
  error?: { type?: string; reason?: string };
}

interface BulkBody {
  errors: boolean;
  items: Record<string, BulkItem>[];
}

/** A request of the client: a promise of the response that can also be aborted. */
type Pending = Promise<{ body: unknown; statusCode?: number | null }> & { abort?: () => void };

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
      message: `Index name "${index}" ${problem}; OpenSearch index names are lowercase, without \\ / * ? " < > | , # : or spaces, and do not start with -, _ or +.`,
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

function isMatchAll(query: OpenSearchQuery): boolean {
  return 'match_all' in query;
}

/**
 * A `VectorStore` on OpenSearch with the k-NN plugin: one index per collection, a Lucene-engine
 * HNSW `knn_vector` (cosine) searched with scope and filter inside the k-NN query, BM25 over
 * `text`, and metadata stored exactly as given plus typed keyword terms for filtering.
 */
export function createOpenSearchVectorStore(
  options: OpenSearchVectorStoreOptions = {},
): VectorStore {
  const refresh = options.refresh ?? 'wait_for';
  const prefix = options.indexPrefix ?? '';
  const dimensionsByIndex = new Map<string, number>();
  let client: Client | undefined = options.client;
  let ownsClient = false;
  let closed = false;

  const capabilities: VectorStoreCapabilities = {
    keywordSearch: true,
    filterOperators: openSearchFilterOperators,
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
      const url = options.url ?? environment.OPENSEARCH_URL ?? 'http://localhost:9200';
      const username = options.username ?? environment.OPENSEARCH_USERNAME;
      const password = options.password ?? environment.OPENSEARCH_PASSWORD;
      client = new Client({
        ...options.clientOptions,
        node: url,
        ...(username !== undefined ? { auth: { username, password: password ?? '' } } : {}),
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

  async function send<T>(
    action: string,
    abortSignal: AbortSignal | undefined,
    request: () => Pending,
  ): Promise<{ body: T; statusCode?: number | null }> {
    let pending: Pending | undefined;
    // abort() returns the request itself, a thenable: a listener must not hand it back, or the
    // event target reports its rejection as uncaught
    const onAbort = () => {
      pending?.abort?.();
    };
    abortSignal?.addEventListener('abort', onAbort, { once: true });
    try {
      pending = request();
      const response = await pending;
      return { body: response.body as T, statusCode: response.statusCode ?? null };
    } catch (error) {
      throw toEngramError(error, action, abortSignal);
    } finally {
      abortSignal?.removeEventListener('abort', onAbort);
    }
  }

  async function dimensionsOf(
    os: Client,
    collection: string,
    index: string,
    abortSignal?: AbortSignal,
  ): Promise<number> {
    const cached = dimensionsByIndex.get(index);
    if (cached !== undefined) return cached;
    const { body } = await send<Record<string, { mappings?: unknown }>>(
      `Reading collection "${collection}"`,
      abortSignal,
      () => os.indices.getMapping({ index }),
    );
    const dimensions = dimensionsOfMapping(Object.values(body)[0]?.mappings);
    if (dimensions === undefined) {
      throw new InvalidArgumentError({
        source,
        message: `Index "${index}" exists but is not an Engram collection (no knn_vector field "vector"); use another collection name or indexPrefix.`,
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
    return selectionQuery(normalizeScope(options.scope, { source }), options.filter);
  }

  function failedItem(items: Record<string, BulkItem>[], action: string): never {
    const item = items.map((entry) => Object.values(entry)[0]).find((entry) => entry?.error);
    throw toEngramError(
      { name: 'ResponseError', statusCode: item?.status, body: { error: item?.error } },
      `${action} "${item?._id}"`,
    );
  }

  return {
    specificationVersion: 'v1',
    provider: source,
    capabilities,

    async ensureCollection({ collection, dimensions, abortSignal }: EnsureCollectionOptions) {
      const os = open(abortSignal);
      checkPositiveInteger('dimensions', dimensions);
      const index = indexOf(collection);
      const exists = await send<boolean>(`Checking collection "${collection}"`, abortSignal, () =>
        os.indices.exists({ index }, { ignore: [404] }),
      );
      if (exists.statusCode !== 200) {
        try {
          await send(`Creating collection "${collection}"`, abortSignal, () =>
            os.indices.create({
              index,
              body: openSearchIndexBody({
                dimensions,
                ...(options.indexSettings ? { settings: options.indexSettings } : {}),
              }) as never,
            }),
          );
          dimensionsByIndex.set(index, dimensions);
          return;
        } catch (error) {
          const cause = (error as Error).cause as { body?: { error?: { type?: string } } };
          // another process created it first: then its dimensions must match
          if (cause?.body?.error?.type !== 'resource_already_exists_exception') throw error;
        }
      }
      dimensionsByIndex.delete(index);
      const existing = await dimensionsOf(os, collection, index, abortSignal);
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
      const os = open(abortSignal);
      const index = indexOf(collection);
      const dimensions = await dimensionsOf(os, collection, index, abortSignal);
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
      const body = records.flatMap((record) => [
        { index: { _index: index, _id: record.id } },
        toDocument(record),
      ]);
      const { body: response } = await send<BulkBody>('Upserting records', abortSignal, () =>
        os.bulk({ body: body as never, refresh: refresh as never }),
      );
      if (response.errors) failedItem(response.items, 'Upserting record');
    },

    async query(queryOptions: QueryOptions): Promise<VectorMatch[]> {
      const { collection, topK, vector, text, includeVectors, abortSignal } = queryOptions;
      const os = open(abortSignal);
      const index = indexOf(collection);
      checkPositiveInteger('topK', topK, maxWindow);
      const filter = selection(queryOptions);
      const excludes = sourceExcludes(includeVectors);
      if (vector) {
        checkVector(
          vector,
          await dimensionsOf(os, collection, index, abortSignal),
          'The query vector',
        );
        const knn = {
          vector,
          k: topK,
          ...(isMatchAll(filter) ? {} : { filter }),
          ...(options.efSearch !== undefined
            ? { method_parameters: { ef_search: Math.max(topK, options.efSearch) } }
            : {}),
        };
        const { body } = await send<SearchBody>('Searching by vector', abortSignal, () =>
          os.search({
            index,
            body: { size: topK, query: { knn: { vector: knn } }, _source: { excludes } } as never,
          }),
        );
        return body.hits.hits.map((hit) => ({
          record: fromSource(hit._source ?? {}, hit._id),
          score: cosineFromScore(hit._score ?? 0),
        }));
      }
      if (text !== undefined) {
        const { body } = await send<SearchBody>('Searching by text', abortSignal, () =>
          os.search({
            index,
            body: {
              size: topK,
              query: { bool: { must: [{ match: { text: { query: text } } }], filter: [filter] } },
              _source: { excludes },
            } as never,
          }),
        );
        return body.hits.hits
          .filter((hit) => (hit._score ?? 0) > 0)
          .map((hit) => ({
            record: fromSource(hit._source ?? {}, hit._id),
            score: hit._score ?? 0,
          }));
      }
      throw new InvalidArgumentError({ source, message: 'query needs a vector or a text.' });
    },

    async get({ collection, ids, includeVectors, abortSignal }: GetOptions) {
      const os = open(abortSignal);
      const index = indexOf(collection);
      if (ids.length === 0) {
        await dimensionsOf(os, collection, index, abortSignal);
        return [];
      }
      const { body } = await send<{ docs: (Hit & { found?: boolean; error?: unknown })[] }>(
        'Reading records',
        abortSignal,
        () => os.mget({ index, body: { ids }, _source_excludes: sourceExcludes(includeVectors) }),
      );
      const records: StoredRecord[] = [];
      for (const document of body.docs) {
        if (document.error) {
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
      const os = open(abortSignal);
      const index = indexOf(collection);
      if (deleteOptions.ids) {
        if (deleteOptions.ids.length === 0) {
          await dimensionsOf(os, collection, index, abortSignal);
          return { deleted: 0 };
        }
        const { body } = await send<BulkBody>('Deleting records', abortSignal, () =>
          os.bulk({
            body: deleteOptions.ids.map((id) => ({ delete: { _index: index, _id: id } })) as never,
            refresh: refresh as never,
          }),
        );
        let deleted = 0;
        for (const entry of body.items) {
          const item = entry.delete;
          if (item?.result === 'deleted') deleted++;
          else if (item?.error && item.status !== 404) failedItem(body.items, 'Deleting record');
        }
        return { deleted };
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
      const { body } = await send<{ deleted?: number; failures?: unknown[] }>(
        'Deleting records by scope and filter',
        abortSignal,
        () =>
          os.deleteByQuery({
            index,
            body: { query } as never,
            refresh: refresh !== false,
          }),
      );
      if (body.failures && body.failures.length > 0) {
        throw toEngramError(
          {
            name: 'ResponseError',
            statusCode: 409,
            body: {
              error: { type: 'delete_by_query_failures', reason: JSON.stringify(body.failures[0]) },
            },
          },
          'Deleting records by scope and filter',
        );
      }
      return { deleted: body.deleted ?? 0 };
    },

    async list(listOptions: ListOptions): Promise<ListPage> {
      const { collection, limit, cursor, includeVectors, abortSignal } = listOptions;
      const os = open(abortSignal);
      const index = indexOf(collection);
      checkPositiveInteger('limit', limit);
      const after = decodeCursor(cursor, source);
      const query = selection(listOptions);
      // a page larger than the result window is shortened, with a cursor for the rest
      const pageSize = Math.min(limit, maxWindow - 1);
      const { body } = await send<SearchBody>('Listing records', abortSignal, () =>
        os.search({
          index,
          body: {
            query,
            sort: [{ id: 'asc' }],
            size: pageSize + 1,
            track_total_hits: false,
            _source: { excludes: sourceExcludes(includeVectors) },
            ...(after !== undefined ? { search_after: [after] } : {}),
          } as never,
        }),
      );
      const hits = body.hits.hits;
      const records = hits.slice(0, pageSize).map((hit) => fromSource(hit._source ?? {}, hit._id));
      const last = records.at(-1);
      return {
        records,
        ...(hits.length > pageSize && last ? { nextCursor: encodeCursor(last.id) } : {}),
      };
    },

    async count(countOptions: CountOptions) {
      const { collection, abortSignal } = countOptions;
      const os = open(abortSignal);
      const index = indexOf(collection);
      const query = selection(countOptions);
      const { body } = await send<{ count: number }>('Counting records', abortSignal, () =>
        os.count({ index, body: { query } as never }),
      );
      return body.count;
    },

    async dropCollection({ collection, abortSignal }: CallOptions & { collection: string }) {
      const os = open(abortSignal);
      const index = indexOf(collection);
      dimensionsByIndex.delete(index);
      await send(`Dropping collection "${collection}"`, abortSignal, () =>
        os.indices.delete({ index }, { ignore: [404] }),
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
