import { addMemories, storeVerbatim } from './add-memories.js';
import { collectionFromEnvironment } from './environment-components.js';
import { ClosedError, NotFoundError } from './errors.js';
import type { HistoryEvent } from './history-store.js';
import { checkComponentVersions, type MemoryEngine, openMemoryEngine } from './memory-engine.js';
import {
  checkFilter,
  checkId,
  checkImportItems,
  checkLimit,
  checkMemoryOptions,
  checkMetadata,
  checkQuery,
  checkThreshold,
  checkUpdate,
  invalid,
  normalizeMessages,
} from './memory-input.js';
import { toMemoryItem } from './memory-item.js';
import type {
  AddOptions,
  AddResult,
  ImportItem,
  ListMemoriesOptions,
  ListMemoriesResult,
  MemoryItem,
  MemoryOptions,
  ScopedOptions,
  SearchOptions,
  SearchResult,
  UpdateOptions,
} from './memory-types.js';
import type { Message } from './prompts.js';
import { normalizeScope, scopeOf } from './scope.js';
import { searchMemories } from './search-memories.js';
import { textHash } from './text.js';
import type { StoredRecord } from './vector-store.js';

/** Options of the calls that take nothing but a cancellation signal. */
interface SignalOptions {
  abortSignal?: AbortSignal;
}

const signalOf = (abortSignal: AbortSignal | undefined) => (abortSignal ? { abortSignal } : {});

/**
 * Long-term memory for an AI application: `add` conversations, `search` what matters for the
 * next prompt. Components left out of the options come from the environment on first use (see
 * `createMemoryFromEnvironment`); the work itself lives in small modules this class calls.
 */
export class Memory {
  readonly #options: MemoryOptions;
  readonly #collection: string;
  #engine: Promise<MemoryEngine> | undefined;
  #closed = false;

  constructor(options: MemoryOptions = {}) {
    this.#options = options;
    this.#collection = options.collection ?? collectionFromEnvironment(process.env);
    checkMemoryOptions(options, this.#collection);
    checkComponentVersions(options);
  }

  #ready(): Promise<MemoryEngine> {
    if (this.#closed) {
      return Promise.reject(
        new ClosedError({ source: 'core', message: 'This Memory was closed; create a new one.' }),
      );
    }
    if (!this.#engine) {
      this.#engine = openMemoryEngine(this.#options, this.#collection);
      this.#engine.catch(() => {
        this.#engine = undefined;
      });
    }
    return this.#engine;
  }

  async #existing(engine: MemoryEngine, id: string, abortSignal?: AbortSignal) {
    const [record] = await engine.store.get({
      collection: this.#collection,
      ids: [id],
      includeVectors: true,
      ...signalOf(abortSignal),
    });
    if (!record) throw new NotFoundError({ source: 'core', message: `No memory with id "${id}".` });
    return record;
  }

  /** Runs `work` on the current record of a memory, holding its scope's lock. */
  async #changeOne<T>(
    id: string,
    abortSignal: AbortSignal | undefined,
    work: (engine: MemoryEngine, current: StoredRecord) => Promise<T>,
  ): Promise<T> {
    checkId(id);
    const engine = await this.#ready();
    const first = await this.#existing(engine, id, abortSignal);
    // The record is read again under the lock: another change may have come first.
    return engine.writer.inScope(first, async () =>
      work(engine, await this.#existing(engine, id, abortSignal)),
    );
  }

  /**
   * Remembers a conversation. With an LLM, extracts durable facts and reconciles them with what
   * the scope already holds (ADD, UPDATE, DELETE or leave alone); without one, or with
   * `infer: false`, stores each message as a memory. Concurrent adds of one scope extract and
   * embed in parallel; their reconcile-and-write steps take turns (across processes too when a
   * scope lock is configured), so a fact added twice at once is stored once.
   */
  async add(messages: string | Message[], options: AddOptions): Promise<AddResult> {
    const scope = normalizeScope(options, { required: true });
    const normalized = normalizeMessages(messages);
    const metadata = checkMetadata(options.metadata);
    const engine = await this.#ready();
    const infer = options.infer ?? engine.llm !== undefined;
    if (infer && !engine.llm) {
      invalid(
        'infer: true needs an LLM. Configure one (OPENAI_API_KEY, ENGRAM_LLM, or the llm option), or pass infer: false.',
      );
    }
    const request = {
      messages: normalized,
      scope,
      metadata,
      infer,
      abortSignal: options.abortSignal,
    };
    return addMemories(engine, request);
  }

  /**
   * Finds the memories of a scope that matter for a query: vector similarity fused with keyword
   * relevance (weighted score fusion, see `keywordWeight`), then the reranker when one is configured.
   */
  async search(query: string, options: SearchOptions): Promise<SearchResult> {
    const scope = normalizeScope(options, { required: true });
    checkQuery(query);
    const limit = checkLimit(options.limit, 10);
    checkThreshold(options.threshold);
    return searchMemories(await this.#ready(), { query, scope, limit, options });
  }

  /** One memory by id, or `null` when there is none. */
  async get(id: string, options: SignalOptions = {}): Promise<MemoryItem | null> {
    checkId(id);
    const engine = await this.#ready();
    const [record] = await engine.store.get({
      collection: this.#collection,
      ids: [id],
      ...signalOf(options.abortSignal),
    });
    return record ? toMemoryItem(record) : null;
  }

  /** One page of a scope's memories, in a stable order; pass `nextCursor` back for the next. */
  async list(options: ListMemoriesOptions): Promise<ListMemoriesResult> {
    const scope = normalizeScope(options, { required: true });
    const limit = checkLimit(options.limit, 100);
    const engine = await this.#ready();
    const filter = checkFilter(engine.store, options.filters);
    const page = await engine.store.list({
      collection: this.#collection,
      scope,
      limit,
      ...(filter ? { filter } : {}),
      ...(options.cursor ? { cursor: options.cursor } : {}),
      ...signalOf(options.abortSignal),
    });
    // Relations come with the first page only: they are not paginated with the memories.
    const relations =
      engine.graph && !options.cursor
        ? await engine.graph.list(scope, limit, options.abortSignal)
        : undefined;
    return {
      results: page.records.map(toMemoryItem),
      ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}),
      ...(relations ? { relations } : {}),
    };
  }

  /** Changes a memory's text (re-embedding it) and/or merges metadata; records the change. */
  async update(id: string, options: UpdateOptions): Promise<MemoryItem> {
    checkId(id);
    const { text, metadata } = checkUpdate(options);
    return this.#changeOne(id, options.abortSignal, async (engine, current) => {
      const [vector] =
        text !== undefined && text !== current.text
          ? await engine.embed([text], 'document', options.abortSignal)
          : [current.vector!];
      const newText = text ?? current.text;
      const record = {
        ...current,
        vector: vector!,
        text: newText,
        hash: textHash(newText),
        metadata: { ...current.metadata, ...metadata },
        updatedAt: engine.now().toISOString(),
      };
      const changes = engine.writer.changes();
      changes.update(record, current.text);
      await engine.writer.write(changes, options.abortSignal);
      const { vector: _vector, ...stored } = record;
      return toMemoryItem(stored);
    });
  }

  /** Deletes one memory and records the deletion. Throws `NotFoundError` when there is none. */
  async delete(id: string, options: SignalOptions = {}): Promise<{ id: string; deleted: true }> {
    return this.#changeOne(id, options.abortSignal, async (engine, current) => {
      const changes = engine.writer.changes();
      changes.delete(current);
      await engine.writer.write(changes, options.abortSignal);
      return { id, deleted: true as const };
    });
  }

  /** Deletes every memory of a scope (every page, nothing outside it), recording each deletion. */
  async deleteAll(options: ScopedOptions): Promise<{ deleted: number }> {
    const scope = normalizeScope(options, { required: true });
    const engine = await this.#ready();
    const signal = signalOf(options.abortSignal);
    return engine.writer.inScope(scope, async () => {
      let deleted = 0;
      let cursor: string | undefined;
      do {
        const page = await engine.store.list({
          collection: this.#collection,
          scope,
          limit: 500,
          ...(cursor ? { cursor } : {}),
          ...signal,
        });
        const changes = engine.writer.changes();
        for (const record of page.records) changes.delete(record);
        await engine.writer.write(changes, options.abortSignal);
        deleted += page.records.length;
        cursor = page.nextCursor;
      } while (cursor);
      await engine.graphStore?.deleteScope({ scope, ...signal });
      return { deleted };
    });
  }

  /** Every recorded change of one memory, oldest first. */
  async history(id: string, options: SignalOptions = {}): Promise<HistoryEvent[]> {
    checkId(id);
    const engine = await this.#ready();
    return engine.history.byMemory({ memoryId: id, ...signalOf(options.abortSignal) });
  }

  /** Forgets a scope completely: its memories and their history. Other scopes are untouched. */
  async reset(options: ScopedOptions): Promise<{ deleted: number }> {
    const scope = normalizeScope(options, { required: true });
    const engine = await this.#ready();
    const signal = signalOf(options.abortSignal);
    return engine.writer.inScope(scope, async () => {
      const { deleted } = await engine.store.delete({
        collection: this.#collection,
        scope,
        ...signal,
      });
      await engine.history.deleteScope({ scope, ...signal });
      await engine.graphStore?.deleteScope({ scope, ...signal });
      return { deleted };
    });
  }

  /** Every memory of a scope, page by page, for backups and migrations (`import` reads it back). */
  async *export(options: ScopedOptions): AsyncGenerator<MemoryItem> {
    let cursor: string | undefined;
    do {
      const page = await this.list({ ...options, limit: 500, ...(cursor ? { cursor } : {}) });
      yield* page.results;
      cursor = page.nextCursor;
    } while (cursor);
  }

  /**
   * Stores memories as they are (no inference), embedding them in batches: the fast path for
   * bulk imports. Each item needs a text and a scope.
   */
  async import(items: ImportItem[], options: SignalOptions = {}): Promise<AddResult> {
    const checked = checkImportItems(items);
    if (checked.length === 0) return { results: [] };
    const engine = await this.#ready();
    return engine.writer.inScopes(
      checked.map(scopeOf),
      () => storeVerbatim(engine, checked, options.abortSignal),
      options.abortSignal,
    );
  }

  /** Closes the stores. Later calls throw `ClosedError`. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const engine = await this.#engine?.catch(() => undefined);
    if (!engine) return;
    await engine.store.close();
    if ((engine.history as unknown) !== engine.store) await engine.history.close();
    await engine.graphStore?.close();
    if (engine.scopeLock && engine.scopeLock !== engine.store.scopeLock) {
      await engine.scopeLock.close();
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
