import type { Scope } from './scope.js';
import type { CallOptions } from './vector-store.js';

/** What happened to a memory. `INFERENCE_FAILED` keeps the input of an `add` the LLM could not process. */
export type HistoryEventType = 'ADD' | 'UPDATE' | 'DELETE' | 'INFERENCE_FAILED';

/** One change, append-only. */
export interface HistoryEvent {
  /** Unique event id. */
  id: string;
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
  /** Events of these memories. */
  memoryIds?: string[];
  /** Events whose scope matches (the same matching as `byScope`). */
  scope?: Scope;
  /** Only events created before this ISO-8601 time. */
  before?: string;
}

/** Append-only audit log of memory changes. */
export interface HistoryStore {
  /** Contract version. */
  readonly specificationVersion: 'v1';
  /** Adapter name. */
  readonly provider: string;
  /** Appends events, in order. */
  append(options: CallOptions & { events: HistoryEvent[] }): Promise<void>;
  /** Every event of one memory, oldest first. */
  byMemory(options: CallOptions & { memoryId: string }): Promise<HistoryEvent[]>;
  /** Events of a scope, oldest first, paginated. */
  byScope(
    options: CallOptions & { scope: Scope; limit: number; cursor?: string },
  ): Promise<{ events: HistoryEvent[]; nextCursor?: string }>;
  /**
   * Deletes every event whose scope matches (used by `reset`); returns how many. An empty scope
   * throws `InvalidArgumentError` rather than deleting everything.
   */
  deleteScope(options: CallOptions & { scope: Scope }): Promise<{ deleted: number }>;
  /**
   * Erases the texts of events: sets `previousText` and `newText` to null and keeps every other
   * field (id, event kind, memory id, scope, actor, detail, time). `memoryIds` and/or `scope`
   * select the events (both: events matching both); `before` keeps only events created before
   * that ISO-8601 time. Giving none of the three throws `InvalidArgumentError` rather than
   * erasing everything. Returns how many events held a text that is now erased.
   */
  eraseTexts(options: CallOptions & EraseTextsOptions): Promise<{ erased: number }>;
  /** Releases handles. Later calls throw `ClosedError`. Idempotent. */
  close(): Promise<void>;
  /** Same as `close()`, for `await using history = ...`. */
  [Symbol.asyncDispose](): Promise<void>;
}
