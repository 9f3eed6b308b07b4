import {
  maxIndexedTermLength,
  metadataElementsField,
  metadataPathsField,
  metadataTermsField,
} from './elasticsearch-compatible-document.js';

/** How one engine maps the `vector` field; the rest of the index is the same everywhere. */
export interface ElasticsearchCompatibleMapping {
  /** Mapping type of the vector field, e.g. `dense_vector`; an index without it is not ours. */
  vectorType: string;
  /** Key of the vector field's mapping that holds its length, e.g. `dims`. */
  dimensionsKey: string;
  /** The rest of the vector field's mapping: similarity, index method and its parameters. */
  vectorParameters: Record<string, unknown>;
  /** The index settings to create a collection with, given the caller's (if any). */
  indexSettings?(settings: Record<string, unknown> | undefined): Record<string, unknown>;
}

/** Options of {@link elasticsearchCompatibleIndexBody}. */
export interface IndexBodyOptions {
  /** Vector length of the collection. */
  dimensions: number;
  /** Extra index settings (shards, replicas, refresh interval), merged into the request. */
  settings?: Record<string, unknown>;
}

/** The body of a create-index request of a collection. */
export interface ElasticsearchCompatibleIndexBody {
  /** Index settings, when there are any. */
  settings?: Record<string, unknown>;
  /** The strict mapping of an Engram collection. */
  mappings: {
    /** Always `strict`: metadata keys never become mapped fields. */
    dynamic: 'strict';
    /** The fields of a stored document. */
    properties: Record<string, Record<string, unknown>>;
  };
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
export function elasticsearchCompatibleIndexBody(
  mapping: ElasticsearchCompatibleMapping,
  { dimensions, settings }: IndexBodyOptions,
): ElasticsearchCompatibleIndexBody {
  const indexSettings = mapping.indexSettings ? mapping.indexSettings(settings) : settings;
  return {
    ...(indexSettings ? { settings: indexSettings } : {}),
    mappings: {
      dynamic: 'strict',
      properties: {
        id: { type: 'keyword' },
        vector: {
          type: mapping.vectorType,
          [mapping.dimensionsKey]: dimensions,
          ...mapping.vectorParameters,
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
export function dimensionsOfMapping(
  mapping: ElasticsearchCompatibleMapping,
  indexMapping: unknown,
): number | undefined {
  const properties = (indexMapping as { properties?: Record<string, Record<string, unknown>> })
    ?.properties;
  const vector = properties?.vector;
  const dimensions = vector?.[mapping.dimensionsKey];
  return vector?.type === mapping.vectorType && typeof dimensions === 'number'
    ? dimensions
    : undefined;
}

/**
 * Cosine similarity from a k-NN score on a cosine field, which both engines report as
 * `(1 + cosine) / 2`. (OpenSearch's `cosinesimil` distance is `d = 1 - cos` and its score
 * `(2 - d) / 2` with the Lucene engine, and with every engine since 2.19; older Faiss and NMSLIB
 * indexes scored `1 / (1 + d)`.)
 */
export function cosineFromScore(score: number): number {
  return 2 * score - 1;
}
