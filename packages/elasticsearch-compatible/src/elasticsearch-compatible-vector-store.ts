import {
  assertPositiveInteger,
  assertRecords,
  assertVectorLength,
  collectionDimensionMismatch,
  defineVectorStore,
  deleteNeedsSelectionMessage,
  type Lifecycle,
} from '@engram/adapter-kit';
import {
  decodeCursor,
  encodeCursor,
  type FilterExpression,
  InvalidArgumentError,
  normalizeScope,
  type Scope,
  type StoredRecord,
  type VectorStore,
} from '@engram/core';
import type {
  BulkItem,
  BulkResponse,
  ElasticsearchCompatibleClient,
  ElasticsearchCompatibleHit,
  Refresh,
  SearchBody,
} from './elasticsearch-compatible-client.js';
import {
  type ElasticsearchCompatibleConnectionOptions,
  elasticsearchCompatibleConnection,
} from './elasticsearch-compatible-connection.js';
import type {
  ClosableClient,
  ElasticsearchCompatibleDialect,
  ElasticsearchCompatibleStoreOptions,
} from './elasticsearch-compatible-dialect.js';
import { derivedFields, fromSource, toDocument } from './elasticsearch-compatible-document.js';
import {
  type ElasticsearchCompatibleResponse,
  readResponseError,
  toElasticsearchCompatibleError,
} from './elasticsearch-compatible-errors.js';
import {
  type ElasticsearchCompatibleQuery,
  elasticsearchCompatibleFilterOperators,
  selectionQuery,
} from './elasticsearch-compatible-filter.js';
import {
  cosineFromScore,
  dimensionsOfMapping,
  elasticsearchCompatibleIndexBody,
} from './elasticsearch-compatible-mapping.js';

/** The limit on `k`, `num_candidates` and a search page (`index.max_result_window`). */
export const maxResultWindow = 10_000;
/** Ids fetched per page while deleting by scope and filter without `_delete_by_query`. */
const deletePageSize = 1_000;

function sourceExcludes(includeVectors: boolean | undefined): string[] {
  return includeVectors ? derivedFields : [...derivedFields, 'vector'];
}

function recordOf(hit: ElasticsearchCompatibleHit): StoredRecord {
  return fromSource(hit._source ?? {}, hit._id ?? '');
}

/** Throws `InvalidArgumentError` for an index name the engines refuse. */
export function checkIndexName(index: string, source: string, productName: string): void {
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
      message: `Index name "${index}" ${problem}; ${productName} index names are lowercase, without \\ / * ? " < > | , # : or spaces, and do not start with -, _ or +.`,
    });
  }
}

/**
 * A `VectorStore` on an engine that speaks the Elasticsearch dialect: one index per collection,
 * k-NN with scope and filter applied inside the search, BM25 over `text`, and metadata stored
 * exactly as given plus typed keyword terms for filtering. The engine supplies its client calls,
 * its vector mapping and its k-NN query; everything else is the same for every engine.
 */
export function createElasticsearchCompatibleVectorStore<VendorClient extends ClosableClient>(
  dialect: ElasticsearchCompatibleDialect<VendorClient>,
  storeOptions: ElasticsearchCompatibleStoreOptions & ElasticsearchCompatibleConnectionOptions = {},
): VectorStore {
  const { provider: source, mapping } = dialect;
  const { indexPrefix = '', indexSettings, refresh = 'wait_for' } = storeOptions;
  const readResponse = dialect.readResponse ?? readResponseError;
  const dimensionsByIndex = new Map<string, number>();
  let calls: ElasticsearchCompatibleClient | undefined;
  let created: VendorClient | undefined;

  function createClient(): VendorClient {
    const settings = { source, environmentPrefix: dialect.environmentPrefix };
    return dialect.apiKeys
      ? dialect.createClient(
          elasticsearchCompatibleConnection(storeOptions, { ...settings, apiKeys: true }),
        )
      : dialect.createClient(
          elasticsearchCompatibleConnection(storeOptions, { ...settings, apiKeys: false }),
        );
  }

  function connected(): ElasticsearchCompatibleClient {
    if (!calls) {
      let client = dialect.client;
      if (!client) {
        created = createClient();
        client = created;
      }
      calls = dialect.calls(client);
    }
    return calls;
  }

  const toError = (error: unknown, action: string, abortSignal?: AbortSignal) =>
    toElasticsearchCompatibleError(error, {
      source,
      action,
      readResponse,
      ...(abortSignal ? { abortSignal } : {}),
    });

  return defineVectorStore({
    provider: source,
    capabilities: {
      keywordSearch: true,
      filterOperators: elasticsearchCompatibleFilterOperators,
      maxBatchSize: 500,
      metric: 'cosine',
      atomicHistory: false,
    },
    toError,
    onClose: async () => {
      dimensionsByIndex.clear();
      await created?.close();
    },
    methods: (lifecycle: Lifecycle) => {
      /** Runs one request: checks the store and signal first, maps what the client throws. */
      async function call<T>(
        action: string,
        signal: AbortSignal | undefined,
        request: (client: ElasticsearchCompatibleClient) => Promise<T>,
      ): Promise<T> {
        lifecycle.check(signal);
        try {
          return await request(connected());
        } catch (error) {
          throw toError(error, action, signal);
        }
      }

      function failure(action: string, item: Pick<BulkItem, 'status' | 'error'> | undefined) {
        const response: ElasticsearchCompatibleResponse = {
          ...(item?.status !== undefined ? { status: item.status } : {}),
          ...(item?.error?.type ? { type: item.error.type } : {}),
          ...(item?.error?.reason ? { reason: item.error.reason } : {}),
        };
        return toElasticsearchCompatibleError(item?.error ?? item ?? action, {
          source,
          action,
          response,
        });
      }

      function indexOf(collection: string): string {
        const index = `${indexPrefix}${collection}`;
        checkIndexName(index, source, dialect.productName);
        return index;
      }

      function selection(options: { scope?: Scope; filter?: FilterExpression | undefined }) {
        return selectionQuery(normalizeScope(options.scope, { source }), options.filter, {
          source,
        });
      }

      async function dimensionsOf(
        collection: string,
        index: string,
        signal?: AbortSignal,
      ): Promise<number> {
        const cached = dimensionsByIndex.get(index);
        if (cached !== undefined) return cached;
        const response = await call(`Reading collection "${collection}"`, signal, (client) =>
          client.getMapping(index, signal),
        );
        const dimensions = dimensionsOfMapping(mapping, Object.values(response)[0]?.mappings);
        if (dimensions === undefined) {
          throw new InvalidArgumentError({
            source,
            message: `Index "${index}" exists but is not an Engram collection (no ${mapping.vectorType} field "vector"); use another collection name or indexPrefix.`,
          });
        }
        dimensionsByIndex.set(index, dimensions);
        return dimensions;
      }

      async function search(action: string, index: string, body: SearchBody, signal?: AbortSignal) {
        const response = await call(action, signal, (client) => client.search(index, body, signal));
        return response.hits.hits;
      }

      async function deleteIds(
        index: string,
        ids: string[],
        refreshAfter: Refresh,
        signal: AbortSignal | undefined,
      ): Promise<number> {
        if (ids.length === 0) return 0;
        const operations = ids.map((id) => ({ delete: { _index: index, _id: id } }));
        const response: BulkResponse = await call('Deleting records', signal, (client) =>
          client.bulk(operations, refreshAfter, signal),
        );
        let deleted = 0;
        for (const entry of response.items) {
          const item = entry.delete;
          if (item?.result === 'deleted') deleted++;
          else if (item?.error && item.status !== 404) {
            throw failure(`Deleting record "${item._id}"`, item);
          }
        }
        return deleted;
      }

      async function deleteByQuery(
        index: string,
        query: ElasticsearchCompatibleQuery,
        signal: AbortSignal | undefined,
      ): Promise<number> {
        if (!connected().deleteByQuery) return deleteMatching(index, query, signal);
        const action = 'Deleting records by scope and filter';
        const response = await call(action, signal, (client) =>
          client.deleteByQuery!(index, query, refresh !== false, signal),
        );
        if (response.failures && response.failures.length > 0) {
          const reason = JSON.stringify(response.failures[0]);
          throw toElasticsearchCompatibleError(response.failures, {
            source,
            action,
            response: { status: 409, type: 'delete_by_query_failures', reason },
          });
        }
        return response.deleted ?? 0;
      }

      async function deleteMatching(
        index: string,
        query: ElasticsearchCompatibleQuery,
        signal: AbortSignal | undefined,
      ): Promise<number> {
        let deleted = 0;
        let after: string | undefined;
        for (;;) {
          const hits = await search(
            'Finding records to delete',
            index,
            {
              query,
              sort: [{ id: 'asc' }],
              size: deletePageSize,
              _source: false,
              track_total_hits: false,
              ...(after !== undefined ? { search_after: [after] } : {}),
            },
            signal,
          );
          const ids = hits.map((hit) => hit._id ?? '');
          deleted += await deleteIds(index, ids, false, signal);
          if (ids.length < deletePageSize) break;
          after = ids.at(-1);
        }
        if (deleted > 0 && refresh !== false) {
          await call('Refreshing after delete', signal, (client) => client.refresh(index, signal));
        }
        return deleted;
      }

      return {
        async ensureCollection({ collection, dimensions, abortSignal }) {
          assertPositiveInteger(dimensions, 'dimensions', source);
          const index = indexOf(collection);
          const exists = await call(`Checking collection "${collection}"`, abortSignal, (client) =>
            client.indexExists(index, abortSignal),
          );
          if (!exists) {
            const body = elasticsearchCompatibleIndexBody(mapping, {
              dimensions,
              ...(indexSettings ? { settings: indexSettings } : {}),
            });
            const isNew = await call(
              `Creating collection "${collection}"`,
              abortSignal,
              async (client) => {
                try {
                  await client.createIndex(index, body, abortSignal);
                  return true;
                } catch (error) {
                  // another process created it first: then its dimensions must match
                  if (readResponse(error)?.type === 'resource_already_exists_exception') {
                    return false;
                  }
                  throw error;
                }
              },
            );
            if (isNew) {
              dimensionsByIndex.set(index, dimensions);
              return;
            }
          }
          dimensionsByIndex.delete(index);
          const existing = await dimensionsOf(collection, index, abortSignal);
          if (existing !== dimensions) {
            throw collectionDimensionMismatch({
              source,
              collection,
              existing: existing,
              requested: dimensions,
            });
          }
        },

        async upsert({ collection, records, abortSignal }) {
          const index = indexOf(collection);
          const dimensions = await dimensionsOf(collection, index, abortSignal);
          assertRecords(records, { source, dimensions, collection });
          if (records.length === 0) return;
          const operations = records.flatMap((record) => [
            { index: { _index: index, _id: record.id } },
            toDocument(record),
          ]);
          const response = await call('Upserting records', abortSignal, (client) =>
            client.bulk(operations, refresh, abortSignal),
          );
          if (response.errors) {
            const failed = response.items.find((item) => item.index?.error)?.index;
            throw failure(`Upserting record "${failed?._id}"`, failed);
          }
        },

        async query(options) {
          const { collection, topK, vector, text, includeVectors, abortSignal } = options;
          const index = indexOf(collection);
          assertPositiveInteger(topK, 'topK', source);
          if (topK > maxResultWindow) {
            throw new InvalidArgumentError({
              source,
              message: `topK must be at most ${maxResultWindow}, got ${topK}.`,
            });
          }
          const filter = selection(options);
          const _source = { excludes: sourceExcludes(includeVectors) };
          if (vector) {
            assertVectorLength(vector, await dimensionsOf(collection, index, abortSignal), {
              source,
              what: 'The query vector',
              collection,
            });
            const body = { ...dialect.vectorQuery({ vector, topK, filter }), size: topK, _source };
            const hits = await search('Searching by vector', index, body, abortSignal);
            return hits.map((hit) => ({
              record: recordOf(hit),
              score: cosineFromScore(hit._score ?? 0),
            }));
          }
          if (text !== undefined) {
            const body = {
              query: { bool: { must: [{ match: { text: { query: text } } }], filter: [filter] } },
              size: topK,
              _source,
            };
            const hits = await search('Searching by text', index, body, abortSignal);
            return hits
              .filter((hit) => (hit._score ?? 0) > 0)
              .map((hit) => ({ record: recordOf(hit), score: hit._score ?? 0 }));
          }
          throw new InvalidArgumentError({ source, message: 'query needs a vector or a text.' });
        },

        async get({ collection, ids, includeVectors, abortSignal }) {
          const index = indexOf(collection);
          if (ids.length === 0) {
            await dimensionsOf(collection, index, abortSignal);
            return [];
          }
          const response = await call('Reading records', abortSignal, (client) =>
            client.mget(index, ids, sourceExcludes(includeVectors), abortSignal),
          );
          const records: StoredRecord[] = [];
          for (const document of response.docs) {
            if (document.error) {
              const error = document.error as BulkItem['error'];
              throw failure(`Reading records of "${collection}"`, { status: 404, error });
            }
            if (document.found) records.push(recordOf(document));
          }
          return records;
        },

        async delete(options) {
          const { collection, abortSignal } = options;
          const index = indexOf(collection);
          if (options.ids) {
            if (options.ids.length === 0) {
              await dimensionsOf(collection, index, abortSignal);
              return { deleted: 0 };
            }
            return { deleted: await deleteIds(index, options.ids, refresh, abortSignal) };
          }
          const scope = normalizeScope(options.scope, { source });
          if (!options.filter && Object.keys(scope).length === 0) {
            throw new InvalidArgumentError({
              source,
              message: deleteNeedsSelectionMessage,
            });
          }
          const query = selection({ scope, filter: options.filter });
          return { deleted: await deleteByQuery(index, query, abortSignal) };
        },

        async list(options) {
          const { collection, limit, cursor, includeVectors, abortSignal } = options;
          const index = indexOf(collection);
          assertPositiveInteger(limit, 'limit', source);
          const after = decodeCursor(cursor, source);
          // a page larger than the result window is shortened, with a cursor for the rest
          const pageSize = Math.min(limit, maxResultWindow - 1);
          const body = {
            query: selection(options),
            sort: [{ id: 'asc' }],
            size: pageSize + 1,
            track_total_hits: false,
            _source: { excludes: sourceExcludes(includeVectors) },
            ...(after !== undefined ? { search_after: [after] } : {}),
          };
          const hits = await search('Listing records', index, body, abortSignal);
          const records = hits.slice(0, pageSize).map(recordOf);
          const last = records.at(-1);
          return {
            records,
            ...(hits.length > pageSize && last ? { nextCursor: encodeCursor(last.id) } : {}),
          };
        },

        async count(options) {
          const index = indexOf(options.collection);
          const query = selection(options);
          return call('Counting records', options.abortSignal, (client) =>
            client.count(index, query, options.abortSignal),
          );
        },

        async stats({ collection, abortSignal }) {
          const index = indexOf(collection);
          const stats = await call(`Reading the stats of "${collection}"`, abortSignal, (client) =>
            client.indexStats ? client.indexStats(index, abortSignal) : Promise.resolve(undefined),
          );
          if (!stats) {
            return {
              vectors: await call('Counting records', abortSignal, (client) =>
                client.count(index, selection({}), abortSignal),
              ),
            };
          }
          const vectors = stats._all?.primaries?.docs?.count;
          const bytes = stats._all?.total?.store?.size_in_bytes;
          return {
            ...(vectors === undefined ? {} : { vectors }),
            ...(bytes === undefined ? {} : { bytes }),
          };
        },

        async dropCollection({ collection, abortSignal }) {
          const index = indexOf(collection);
          dimensionsByIndex.delete(index);
          await call(`Dropping collection "${collection}"`, abortSignal, (client) =>
            client.deleteIndex(index, abortSignal),
          );
        },
      };
    },
  });
}
