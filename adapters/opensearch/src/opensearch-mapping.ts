import {
  maxIndexedTermLength,
  metadataElementsField,
  metadataPathsField,
  metadataTermsField,
} from './opensearch-document.js';

/** Options of {@link openSearchIndexBody}. */
export interface OpenSearchIndexBodyOptions {
  /** Vector length of the collection. */
  dimensions: number;
  /** Extra index settings (shards, replicas, refresh interval), merged into the request. */
  settings?: Record<string, unknown>;
}

const filterKeyword = {
  type: 'keyword',
  ignore_above: maxIndexedTermLength,
  // only term, range and wildcard queries read these fields; nothing sorts or aggregates on them
  doc_values: false,
};

const storedOnly = { type: 'keyword', index: false, doc_values: false };

/**
 * The create-index request of a collection: a k-NN index whose `knn_vector` uses the Lucene
 * engine's HNSW with `cosinesimil` (the engine that applies a `filter` inside the k-NN search,
 * exactly when the filter is selective). `dynamic: strict` keeps metadata keys from becoming
 * mapped fields: metadata is stored as sent in a disabled object, and filtered through the
 * derived keyword fields.
 */
export function openSearchIndexBody({ dimensions, settings }: OpenSearchIndexBodyOptions) {
  return {
    settings: { ...settings, 'index.knn': true },
    mappings: {
      dynamic: 'strict',
      properties: {
        id: { type: 'keyword' },
        vector: {
          type: 'knn_vector',
          dimension: dimensions,
          method: {
            name: 'hnsw',
            space_type: 'cosinesimil',
            engine: 'lucene',
            parameters: { m: 16, ef_construction: 100 },
          },
        },
        text: { type: 'text', analyzer: 'standard' },
        hash: { type: 'keyword' },
        user_id: { type: 'keyword' },
        agent_id: { type: 'keyword' },
        run_id: { type: 'keyword' },
        metadata: { type: 'object', enabled: false },
        created_at: storedOnly,
        updated_at: storedOnly,
        [metadataTermsField]: filterKeyword,
        [metadataElementsField]: filterKeyword,
        [metadataPathsField]: { type: 'keyword', doc_values: false },
      },
    },
  };
}

/** The vector length recorded in an index mapping, or undefined when it is not an Engram index. */
export function dimensionsOfMapping(mapping: unknown): number | undefined {
  const properties = (
    mapping as { properties?: Record<string, { type?: string; dimension?: number }> }
  )?.properties;
  const vector = properties?.vector;
  return vector?.type === 'knn_vector' && typeof vector.dimension === 'number'
    ? vector.dimension
    : undefined;
}

/**
 * Cosine similarity from an OpenSearch k-NN score. For `cosinesimil` the plugin's distance is
 * `d = 1 - cos` and the score `(2 - d) / 2 = (1 + cos) / 2` with the Lucene engine (and, since
 * OpenSearch 2.19, with every engine; older Faiss and NMSLIB indexes scored `1 / (1 + d)`).
 */
export function cosineFromScore(score: number): number {
  return 2 * score - 1;
}
