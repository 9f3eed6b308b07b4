import type { VectorStore } from '@engram/core';
import {
  type BulkResponse,
  createElasticsearchCompatibleVectorStore,
  type ElasticsearchCompatibleClient,
  type ElasticsearchCompatibleIndexStats,
  isMatchAll,
  type MgetResponse,
  maxResultWindow,
  type SearchResponse,
} from '@engram/elasticsearch-compatible';
import { Client } from '@opensearch-project/opensearch';
import { openSearchMapping } from './opensearch-mapping.js';
import type { OpenSearchVectorStoreOptions } from './opensearch-vector-store-options.js';

/** A request of the client: a promise of the response that can also be aborted. */
type Pending = Promise<{ body: unknown; statusCode?: number | null }> & { abort?: () => void };

/** Runs one request, aborting it when `signal` fires; resolves to the response. */
async function send<T>(
  signal: AbortSignal | undefined,
  request: () => Pending,
): Promise<{ body: T; statusCode: number | null }> {
  let pending: Pending | undefined;
  // abort() returns the request itself, a thenable: a listener must not hand it back, or the
  // event target reports its rejection as uncaught
  const onAbort = () => {
    pending?.abort?.();
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    pending = request();
    const response = await pending;
    return { body: response.body as T, statusCode: response.statusCode ?? null };
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

async function bodyOf<T>(signal: AbortSignal | undefined, request: () => Pending): Promise<T> {
  return (await send<T>(signal, request)).body;
}

/** The store's calls over the OpenSearch client, which takes request bodies under `body`. */
function openSearchCalls(client: Client): ElasticsearchCompatibleClient {
  return {
    indexExists: async (index, signal) =>
      (await send(signal, () => client.indices.exists({ index }, { ignore: [404] }))).statusCode ===
      200,
    createIndex: (index, body, signal) =>
      send(signal, () => client.indices.create({ index, body: body as never })),
    getMapping: (index, signal) => bodyOf(signal, () => client.indices.getMapping({ index })),
    bulk: (operations, refresh, signal) =>
      bodyOf<BulkResponse>(signal, () =>
        client.bulk({ body: operations as never, refresh: refresh as never }),
      ),
    search: (index, body, signal) =>
      bodyOf<SearchResponse>(signal, () => client.search({ index, body: body as never })),
    mget: (index, ids, excludes, signal) =>
      bodyOf<MgetResponse>(signal, () =>
        client.mget({ index, body: { ids }, _source_excludes: excludes }),
      ),
    count: async (index, query, signal) =>
      (
        await bodyOf<{ count: number }>(signal, () =>
          client.count({ index, body: { query } as never }),
        )
      ).count,
    refresh: (index, signal) => send(signal, () => client.indices.refresh({ index })),
    indexStats: (index, signal) =>
      bodyOf<ElasticsearchCompatibleIndexStats>(signal, () =>
        client.indices.stats({ index, metric: ['docs', 'store'] as never }),
      ),
    deleteIndex: (index, signal) =>
      send(signal, () => client.indices.delete({ index }, { ignore: [404] })),
    deleteByQuery: (index, query, refresh, signal) =>
      bodyOf(signal, () => client.deleteByQuery({ index, body: { query } as never, refresh })),
  };
}

/**
 * A `VectorStore` on OpenSearch with the k-NN plugin: one index per collection, a Lucene-engine
 * HNSW `knn_vector` (cosine) searched with scope and filter inside the k-NN query, BM25 over
 * `text`, and metadata stored exactly as given plus typed keyword terms for filtering.
 */
export function createOpenSearchVectorStore(
  options: OpenSearchVectorStoreOptions = {},
): VectorStore {
  return createElasticsearchCompatibleVectorStore(
    {
      vectorQuery: ({ vector, topK, filter }) => ({
        query: {
          knn: {
            vector: {
              vector,
              // The Lucene engine explores `k` candidates per segment and `size` keeps the best
              // `topK`: asking for `topK` alone misses true neighbours on small indexes.
              k: Math.min(
                maxResultWindow,
                Math.max(topK, options.numCandidates ?? Math.max(100, topK * 10)),
              ),
              ...(isMatchAll(filter) ? {} : { filter }),
              ...(options.efSearch !== undefined
                ? { method_parameters: { ef_search: Math.max(topK, options.efSearch) } }
                : {}),
            },
          },
        },
      }),
      provider: 'opensearch',
      productName: 'OpenSearch',
      environmentPrefix: 'OPENSEARCH',
      mapping: openSearchMapping,
      client: options.client,
      createClient: (connection) => new Client({ ...options.clientOptions, ...connection }),
      calls: openSearchCalls,
    },
    options,
  );
}
