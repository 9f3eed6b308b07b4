import {
  type ElasticsearchCompatibleMapping,
  elasticsearchCompatibleIndexBody,
  type IndexBodyOptions,
} from '@engram/elasticsearch-compatible';

/** The vector field of Elasticsearch 8: a `dense_vector` with cosine similarity. */
export const elasticsearchMapping: ElasticsearchCompatibleMapping = {
  vectorType: 'dense_vector',
  dimensionsKey: 'dims',
  vectorParameters: {
    index: true,
    similarity: 'cosine',
    // full-precision HNSW: quantized defaults would move scores off the exact cosine
    index_options: { type: 'hnsw', m: 16, ef_construction: 100 },
  },
};

/**
 * The create-index request of a collection: a `dense_vector` field searched with HNSW, and
 * `dynamic: strict` so metadata keys never become mapped fields (metadata is stored as sent in a
 * disabled object, and filtered through the derived keyword fields).
 */
export function elasticsearchIndexBody(options: IndexBodyOptions) {
  return elasticsearchCompatibleIndexBody(elasticsearchMapping, options);
}
