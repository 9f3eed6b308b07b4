import {
  type ElasticsearchCompatibleMapping,
  elasticsearchCompatibleIndexBody,
  type IndexBodyOptions,
} from '@engram/elasticsearch-compatible';

/**
 * The vector field of the k-NN plugin: a `knn_vector` on the Lucene engine's HNSW with
 * `cosinesimil` (the engine that applies a `filter` inside the k-NN search, exactly when the
 * filter is selective), in an index with `index.knn` set.
 */
export const openSearchMapping: ElasticsearchCompatibleMapping = {
  vectorType: 'knn_vector',
  dimensionsKey: 'dimension',
  vectorParameters: {
    method: {
      name: 'hnsw',
      space_type: 'cosinesimil',
      engine: 'lucene',
      parameters: { m: 16, ef_construction: 100 },
    },
  },
  indexSettings: (settings) => ({ ...settings, 'index.knn': true }),
};

/**
 * The create-index request of a collection: a k-NN index with a `knn_vector` field, and
 * `dynamic: strict` so metadata keys never become mapped fields (metadata is stored as sent in a
 * disabled object, and filtered through the derived keyword fields).
 */
export function openSearchIndexBody(options: IndexBodyOptions) {
  return elasticsearchCompatibleIndexBody(openSearchMapping, options);
}
