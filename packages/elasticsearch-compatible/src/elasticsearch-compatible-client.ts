import type { ElasticsearchCompatibleDocument } from './elasticsearch-compatible-document.js';
import type { ElasticsearchCompatibleQuery } from './elasticsearch-compatible-filter.js';
import type { ElasticsearchCompatibleIndexBody } from './elasticsearch-compatible-mapping.js';

/** How writes wait for visibility (the `refresh` parameter). */
export type Refresh = 'wait_for' | boolean;

/** One hit of a search or one document of a multi-get. */
export interface ElasticsearchCompatibleHit {
  /** The document id. */
  _id?: string | null;
  /** The relevance or k-NN score. */
  _score?: number | null;
  /** The stored document, without the excluded fields. */
  _source?: Partial<ElasticsearchCompatibleDocument> | null;
}

/** The part of a search response the store reads. */
export interface SearchResponse {
  /** The hits, best first (or in sort order). */
  hits: { hits: ElasticsearchCompatibleHit[] };
}

/** One item of a bulk response. */
export interface BulkItem {
  /** The document id. */
  _id?: string | null;
  /** HTTP status of this item. */
  status?: number;
  /** `created`, `updated`, `deleted`, `not_found`, ... */
  result?: string;
  /** Why the item failed. */
  error?: { type?: string; reason?: string | null } | null;
}

/** The part of a bulk response the store reads. */
export interface BulkResponse {
  /** Whether any item failed. */
  errors: boolean;
  /** One entry per operation, keyed by the operation (`index`, `delete`). */
  items: Partial<Record<string, BulkItem>>[];
}

/** The part of a multi-get response the store reads. */
export interface MgetResponse {
  /** One entry per id, in order: found or not, or an error. */
  docs: (ElasticsearchCompatibleHit & { found?: boolean; error?: unknown })[];
}

/** The part of an index's `_stats` response the store reads. */
export interface ElasticsearchCompatibleIndexStats {
  /** Sums over the index (or indices) asked for. */
  _all?: {
    /** Primary shards only: each document once. */
    primaries?: { docs?: { count?: number } };
    /** Every copy: primaries and replicas. */
    total?: { store?: { size_in_bytes?: number } };
  };
}

/** One request of a search: the body, with the index given apart. */
export type SearchBody = Record<string, unknown>;

/**
 * The calls the store makes, written once per engine over its own client: each takes the
 * call's `signal` and throws the client's own errors (the store maps them).
 */
export interface ElasticsearchCompatibleClient {
  /** Whether the index exists. */
  indexExists(index: string, signal?: AbortSignal): Promise<boolean>;
  /** Creates an index; fails with `resource_already_exists_exception` when it exists. */
  createIndex(
    index: string,
    body: ElasticsearchCompatibleIndexBody,
    signal?: AbortSignal,
  ): Promise<unknown>;
  /** The get-mapping response: index name -> `{ mappings }`. */
  getMapping(index: string, signal?: AbortSignal): Promise<Record<string, { mappings?: unknown }>>;
  /** A bulk request of `index` and `delete` operations (with the documents after `index`). */
  bulk(operations: object[], refresh: Refresh, signal?: AbortSignal): Promise<BulkResponse>;
  /** A search. */
  search(index: string, body: SearchBody, signal?: AbortSignal): Promise<SearchResponse>;
  /** Reads documents by id, without the `sourceExcludes` fields. */
  mget(
    index: string,
    ids: string[],
    sourceExcludes: string[],
    signal?: AbortSignal,
  ): Promise<MgetResponse>;
  /** Counts the documents a query matches. */
  count(index: string, query: ElasticsearchCompatibleQuery, signal?: AbortSignal): Promise<number>;
  /** Makes recent writes searchable. */
  refresh(index: string, signal?: AbortSignal): Promise<unknown>;
  /**
   * The index's `_stats` (metrics `docs` and `store`): documents in its primary shards and the
   * bytes every copy takes on disk. Without it the store's `stats` reports the count alone.
   */
  indexStats?(index: string, signal?: AbortSignal): Promise<ElasticsearchCompatibleIndexStats>;
  /** Deletes an index; an index that does not exist is not an error. */
  deleteIndex(index: string, signal?: AbortSignal): Promise<unknown>;
  /**
   * `_delete_by_query`, where the engine always has it. Without it the store pages through the
   * matching ids and deletes them in bulk (Elasticsearch keeps it in the reindex module, which
   * minimal distributions lack).
   */
  deleteByQuery?(
    index: string,
    query: ElasticsearchCompatibleQuery,
    refresh: boolean,
    signal?: AbortSignal,
  ): Promise<{ deleted?: number; failures?: unknown[] }>;
}
