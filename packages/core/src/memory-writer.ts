import { randomUUID } from 'node:crypto';
import type { HistoryEvent, HistoryStore } from './history-store.js';
import { KeyedMutex } from './keyed-mutex.js';
import type { MemoryChange } from './memory-types.js';
import { type Scope, scopeOf } from './scope.js';
import { type ScopeLock, scopeLockKey } from './scope-lock.js';
import { keywordText } from './text.js';
import type { StoredRecord, VectorRecord, VectorStore } from './vector-store.js';

/** What a {@link MemoryWriter} writes to and records. */
export interface MemoryWriterOptions {
  /** The vector store. */
  store: VectorStore;
  /** The history; when it is the store itself and it commits atomically, one commit writes both. */
  history: HistoryStore;
  /** Collection of the memories. */
  collection: string;
  /** Who is recorded as making the changes. */
  actor: string;
  /** Clock of the history events. */
  now: () => Date;
  /**
   * Held (behind the in-process queue) around every change of a scope, so that processes
   * sharing the stores take turns too. Without it, changes are ordered within this process only.
   */
  scopeLock?: ScopeLock | undefined;
}

/** The history `memoryId` under which an add with an idempotency key is recorded. */
export function appliedMemoryId(key: string): string {
  return `applied:${key}`;
}

/** Records one commit of several change sets may hold before the next set starts a commit of its own. */
const groupLimit = 1000;

/** A change set waiting for the commit it shares with the others written in the same turn. */
interface PendingWrite {
  changes: ChangeSet;
  abortSignal: AbortSignal | undefined;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** The record with the keyword form of its text, when that differs from the text. */
export function withKeywordText(record: VectorRecord): VectorRecord {
  const { keywordText: _previous, ...rest } = record;
  const indexed = keywordText(record.text);
  return indexed === record.text ? rest : { ...rest, keywordText: indexed };
}

/** Records, deletions and history events of one write, with the changes reported to the caller. */
export class ChangeSet {
  /** Records to write. */
  readonly upsert: VectorRecord[] = [];
  /** Ids to delete. */
  readonly remove: string[] = [];
  /** History events to append. */
  readonly events: HistoryEvent[] = [];
  /** The changes, as `add` and `import` report them. */
  readonly results: MemoryChange[] = [];

  readonly #namespace: string;
  readonly #actor: string;
  readonly #now: () => Date;

  constructor(options: { collection: string; actor: string; now: () => Date }) {
    this.#namespace = options.collection;
    this.#actor = options.actor;
    this.#now = options.now;
  }

  /** A new memory. */
  add(record: VectorRecord): void {
    this.upsert.push(withKeywordText(record));
    this.events.push(
      this.#change(record, {
        memoryId: record.id,
        event: 'ADD',
        previousText: null,
        newText: record.text,
      }),
    );
    this.results.push({ id: record.id, memory: record.text, event: 'ADD' });
  }

  /** A memory whose text or metadata changed; `previousText` is what it said before. */
  update(record: VectorRecord, previousText: string): void {
    this.upsert.push(withKeywordText(record));
    this.events.push(
      this.#change(record, {
        memoryId: record.id,
        event: 'UPDATE',
        previousText,
        newText: record.text,
      }),
    );
    this.results.push({
      id: record.id,
      memory: record.text,
      event: 'UPDATE',
      previousMemory: previousText,
    });
  }

  /** A memory deleted; with `erase`, its event does not keep the text. */
  delete(record: StoredRecord, { erase = false }: { erase?: boolean } = {}): void {
    this.remove.push(record.id);
    this.events.push(
      this.#change(record, {
        memoryId: record.id,
        event: 'DELETE',
        previousText: erase ? null : record.text,
        newText: null,
      }),
    );
    this.results.push({ id: record.id, memory: record.text, event: 'DELETE' });
  }

  /** Input of an `add` the model could not turn into facts, kept in the history. */
  inferenceFailed(input: string, scope: Scope, detail: string): void {
    this.events.push(
      this.#change(scope, {
        memoryId: null,
        event: 'INFERENCE_FAILED',
        previousText: null,
        newText: input,
        detail,
      }),
    );
  }

  /**
   * Marks the changes as those of an add with an idempotency key: an `APPLIED` event whose
   * `memoryId` is `applied:<key>` and whose `detail` lists the ids and kinds of the changes.
   */
  applied(key: string, scope: Scope): void {
    const changes = this.results.map((result) => ({ id: result.id, event: result.event }));
    this.events.push(
      this.#change(scope, {
        memoryId: appliedMemoryId(key),
        event: 'APPLIED',
        previousText: null,
        newText: null,
        detail: JSON.stringify(changes),
      }),
    );
  }

  /** Whether there is nothing to write. */
  get empty(): boolean {
    return this.upsert.length === 0 && this.remove.length === 0 && this.events.length === 0;
  }

  /** A history event of the scope's fields, stamped with the collection, the actor and the time. */
  #change(
    scope: Scope,
    change: Pick<HistoryEvent, 'event' | 'memoryId' | 'previousText' | 'newText' | 'detail'>,
  ): HistoryEvent {
    const { detail, ...fields } = change;
    return {
      id: randomUUID(),
      namespace: this.#namespace,
      ...fields,
      ...scopeOf(scope),
      actor: this.#actor,
      ...(detail ? { detail } : {}),
      createdAt: this.#now().toISOString(),
    };
  }
}

/**
 * Writes memories and their history events: in one atomic commit when the store keeps the
 * history itself, else records first, then deletions, then events. Changes of one scope run one
 * at a time: in arrival order within this process, and one process at a time when a
 * {@link ScopeLock} is given.
 */
export class MemoryWriter {
  readonly #options: MemoryWriterOptions;
  readonly #locks = new KeyedMutex();
  #pending: PendingWrite[] | undefined;

  constructor(options: MemoryWriterOptions) {
    this.#options = options;
  }

  /** An empty change set whose events carry the collection, the actor and the time. */
  changes(): ChangeSet {
    return new ChangeSet(this.#options);
  }

  /** Runs `work` while holding the scope's lock, in this process and across processes. */
  inScope<T>(scope: Scope, work: () => Promise<T>, abortSignal?: AbortSignal): Promise<T> {
    return this.inScopes([scope], work, abortSignal);
  }

  /** Runs `work` while holding the locks of every scope given. */
  inScopes<T>(
    scopes: readonly Scope[],
    work: () => Promise<T>,
    abortSignal?: AbortSignal,
  ): Promise<T> {
    const { collection, scopeLock } = this.#options;
    const keys = scopes.map((scope) => scopeLockKey(collection, scope));
    return this.#locks.runAll(keys, () =>
      scopeLock
        ? scopeLock.withLocks({ keys, ...(abortSignal ? { abortSignal } : {}) }, work)
        : work(),
    );
  }

  /**
   * Writes a change set; does nothing when it is empty. With an atomic commit, the change sets
   * written in one turn of the event loop (concurrent adds of different scopes) share one commit.
   */
  async write(changes: ChangeSet, abortSignal?: AbortSignal): Promise<void> {
    if (changes.empty) return;
    const { store, history, collection } = this.#options;
    const { upsert, remove, events } = changes;
    const signal = abortSignal ? { abortSignal } : {};
    if (store.commit && store.capabilities.atomicHistory && (history as unknown) === store) {
      await new Promise<void>((resolve, reject) => {
        if (!this.#pending) {
          this.#pending = [];
          setImmediate(() => void this.#commitPending());
        }
        this.#pending.push({ changes, abortSignal, resolve, reject });
      });
      return;
    }
    const batchSize = store.capabilities.maxBatchSize;
    for (let start = 0; start < upsert.length; start += batchSize) {
      await store.upsert({
        collection,
        records: upsert.slice(start, start + batchSize),
        ...signal,
      });
    }
    if (remove.length > 0) await store.delete({ collection, ids: remove, ...signal });
    if (events.length > 0) await history.append({ events, ...signal });
  }

  /** Commits the waiting change sets: in groups of disjoint ids, each group one commit. */
  async #commitPending(): Promise<void> {
    const pending = this.#pending ?? [];
    this.#pending = undefined;
    let group: PendingWrite[] = [];
    let ids = new Set<string>();
    let records = 0;
    for (const write of pending) {
      const touched = [...write.changes.upsert.map((record) => record.id), ...write.changes.remove];
      const overlaps = touched.some((id) => ids.has(id));
      if (group.length > 0 && (overlaps || records + write.changes.upsert.length > groupLimit)) {
        await this.#commitGroup(group);
        group = [];
        ids = new Set();
        records = 0;
      }
      group.push(write);
      for (const id of touched) ids.add(id);
      records += write.changes.upsert.length;
    }
    if (group.length > 0) await this.#commitGroup(group);
  }

  /** One commit for the group; when it fails, each change set on its own, so one bad set fails alone. */
  async #commitGroup(group: PendingWrite[]): Promise<void> {
    const { store, collection } = this.#options;
    const commit = store.commit!.bind(store);
    const alone = async ({ changes, abortSignal, resolve, reject }: PendingWrite) => {
      try {
        await commit({
          collection,
          upsert: changes.upsert,
          delete: changes.remove,
          history: changes.events,
          ...(abortSignal ? { abortSignal } : {}),
        });
        resolve();
      } catch (error) {
        reject(error);
      }
    };
    const ready = group.filter((write) => !write.abortSignal?.aborted);
    for (const write of group) if (write.abortSignal?.aborted) await alone(write);
    if (ready.length === 1) {
      await alone(ready[0]!);
      return;
    }
    if (ready.length === 0) return;
    try {
      await commit({
        collection,
        upsert: ready.flatMap((write) => write.changes.upsert),
        delete: ready.flatMap((write) => write.changes.remove),
        history: ready.flatMap((write) => write.changes.events),
      });
    } catch {
      for (const write of ready) await alone(write);
      return;
    }
    for (const write of ready) write.resolve();
  }
}
