import { Client, type estypes } from '@elastic/elasticsearch';
import type { VectorStore } from '@engram/core';
import {
  type BulkResponse,
  createElasticsearchCompatibleVectorStore,
  type ElasticsearchCompatibleClient,
  maxResultWindow,
  type SearchResponse,
} from '@engram/elasticsearch-compatible';
import { elasticsearchMapping } from './elasticsearch-mapping.js';
import type { ElasticsearchVectorStoreOptions } from './elasticsearch-vector-store-options.js';

function transport(signal?: AbortSignal) {
  return signal ? { signal } : {};
}

/** The store's calls over the official client, which returns response bodies and takes a signal. */
function elasticsearchCalls(client: Client): ElasticsearchCompatibleClient {
  return {
    indexExists: (index, signal) => client.indices.exists({ index }, transport(signal)),
    createIndex: (index, body, signal) =>
      client.indices.create({ index, ...body } as estypes.IndicesCreateRequest, transport(signal)),
    getMapping: (index, signal) => client.indices.getMapping({ index }, transport(signal)),
    bulk: async (operations, refresh, signal) =>
      (await client.bulk({ operations, refresh }, transport(signal))) as BulkResponse,
    search: async (index, body, signal) =>
      (await client.search({ index, ...body }, transport(signal))) as SearchResponse,
    mget: (index, ids, excludes, signal) =>
      client.mget({ index, ids, _source_excludes: excludes }, transport(signal)),
    count: async (index, query, signal) =>
      (await client.count({ index, query }, transport(signal))).count,
    refresh: (index, signal) => client.indices.refresh({ index }, transport(signal)),
    indexStats: (index, signal) =>
      client.indices.stats({ index, metric: ['docs', 'store'] }, transport(signal)),
    deleteIndex: (index, signal) =>
      client.indices.delete({ index }, { ...transport(signal), ignore: [404] }),
  };
}

/**
 * A `VectorStore` on Elasticsearch 8: one index per collection, `dense_vector` k-NN (cosine,
 * full-precision HNSW) with scope and filter as pre-filters, BM25 over `text`, and metadata
 * stored exactly as given plus typed keyword terms for filtering.
 */
export function createElasticsearchVectorStore(
  options: ElasticsearchVectorStoreOptions = {},
): VectorStore {
  return createElasticsearchCompatibleVectorStore(
    {
      vectorQuery: ({ vector, topK, filter }) => ({
        knn: {
          field: 'vector',
          query_vector: vector,
          k: topK,
          num_candidates: Math.min(
            maxResultWindow,
            Math.max(topK, options.numCandidates ?? Math.max(100, topK * 10)),
          ),
          filter,
        },
      }),
      provider: 'elasticsearch',
      productName: 'Elasticsearch',
      environmentPrefix: 'ELASTICSEARCH',
      apiKeys: true,
      mapping: elasticsearchMapping,
      client: options.client,
      createClient: (connection) => new Client({ ...options.clientOptions, ...connection }),
      calls: elasticsearchCalls,
    },
    options,
  );
}
