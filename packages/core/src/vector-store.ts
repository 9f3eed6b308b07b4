import type { FilterExpression, FilterOperator } from './filter.js';
import type { HistoryEvent } from './history-store.js';
import type { Scope } from './scope.js';
import type { ScopeLock } from './scope-lock.js';

/** A JSON value, as stored in metadata. */
export type JsonValue =
  | string
  | number
  | boolean
  | null
  | JsonValue[]
  | { [key: string]: JsonValue };

/** One memory as a vector store holds it. Scope fields are first-class and indexed. */
export interface VectorRecord {
  /** Unique id (a UUID when created by the engine). */
  id: string;
  /** The embedding. Its length equals the collection's dimensions. */
  vector: number[];
  /** The memory text; what keyword search indexes. */
  text: string;
  /**
   * The text as keyword search should index it, when it differs from `text`: words of scripts
   * written without spaces (Chinese, Japanese, Thai, ...) separated by spaces and emoji spelled
   * as words (core's `keywordText`). The engine sets it; a store with native keyword search
   * indexes it in place of `text` (queries arrive in the same form). Stores need not return it.
   */
  keywordText?: string;
  /** Hash of the normalized text, used to skip exact duplicates. */
  hash?: string;
  /** The user the memory belongs to. */
  userId?: string;
  /** The agent the memory belongs to. */
  agentId?: string;
  /** The run the memory belongs to. */
  runId?: string;
  /** Free-form JSON metadata; what filters address. */
  metadata: Record<string, JsonValue>;
  /** ISO-8601 creation time. */
  createdAt: string;
  /** ISO-8601 time of the last change. */
  updatedAt: string;
}

/** A record without its vector, as returned when vectors are not asked for. */
export type StoredRecord = Omit<VectorRecord, 'vector'> & { vector?: number[] };

/** One result of {@link VectorStore.query}. */
export interface VectorMatch {
  /** The matching record (with `vector` only when `includeVectors` was set). */
  record: StoredRecord;
  /**
   * Relevance, higher is better. For vector queries: the similarity of the store's metric (for
   * cosine, 1 for an identical direction) whatever distance the backend computes natively. For
   * keyword queries: the backend's text relevance score (BM25 or similar).
   */
  score: number;
}

/** What a vector store can do; the engine and the conformance suite both read it. */
export interface VectorStoreCapabilities {
  /** `query` accepts `text` and runs native full-text (BM25-style) search. */
  keywordSearch: boolean;
  /** Filter operators the store translates natively. Others throw `UnsupportedFunctionalityError`. */
  filterOperators: readonly FilterOperator[];
  /** Largest number of records one `upsert` call accepts; the engine splits bigger batches. */
  maxBatchSize: number;
  /** Similarity metric of `score`. */
  metric: 'cosine' | 'dot' | 'euclidean';
  /** `commit` applies records and their history events atomically. */
  atomicHistory: boolean;
}

/** Options shared by every call. */
export interface CallOptions {
  /** Aborts the call. */
  abortSignal?: AbortSignal;
}

/** Options of {@link VectorStore.ensureCollection}. */
export interface EnsureCollectionOptions extends CallOptions {
  /** Collection (table, index, class) name. */
  collection: string;
  /** Vector length. An existing collection with another length gives `DimensionMismatchError`. */
  dimensions: number;
}

/** Options of {@link VectorStore.upsert}. */
export interface UpsertOptions extends CallOptions {
  collection: string;
  /** Records to insert or replace by id. */
  records: VectorRecord[];
}

/** Options of {@link VectorStore.query}. Give `vector`, or `text` for keyword search. */
export interface QueryOptions extends CallOptions {
  collection: string;
  /** Query embedding: a similarity search. */
  vector?: number[];
  /** Query text: a keyword search (requires `capabilities.keywordSearch`). */
  text?: string;
  /** Maximum number of matches. */
  topK: number;
  /** Only records whose scope fields match every field given. */
  scope?: Scope;
  /** Only records whose metadata satisfies the filter. Applied before topK, never after. */
  filter?: FilterExpression;
  /** Return each record's vector too. */
  includeVectors?: boolean;
}

/** Options of {@link VectorStore.get}. */
export interface GetOptions extends CallOptions {
  collection: string;
  ids: string[];
  /** Return each record's vector too. */
  includeVectors?: boolean;
}

/** Options of {@link VectorStore.delete}: by ids, or by scope and/or filter. */
export type DeleteOptions = CallOptions & { collection: string } & (
    | { ids: string[]; scope?: undefined; filter?: undefined }
    | { ids?: undefined; scope?: Scope; filter?: FilterExpression }
  );

/** Options of {@link VectorStore.list}. */
export interface ListOptions extends CallOptions {
  collection: string;
  scope?: Scope;
  filter?: FilterExpression;
  /** Page size. */
  limit: number;
  /** Cursor from a previous page's `nextCursor`. */
  cursor?: string;
  /** Return each record's vector too. */
  includeVectors?: boolean;
}

/** One page of {@link VectorStore.list}. */
export interface ListPage {
  records: StoredRecord[];
  /** Present when more records follow. */
  nextCursor?: string;
}

/** Options of {@link VectorStore.count}. */
export interface CountOptions extends CallOptions {
  collection: string;
  scope?: Scope;
  filter?: FilterExpression;
}

/** Options of {@link VectorStore.stats}. */
export interface StatsOptions extends CallOptions {
  collection: string;
}

/** The size of one collection, as the backend reports it; a field the backend cannot tell is left out. */
export interface CollectionStats {
  /** Records (vectors) in the collection. */
  vectors?: number;
  /**
   * Bytes the collection takes in the backend: its data and indexes, as the backend measures them
   * (on disk for Postgres and Elasticsearch, in memory for Redis).
   */
  bytes?: number;
}

/** Options of {@link VectorStore.adjacent}. */
export interface AdjacentOptions extends CallOptions {
  collection: string;
  /** The memories whose neighbours are wanted. Ids not selected by scope and filter are left out. */
  ids: string[];
  /** Only records whose scope fields match every field given: anchors and neighbours alike. */
  scope?: Scope;
  /** Only records whose metadata satisfies the filter. */
  filter?: FilterExpression;
  /** Records written just before each anchor, at most. */
  before: number;
  /** Records written just after each anchor, at most. */
  after: number;
  /** Return each record's vector too. */
  includeVectors?: boolean;
}

/** The neighbours of one anchor, in the order they were written (oldest first). */
export interface AdjacentRecords {
  /** The anchor's id. */
  id: string;
  /** Records written just before the anchor, oldest first, the nearest last. */
  before: StoredRecord[];
  /** Records written just after the anchor, the nearest first. */
  after: StoredRecord[];
}

/** Options of {@link VectorStore.commit}. */
export interface CommitOptions extends CallOptions {
  collection: string;
  /** Records to insert or replace. */
  upsert: VectorRecord[];
  /** Ids to delete. */
  delete: string[];
  /** History events written in the same transaction. */
  history: HistoryEvent[];
}

/**
 * Storage of memories as vectors. Implementations are adapters (`@engram/qdrant`, ...);
 * `createInMemoryVectorStore` in core is the reference.
 */
export interface VectorStore {
  /** Contract version. */
  readonly specificationVersion: 'v1';
  /** Adapter name, e.g. `sqlite`. */
  readonly provider: string;
  /** What the store supports. */
  readonly capabilities: VectorStoreCapabilities;
  /** Creates the collection if missing; idempotent. */
  ensureCollection(options: EnsureCollectionOptions): Promise<void>;
  /** Inserts or replaces records by id. */
  upsert(options: UpsertOptions): Promise<void>;
  /** Similarity or keyword search, best first. */
  query(options: QueryOptions): Promise<VectorMatch[]>;
  /** Records by id; missing ids are left out. */
  get(options: GetOptions): Promise<StoredRecord[]>;
  /**
   * Deletes by ids, or everything matching scope and filter; returns how many were deleted.
   * Without ids, a non-empty scope or a filter it throws `InvalidArgumentError` (emptying a
   * collection is `dropCollection`'s job).
   */
  delete(options: DeleteOptions): Promise<{ deleted: number }>;
  /** One page of records in a stable order; follow `nextCursor` for the rest. */
  list(options: ListOptions): Promise<ListPage>;
  /** Number of records matching scope and filter. */
  count(options: CountOptions): Promise<number>;
  /**
   * How many records the collection holds and how many bytes it takes, for metrics. Present only
   * when the backend can tell; engines that update their statistics after a write (search
   * engines, on refresh) may lag behind it briefly.
   */
  stats?(options: StatsOptions): Promise<CollectionStats>;
  /** Deletes the collection and everything in it. */
  dropCollection(options: CallOptions & { collection: string }): Promise<void>;
  /**
   * Applies upserts, deletes and history events in one transaction. Present only when
   * `capabilities.atomicHistory` is true (the store is also the history store).
   */
  commit?(options: CommitOptions): Promise<void>;
  /**
   * The records written just before and after each of `ids` among those that scope and filter
   * select, in the order memories were written: by `createdAt`, then by id (the engine's ids are
   * time-ordered, so memories written together keep their order). Optional: a store that can
   * answer it from an index declares it by having the method; core otherwise reads the scope
   * itself (`adjacentRecords`). Anchors are answered in the order of `ids`.
   */
  adjacent?(options: AdjacentOptions): Promise<AdjacentRecords[]>;
  /**
   * The store's own cross-process lock, when the backend can hold one (SQLite on a file,
   * Postgres): the engine takes it around each scope's reconcile-and-write step unless the
   * application passes another (`MemoryOptions.scopeLock`). Closed with the store.
   */
  readonly scopeLock?: ScopeLock;
  /** Releases connections and handles. Later calls throw `ClosedError`. Idempotent. */
  close(): Promise<void>;
  /** Same as `close()`, for `await using store = ...`. */
  [Symbol.asyncDispose](): Promise<void>;
}
