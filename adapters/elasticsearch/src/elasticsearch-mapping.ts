import {
  maxIndexedTermLength,
  metadataElementsField,
  metadataPathsField,
  metadataTermsField,
} from './elasticsearch-document.js';

/** Options of {@link elasticsearchIndexBody}. */
export interface ElasticsearchIndexBodyOptions {
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
 * The create-index request of a collection. `dynamic: strict` keeps metadata keys from becoming
 * mapped fields (no mapping explosion, no type conflicts between records): metadata is stored as
 * sent in a disabled object, and filtered through the derived keyword fields.
 */
export function elasticsearchIndexBody({ dimensions, settings }: ElasticsearchIndexBodyOptions) {
  return {
    ...(settings ? { settings } : {}),
    mappings: {
      dynamic: 'strict',
      properties: {
        id: { type: 'keyword' },
        vector: {
          type: 'dense_vector',
          dims: dimensions,
          index: true,
          similarity: 'cosine',
          // full-precision HNSW: quantized defaults would move scores off the exact cosine
          index_options: { type: 'hnsw', m: 16, ef_construction: 100 },
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
  const properties = (mapping as { properties?: Record<string, { type?: string; dims?: number }> })
    ?.properties;
  const vector = properties?.vector;
  return vector?.type === 'dense_vector' && typeof vector.dims === 'number'
    ? vector.dims
    : undefined;
}

/** Cosine similarity from an Elasticsearch k-NN score, which is `(1 + cosine) / 2`. */
export function cosineFromScore(score: number): number {
  return 2 * score - 1;
}
