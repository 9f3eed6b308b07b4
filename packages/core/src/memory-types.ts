import type { Embedder } from './embedder.js';
import type { FilterInput } from './filter.js';
import type { GraphChanges, RelationItem } from './graph-memory.js';
import type { GraphStore } from './graph-store.js';
import type { HistoryArchiveDestination, HistoryArchiveManifest } from './history-archive.js';
import type { HistoryStore } from './history-store.js';
import type { LLM } from './llm.js';
import type { RedactionOptions } from './redaction.js';
import type { ReembedState } from './reembed-memories.js';
import type { Reranker } from './reranker.js';
import type { RewriteQueryOption } from './rewrite-query.js';
import type { Scope } from './scope.js';
import type { ScopeLock } from './scope-lock.js';
import type { SearchContext } from './search-context.js';
import type { OperationUsage } from './usage-meter.js';
import type { JsonValue, VectorStore } from './vector-store.js';

/**
 * How `add` infers memories with the LLM. `two-call` (the default) extracts facts in one call,
 * then reconciles them with the scope's related memories in a second call, made only when some
 * memory is related. `single-call` asks one call for both, given the memories related to the
 * conversation itself: one model round trip instead of two, at the cost of that call being made
 * under the scope's lock (concurrent adds of one scope wait for each other's model call).
 */
export type AddMode = 'two-call' | 'single-call';

/**
 * Components and tuning of a {@link Memory}. Everything is optional: a component left out is
 * filled in from the environment (see `createMemoryFromEnvironment`), so `new Memory()` works
 * offline with the embedded store.
 */
export interface MemoryOptions {
  /** Where memories live. Default: the embedded SQLite store (`@engram/sqlite`) under `ENGRAM_HOME`. */
  vectorStore?: VectorStore;
  /**
   * Where the audit history lives. Default: the vector store itself when it keeps history
   * atomically (SQLite, pgvector, in-memory), else history in process memory, which is lost on
   * exit (`describeHistory()` says which one is in use; `requireDurableHistory` refuses it).
   */
  historyStore?: HistoryStore;
  /**
   * Refuse to open (`InvalidArgumentError`) rather than keep the history in process memory:
   * for services whose audit trail must survive a restart and be the same in every replica.
   * Default false.
   */
  requireDurableHistory?: boolean;
  /**
   * Turns texts into vectors. Default: `ENGRAM_EMBEDDER`, else the embedder the data directory
   * recorded for the collection, else OpenAI when `OPENAI_API_KEY` is set, else the local model
   * (`@engram/transformers`) when it can be had, else the offline hash embedder.
   */
  embedder?: Embedder;
  /** Extracts and reconciles facts. `null` turns inference off. Default: `ENGRAM_LLM`, or OpenAI when `OPENAI_API_KEY` is set, else none. */
  llm?: LLM | null;
  /** Optional second stage of `search`. */
  reranker?: Reranker;
  /**
   * Makes changes of one scope take turns across every process that shares the stores (e.g. a
   * Redis lock for several servers on one vector store). `null` keeps the ordering within this
   * process only. Default: the vector store's own lock (`vectorStore.scopeLock`: SQLite on a
   * file, pgvector), else none. Closed with the Memory.
   */
  scopeLock?: ScopeLock | null;
  /**
   * Where `reembed` keeps its progress and records the new embedder once complete. Default:
   * the data directory's `embedders.json` for the embedded store built from the environment,
   * else process memory (an interrupted run can be resumed by the same `Memory`).
   */
  reembedState?: ReembedState;
  /**
   * Keeps a knowledge graph of entities and relations beside the vectors (needs an LLM to
   * extract them). `null` turns it off. Default: `ENGRAM_GRAPH` (`kuzu` for the embedded one), else none.
   */
  graphStore?: GraphStore | null;
  /** Similarity above which a new entity merges into an existing one. Default 0.7. */
  graphThreshold?: number;
  /**
   * Weight of keyword (BM25) relevance against vector similarity when `search` fuses them, from
   * 0 (vectors only) to 1 (keywords only). Default: the embedder's (`defaultKeywordWeight`: 0.8
   * with the offline hash embedder, 0.3 with all-MiniLM-L6-v2, 0.5 with any other).
   */
  keywordWeight?: number;
  /**
   * Default relevance cut-off of `search`: results whose vector similarity (`scores.vector`) is
   * below it are left out (a call's `threshold` overrides it; 0 turns it off). Default: the
   * embedder's (`defaultSearchThreshold`; see `searchThresholds` for the models Engram knows,
   * 0 for others).
   */
  searchThreshold?: number;
  /**
   * Default `context` of `search`: neighbouring memories added after the first results. Off by
   * default; `true` means `defaultSearchContext` (`{ before: 0, after: 1, hits: 2 }`). Stores with
   * `adjacent()` (SQLite, in memory) answer it natively; for others core reads scopes of up to
   * 2,000 memories.
   */
  searchContext?: SearchContext | boolean;
  /** Collection (table, index) name in the vector store. Default `ENGRAM_COLLECTION` or `memories`. */
  collection?: string;
  /**
   * Replaces the default system prompts; `{today}` in the extraction and single-call prompts
   * becomes the date.
   */
  prompts?: { extraction?: string; reconcile?: string; singleCall?: string };
  /**
   * How `add` infers memories: `two-call` (extract, then reconcile) or `single-call` (one model
   * call that answers the changes directly; see {@link AddMode}). A call's `addMode` overrides it.
   * Default `ENGRAM_ADD_MODE` for a Memory built from the environment, else `two-call`.
   */
  addMode?: AddMode;
  /**
   * Existing memories fetched per new fact for reconciliation (per message of the conversation
   * in `single-call` mode). Default 5.
   */
  candidatesPerFact?: number;
  /** Extra attempts after an unusable LLM answer. Default 1. */
  llmRetries?: number;
  /**
   * How long history events keep their texts: `90d`, `12h`, ... or milliseconds. `pruneHistory`
   * erases the texts of older events (the events stay). Default: kept until the memory is
   * deleted with `erase` or its scope is reset.
   */
  historyTextRetention?: string | number;
  /** Whether `deleteExpired` erases the texts of the history events of what it deletes. Default false. */
  eraseExpired?: boolean;
  /** Who is recorded as making changes in the history. Default `engine`. */
  actor?: string;
  /**
   * Replaces sensitive data (emails, phone numbers, card numbers, IBANs, API keys and tokens, IP
   * addresses) with typed placeholders such as `[EMAIL]` before anything is extracted or stored:
   * in the messages of `add` (so the LLM never sees it), and in the texts and metadata values of
   * `add`, `update` and `import`. `true` runs every built-in detector; options choose them and add
   * custom detectors. What was replaced is counted in `usage.redactions`. Default: off
   * (`ENGRAM_REDACT=1` turns it on for a Memory built from the environment).
   */
  redact?: boolean | RedactionOptions;
  /** Clock, for tests. */
  now?: () => Date;
}

/** A stored memory as callers see it, with the ids of its scope. */
export interface MemoryItem extends Scope {
  /** Memory id. */
  id: string;
  /** The memory text. */
  memory: string;
  /** Hash of the normalized text. */
  hash?: string;
  /** Free-form JSON metadata. */
  metadata: Record<string, JsonValue>;
  /** ISO-8601 creation time. */
  createdAt: string;
  /** ISO-8601 time of the last change. */
  updatedAt: string;
  /** ISO-8601 time after which the memory is no longer returned (and `deleteExpired` deletes it). */
  expiresAt?: string;
}

/** The signals behind a search result's score. */
export interface SearchScores {
  /** Vector similarity to the query (1 = same direction); what `threshold` applies to. */
  vector: number;
  /** Keyword (BM25-style) relevance as the store scored it, when the memory matched the query's words. */
  keyword?: number;
  /**
   * Weighted fusion of the two: `(1 - keywordWeight) * vector + keywordWeight * keyword / best
   * keyword of the query`. What orders the results when no reranker runs.
   */
  fused: number;
  /** The reranker's score, when a reranker ran; it orders the results then. */
  rerank?: number;
}

/** One signal's part in a search result's score (`explain: true`). */
export interface ScoreContribution {
  /** Which signal. */
  signal: 'vector' | 'keyword' | 'rerank';
  /** Its value as computed (similarity, BM25 score, reranker score); 0 when the memory did not match. */
  raw: number;
  /** The value fused: the similarity itself, the keyword score divided by the query's best one. */
  normalized: number;
  /** Its weight in the fusion (`keywordWeight` and its complement; 1 for the reranker). */
  weight: number;
  /** `weight * normalized`: what it adds to the score. */
  contribution: number;
}

/** How a search result's score came about (`explain: true`). */
export interface ScoreExplanation {
  /**
   * What ordered the results: the fused score, the reranker (which then replaces it), or, for a
   * neighbour added by `context`, the hit it was placed after (its signals are its own).
   */
  rankedBy: 'fusion' | 'rerank' | 'context';
  /** The similarity cut-off that applied (0: none). */
  threshold: number;
  /** Each signal: vector similarity, keyword relevance (when keyword search ran), reranker. */
  contributions: ScoreContribution[];
}

/** A search result. */
export interface SearchResultItem extends MemoryItem {
  /**
   * The score the results are ordered by, higher is better: the fused score of vector similarity
   * and keyword relevance (`scores.fused`), or the reranker's (`scores.rerank`) when one ran.
   */
  score: number;
  /** The signals behind `score`. */
  scores: SearchScores;
  /** Keyword (BM25) relevance when the memory matched the query's words (same as `scores.keyword`). */
  keywordScore?: number;
  /** Reranker score when a reranker ran (same as `scores.rerank`). */
  rerankScore?: number;
  /** Each signal's raw value, normalized value, weight and contribution; with `explain: true`. */
  explanation?: ScoreExplanation;
  /**
   * Set on a memory added as a neighbour of a hit (search `context`): the hit's id. Its `score`
   * is the hit's, which placed it; its `scores` are its own, and the threshold does not apply.
   */
  neighbourOf?: string;
}

/** One change made by `add`. */
export interface MemoryChange {
  /** Id of the memory changed. */
  id: string;
  /** Its text after the change (before it, for DELETE). */
  memory: string;
  /** What happened. */
  event: 'ADD' | 'UPDATE' | 'DELETE';
  /** The text before an UPDATE or DELETE. */
  previousMemory?: string;
}

/** Scope ids plus the cancellation signal, shared by most calls. */
export interface ScopedOptions extends Scope {
  /** Cancels the call. */
  abortSignal?: AbortSignal;
}

/** Options of {@link Memory.delete}. */
export interface DeleteOptions extends ByIdOptions {
  /**
   * Also erase the texts of the memory's history events (they keep their id, kind, scope, actor,
   * detail and time). Default false: the history keeps what the memory said.
   */
  erase?: boolean;
}

/** Options of {@link Memory.deleteAll}. */
export interface DeleteAllOptions extends ScopedOptions {
  /**
   * Also erase the texts of every history event of the scope, the inputs kept by
   * `INFERENCE_FAILED` events included. Default false.
   */
  erase?: boolean;
}

/** Options of {@link Memory.pruneHistory}. */
export interface PruneHistoryOptions {
  /** Erase the texts of events older than this (`90d`, `12h`, ... or milliseconds). Default: the `historyTextRetention` option. */
  olderThan?: string | number;
  /**
   * Erase the texts of events created before this ISO-8601 time instead of an age: a run that
   * resumes an interrupted one passes the cutoff it started with.
   */
  before?: string;
  /**
   * Archive the events before erasing their texts: they are written to one archive (named by
   * the cutoff) and read back and checked first, so a failure or a crash in between erases
   * nothing that is not archived. Needs a history store with `listTexts` (sqlite, pgvector).
   */
  archive?: HistoryArchiveDestination;
  /** Cancels the call. */
  abortSignal?: AbortSignal;
}

/** What {@link Memory.pruneHistory} did. */
export interface PruneHistoryResult {
  /** Events whose texts were erased. */
  erased: number;
  /** The archive written first, when archiving and there was something to archive. */
  archive?: HistoryArchiveManifest;
}

/** Options of {@link Memory.add}. */
export interface AddOptions extends ScopedOptions {
  /** Stored with every memory this call creates (merged into updated ones). */
  metadata?: Record<string, JsonValue>;
  /** Extract and reconcile facts with the LLM. Default: true when an LLM is configured. */
  infer?: boolean;
  /** How this call infers memories (see {@link AddMode}). Default: the Memory's `addMode`. */
  addMode?: AddMode;
  /**
   * Makes the add apply at most once: a queue job's id, for example. The key is recorded in the
   * history with the changes (checked and written under the scope's lock, in one commit where
   * the store commits atomically); a later add with the same key in the same scope changes
   * nothing and answers the first one's changes, with a warning.
   */
  idempotencyKey?: string;
  /**
   * When the memories this call creates (or updates) expire: an ISO-8601 time or a `Date`. An
   * expired memory is no longer returned by `search`, `list`, `get` or `export`, and
   * `deleteExpired` deletes it. Default: never.
   */
  expiresAt?: string | Date;
}

/** Result of {@link Memory.add}. */
export interface AddResult {
  /** The memories added, updated and deleted. */
  results: MemoryChange[];
  /** Relations added to and invalidated in the graph, when graph memory is configured. */
  relations?: GraphChanges;
  /** Problems that did not stop the call, e.g. an LLM answer that had to be repaired or dropped. */
  warnings?: string[];
  /** Model calls and tokens this add cost, as the providers reported them. */
  usage?: OperationUsage;
  /**
   * Facts the LLM extracted from the conversation, when the add inferred them (absent for
   * verbatim adds and repeated idempotent ones; in `single-call` mode, the decisions the model
   * returned, one per fact). Those not added as new memories were skipped
   * or merged into existing ones.
   */
  factsExtracted?: number;
}

/** Options of {@link Memory.search}. */
export interface SearchOptions extends ScopedOptions {
  /** Metadata filter: the portable AST or the mem0-style shorthand. */
  filters?: FilterInput;
  /** Number of results. Default 10, at most 1000. */
  limit?: number;
  /**
   * Leave out results whose vector similarity (`scores.vector`) is below this, from 0 to 1; 0
   * turns the cut-off off. Default: the Memory's `searchThreshold`, which depends on the embedder.
   */
  threshold?: number;
  /** Add each result's `explanation`: every signal's raw and normalized value, weight and contribution. */
  explain?: boolean;
  /** Fuse keyword relevance with vector similarity. Default true. */
  keywordSearch?: boolean;
  /** Run the configured reranker. Default true when one is configured. */
  rerank?: boolean;
  /**
   * Add the memories of the scope written just before/after the first results (by creation
   * time), each right after its hit and flagged with `neighbourOf`, within `limit`: `{ after: 1,
   * hits: 2 }` adds the next memory of each of the first two results, as does `true`. Neighbours
   * are kept whatever their relevance to the query. Default: the Memory's `searchContext` (off).
   */
  context?: SearchContext | boolean;
  /**
   * Rewrite a conversational question into a standalone query with one small LLM call before
   * searching (its tokens are in `usage`). `true`, or `{ conversation }` with the chat the
   * question came from, so references ("what did she say about it?") can be resolved. Default off.
   */
  rewriteQuery?: RewriteQueryOption;
}

/** Result of {@link Memory.search}. */
export interface SearchResult {
  /** The memories found, best first. */
  results: SearchResultItem[];
  /** Matching graph relations, when graph memory is configured. */
  relations?: RelationItem[];
  /** Model calls and tokens this search cost, as the providers reported them. */
  usage?: OperationUsage;
  /** The query searched for, when `rewriteQuery` rewrote it. */
  rewrittenQuery?: string;
}

/** Options of {@link Memory.list}. */
export interface ListMemoriesOptions extends ScopedOptions {
  /** Metadata filter: the portable AST or the mem0-style shorthand. */
  filters?: FilterInput;
  /** Page size. Default 100, at most 1000. */
  limit?: number;
  /** `nextCursor` of the previous page. */
  cursor?: string;
}

/** Options of {@link Memory.graph}. */
export interface GraphOptions extends ScopedOptions {
  /** Relations at most. Default 500, at most 1000. */
  limit?: number;
  /** Also return relations that later messages contradicted (with `invalidatedAt`). Default false. */
  includeInvalidated?: boolean;
}

/** Result of {@link Memory.list}: one page. */
export interface ListMemoriesResult {
  /** The page's memories, in a stable order. */
  results: MemoryItem[];
  /** Pass back as `cursor` for the next page; absent on the last one. */
  nextCursor?: string;
  /** The scope's graph relations (first page only), when graph memory is configured. */
  relations?: RelationItem[];
}

/**
 * Options of the calls on one memory by id (`get`, `update`, `delete`, `history`). A scope given
 * here must match the memory's (every field given, as in `list`); an id of another scope is
 * answered exactly as a missing one, so an application can enforce per-user access and ids of
 * other users cannot be probed.
 */
export interface ByIdOptions extends Scope {
  /** Cancels the call. */
  abortSignal?: AbortSignal;
}

/** Options of {@link Memory.update}. */
export interface UpdateOptions extends Scope {
  /** New text; the memory is re-embedded. */
  text?: string;
  /** Merged into the existing metadata (top-level keys replace). */
  metadata?: Record<string, JsonValue>;
  /** New expiry time (ISO-8601 or a `Date`); `null` makes the memory never expire. */
  expiresAt?: string | Date | null;
  /** Cancels the call. */
  abortSignal?: AbortSignal;
}

/** One memory for {@link Memory.import}. */
export interface ImportItem extends Scope {
  /** The memory text, stored as given. */
  text: string;
  /** Free-form JSON metadata. */
  metadata?: Record<string, JsonValue>;
  /**
   * Keep this id (e.g. from `export`). Importing an id that exists in the same scope replaces
   * that memory; an id held by another scope is refused.
   */
  id?: string;
  /** Keep this creation time (ISO-8601). */
  createdAt?: string;
  /** Keep this time of last change (ISO-8601). */
  updatedAt?: string;
  /** When the memory expires (ISO-8601). Default: never. */
  expiresAt?: string;
}

/** Progress of {@link Memory.deleteExpired}, reported after each batch. */
export interface DeleteExpiredProgress {
  /** Expired memories deleted so far. */
  deleted: number;
  /** Records looked at so far. */
  scanned: number;
}

/** Options of {@link Memory.deleteExpired}. */
export interface DeleteExpiredOptions {
  /** Memories read and deleted per batch. Default 500. */
  batchSize?: number;
  /** Also erase the texts of the deleted memories' history events. Default: the `eraseExpired` option. */
  erase?: boolean;
  /** Called after each batch. */
  onProgress?: (progress: DeleteExpiredProgress) => void;
  /** Stops between batches (what is deleted stays deleted; run it again to go on). */
  signal?: AbortSignal;
}
