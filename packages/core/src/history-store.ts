import type { Scope } from './scope.js';
import type { CallOptions } from './vector-store.js';

/**
 * What happened to a memory. `INFERENCE_FAILED` keeps the input of an `add` the LLM could not
 * process. `APPLIED` marks an `add` made with an `idempotencyKey` (its `memoryId` is
 * `applied:<key>`, its `detail` the ids and kinds of the changes), written with the changes, so
 * a repeated add with that key changes nothing.
 */
export type HistoryEventType = 'ADD' | 'UPDATE' | 'DELETE' | 'INFERENCE_FAILED' | 'APPLIED';

/** One change, append-only. */
export interface HistoryEvent {
  /** Unique event id. */
  id: string;
  /**
   * What the event belongs to beyond its scope: the collection of the memory (in the server, the
   * project). Reads and deletes name one namespace and never return or touch another's events.
   */
  namespace: string;
  /** The memory changed; for `INFERENCE_FAILED`, null. */
  memoryId: string | null;
  /** What happened. */
  event: HistoryEventType;
  /** Text before the change (UPDATE, DELETE). */
  previousText: string | null;
  /** Text after the change (ADD, UPDATE), or the raw input for `INFERENCE_FAILED`. */
  newText: string | null;
  /** Scope of the memory. */
  userId?: string;
  agentId?: string;
  runId?: string;
  /** Who made the change: `engine`, `user`, an API key's project, ... */
  actor?: string;
  /** Extra detail, e.g. the failure reason. */
  detail?: string;
  /** ISO-8601 time of the change. */
  createdAt: string;
}

/** Which events {@link HistoryStore.eraseTexts} erases. */
export interface EraseTextsOptions {
  /** The namespace whose events are erased; other namespaces are never touched. */
  namespace: string;
  /** Events of these memories. */
  memoryIds?: string[];
  /** Events whose scope matches (the same matching as `byScope`). */
  scope?: Scope;
  /** Only events created before this ISO-8601 time. */
  before?: string;
}

/** Which events {@link HistoryStore.listTexts} returns. */
export interface ListTextsOptions {
  /** The namespace whose events are listed; other namespaces are never read. */
  namespace: string;
  /** Only events created before this ISO-8601 time. */
  before: string;
  /** Events per page. */
  limit: number;
  /** The `nextCursor` of the previous page. */
  cursor?: string;
}

/**
 * Append-only audit log of memory changes, separated by namespace: every read and delete names
 * one namespace (a non-empty string, else `InvalidArgumentError`) and sees only its events, so
 * several collections or projects can share one store.
 */
export interface HistoryStore {
  /** Contract version. */
  readonly specificationVersion: 'v1';
  /** Adapter name. */
  readonly provider: string;
  /**
   * Appends events, in order. An event without a non-empty `namespace` throws
   * `InvalidArgumentError` and nothing is appended.
   */
  append(options: CallOptions & { events: HistoryEvent[] }): Promise<void>;
  /** Every event of one memory in one namespace, oldest first. */
  byMemory(options: CallOptions & { namespace: string; memoryId: string }): Promise<HistoryEvent[]>;
  /** Events of a scope in one namespace, oldest first, paginated. */
  byScope(
    options: CallOptions & { namespace: string; scope: Scope; limit: number; cursor?: string },
  ): Promise<{ events: HistoryEvent[]; nextCursor?: string }>;
  /**
   * Deletes every event of the namespace whose scope matches (used by `reset`); returns how
   * many. Other namespaces keep theirs. An empty scope throws `InvalidArgumentError` rather than
   * deleting everything.
   */
  deleteScope(
    options: CallOptions & { namespace: string; scope: Scope },
  ): Promise<{ deleted: number }>;
  /**
   * Erases the texts of events of the namespace: sets `previousText` and `newText` to null and keeps every other
   * field (id, event kind, memory id, scope, actor, detail, time). `memoryIds` and/or `scope`
   * select the events (both: events matching both); `before` keeps only events created before
   * that ISO-8601 time. Giving none of the three throws `InvalidArgumentError` rather than
   * erasing everything. Returns how many events held a text that is now erased.
   */
  eraseTexts(options: CallOptions & EraseTextsOptions): Promise<{ erased: number }>;
  /**
   * Optional: the events of the namespace created before `before` that still hold a text (what
   * `eraseTexts({ namespace, before })` would erase), in the order they were appended, paginated.
   * History archival reads them before erasing; stores without it cannot archive.
   */
  listTexts?(
    options: CallOptions & ListTextsOptions,
  ): Promise<{ events: HistoryEvent[]; nextCursor?: string }>;
  /** Releases handles. Later calls throw `ClosedError`. Idempotent. */
  close(): Promise<void>;
  /** Same as `close()`, for `await using history = ...`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** Where a `Memory` keeps its history, as `Memory.describeHistory()` reports it. */
export interface HistoryDescription {
  /** Provider of the history store: the vector store's own (`sqlite`, `pgvector`) or another. */
  provider: string;
  /**
   * Whether the history outlives the process. False for history kept in process memory (the
   * `memory` provider): the fallback when the vector store keeps no history and no history store
   * is given, lost on exit and different in every process.
   */
  durable: boolean;
}
