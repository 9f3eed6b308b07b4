import { addMemories, storeVerbatim } from './add-memories.js';
import { parseDuration } from './duration.js';
import type { Embedder } from './embedder.js';
import { collectionFromEnvironment } from './environment-components.js';
import { ClosedError, InvalidArgumentError, NotFoundError } from './errors.js';
import {
  checkExpiresAt,
  expiredFilter,
  isExpired,
  withExpiry,
  withUnexpiredFilter,
} from './expiry.js';
import type { GraphRelationView } from './graph-memory.js';
import { archiveHistoryTexts } from './history-archive.js';
import type { HistoryDescription, HistoryEvent } from './history-store.js';
import { checkComponentVersions, type MemoryEngine, openMemoryEngine } from './memory-engine.js';
import {
  checkAddMode,
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
  ByIdOptions,
  DeleteAllOptions,
  DeleteExpiredOptions,
  DeleteExpiredProgress,
  DeleteOptions,
  GraphOptions,
  ImportItem,
  ListMemoriesOptions,
  ListMemoriesResult,
  MemoryItem,
  MemoryOptions,
  PruneHistoryOptions,
  PruneHistoryResult,
  ScopedOptions,
  SearchOptions,
  SearchResult,
  UpdateOptions,
} from './memory-types.js';
import { ChangeSet } from './memory-writer.js';
import {
  type MergeDuplicatesOptions,
  type MergeDuplicatesResult,
  mergeDuplicatePage,
} from './merge-duplicates.js';
import {
  type BackupManifest,
  type BackupOptions,
  backupCollection,
  type RestoreOptions,
  type RestoreSummary,
  restoreCollection,
} from './project-backup.js';
import type { Message } from './prompts.js';
import { addCounts, createRedactor, type Redactor, totalCount } from './redaction.js';
import {
  createInMemoryReembedState,
  type ReembedOptions,
  type ReembedResult,
  type ReembedState,
  reembedMemories,
} from './reembed-memories.js';
import { rewriteQuery } from './rewrite-query.js';
import { matchesScope, normalizeScope, type Scope, scopeKey, scopeOf } from './scope.js';
import { checkSearchContext } from './search-context.js';
import { searchMemories } from './search-memories.js';
import { textHash } from './text.js';
import { withUsage } from './usage-meter.js';
import type { StoredRecord } from './vector-store.js';

/** Options of the calls that take nothing but a cancellation signal. */
interface SignalOptions {
  abortSignal?: AbortSignal;
}

function checkIdempotencyKey(key: string | undefined): string | undefined {
  if (key !== undefined && (typeof key !== 'string' || key.length === 0 || key.length > 200)) {
    invalid('idempotencyKey must be a non-empty string of at most 200 characters, e.g. a job id.');
  }
  return key;
}

/** The text and metadata of an update with sensitive data replaced, when redaction is on. */
function redactUpdate(
  redactor: Redactor | undefined,
  update: ReturnType<typeof checkUpdate>,
): ReturnType<typeof checkUpdate> {
  if (!redactor) return update;
  const counts: Record<string, number> = {};
  return {
    ...update,
    ...(update.text === undefined ? {} : { text: redactor.redact(update.text).text }),
    ...(update.metadata === undefined
      ? {}
      : { metadata: redactor.redactJson(update.metadata, counts) }),
  };
}

const signalOf = (abortSignal: AbortSignal | undefined) => (abortSignal ? { abortSignal } : {});

// The same answer for a missing id and for an id of another scope: ids cannot be probed.
const noMemory = (id: string) =>
  new NotFoundError({ source: 'core', message: `No memory with id "${id}".` });

/**
 * Long-term memory for an AI application: `add` conversations, `search` what matters for the
 * next prompt. Components left out of the options come from the environment on first use (see
 * `createMemoryFromEnvironment`); the work itself lives in small modules this class calls.
 */
export class Memory {
  #options: MemoryOptions;
  #reembedState: ReembedState | undefined;
  readonly #collection: string;
  #engine: Promise<MemoryEngine> | undefined;
  #closed = false;

  constructor(options: MemoryOptions = {}) {
    this.#options = options;
    this.#collection = options.collection ?? collectionFromEnvironment(process.env);
    checkMemoryOptions(options, this.#collection);
    checkComponentVersions(options);
    checkSearchContext(options.searchContext, 'searchContext');
    if (options.redact) createRedactor(options.redact);
    if (options.historyTextRetention !== undefined) {
      parseDuration(options.historyTextRetention, 'historyTextRetention');
    }
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

  async #existing(engine: MemoryEngine, id: string, scope: Scope, abortSignal?: AbortSignal) {
    const [record] = await engine.store.get({
      collection: this.#collection,
      ids: [id],
      includeVectors: true,
      ...signalOf(abortSignal),
    });
    if (!record || !matchesScope(record, scope)) throw noMemory(id);
    return record;
  }

  /** Runs `work` on the current record of a memory, holding its scope's lock. */
  async #changeOne<T>(
    id: string,
    options: ByIdOptions,
    work: (engine: MemoryEngine, current: StoredRecord) => Promise<T>,
  ): Promise<T> {
    checkId(id);
    const scope = normalizeScope(options);
    const { abortSignal } = options;
    const engine = await this.#ready();
    const first = await this.#existing(engine, id, scope, abortSignal);
    // The record is read again under the lock: another change may have come first.
    return engine.writer.inScope(first, async () =>
      work(engine, await this.#existing(engine, id, scope, abortSignal)),
    );
  }

  /**
   * Remembers a conversation. With an LLM, extracts durable facts and reconciles them with what
   * the scope already holds (ADD, UPDATE, DELETE or leave alone); without one, or with
   * `infer: false`, stores each message as a memory. Concurrent adds of one scope extract and
   * embed in parallel; their reconcile-and-write steps take turns (across processes too when a
   * scope lock is configured), so a fact added twice at once is stored once. With
   * `addMode: 'single-call'` one model call both extracts and reconciles, under the scope's lock.
   */
  async add(messages: string | Message[], options: AddOptions): Promise<AddResult> {
    const scope = normalizeScope(options, { required: true });
    const normalized = normalizeMessages(messages);
    const metadata = withExpiry(
      checkMetadata(options.metadata),
      options.expiresAt === undefined ? undefined : checkExpiresAt(options.expiresAt, 'expiresAt'),
    );
    const engine = await this.#ready();
    engine.requireMatchingDimensions();
    const infer = options.infer ?? engine.llm !== undefined;
    if (infer && !engine.llm) {
      invalid(
        'infer: true needs an LLM. Configure one (OPENAI_API_KEY, ENGRAM_LLM, or the llm option), or pass infer: false.',
      );
    }
    const counts: Record<string, number> = {};
    const redactor = engine.redactor;
    const request = {
      messages: redactor
        ? normalized.map((message) => {
            const redacted = redactor.redact(message.content);
            addCounts(counts, redacted.counts);
            return { ...message, content: redacted.text };
          })
        : normalized,
      scope,
      metadata: redactor ? redactor.redactJson(metadata, counts) : metadata,
      infer,
      addMode: checkAddMode(options.addMode, 'addMode'),
      idempotencyKey: checkIdempotencyKey(options.idempotencyKey),
      abortSignal: options.abortSignal,
    };
    const result = await withUsage(() => addMemories(engine, request));
    return redactor
      ? { ...result, usage: { ...result.usage, redactions: totalCount(counts) } }
      : result;
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
    const engine = await this.#ready();
    const rewrite = options.rewriteQuery;
    return withUsage(async () => {
      if (!rewrite) return searchMemories(engine, { query, scope, limit, options });
      const rewritten = await rewriteQuery(engine.llm, query, rewrite, options.abortSignal);
      const result = await searchMemories(engine, { query: rewritten, scope, limit, options });
      return { ...result, rewrittenQuery: rewritten };
    });
  }

  /**
   * One memory by id, or `null` when there is none (or, when a scope is given, when the memory
   * belongs to another scope).
   */
  async get(id: string, options: ByIdOptions = {}): Promise<MemoryItem | null> {
    checkId(id);
    const scope = normalizeScope(options);
    const engine = await this.#ready();
    const [record] = await engine.store.get({
      collection: this.#collection,
      ids: [id],
      ...signalOf(options.abortSignal),
    });
    return record && matchesScope(record, scope) && !isExpired(record, engine.now())
      ? toMemoryItem(record)
      : null;
  }

  /** One page of a scope's memories, in a stable order; pass `nextCursor` back for the next. */
  async list(options: ListMemoriesOptions): Promise<ListMemoriesResult> {
    const scope = normalizeScope(options, { required: true });
    const limit = checkLimit(options.limit, 100);
    const engine = await this.#ready();
    const now = engine.now();
    const filter = withUnexpiredFilter(
      engine.store,
      checkFilter(engine.store, options.filters),
      now,
    );
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
      results: page.records.filter((record) => !isExpired(record, now)).map(toMemoryItem),
      ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}),
      ...(relations ? { relations } : {}),
    };
  }

  /**
   * The scope's knowledge graph: its relations with their entities' kinds, invalidated ones too
   * when asked. `null` when graph memory is off.
   */
  async graph(options: GraphOptions): Promise<GraphRelationView[] | null> {
    const scope = normalizeScope(options, { required: true });
    const limit = checkLimit(options.limit, 500);
    const engine = await this.#ready();
    if (!engine.graph) return null;
    return engine.graph.relations(scope, {
      limit,
      includeInvalidated: options.includeInvalidated === true,
      abortSignal: options.abortSignal,
    });
  }

  /**
   * Changes a memory's text (re-embedding it) and/or merges metadata; records the change. Throws
   * `NotFoundError` when there is no such memory (in the scope, when one is given).
   */
  async update(id: string, options: UpdateOptions): Promise<MemoryItem> {
    checkId(id);
    const checked = checkUpdate(options);
    return this.#changeOne(id, options, async (engine, current) => {
      const { text, metadata, expiresAt } = redactUpdate(engine.redactor, checked);
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
        metadata: withExpiry({ ...current.metadata, ...metadata }, expiresAt),
        updatedAt: engine.now().toISOString(),
      };
      const changes = engine.writer.changes();
      changes.update(record, current.text);
      await engine.writer.write(changes, options.abortSignal);
      const { vector: _vector, ...stored } = record;
      return toMemoryItem(stored);
    });
  }

  /**
   * Deletes one memory and records the deletion. With `erase`, the texts of the memory's history
   * events are erased too. Throws `NotFoundError` when there is none (in the scope, when one is
   * given).
   */
  async delete(id: string, options: DeleteOptions = {}): Promise<{ id: string; deleted: true }> {
    const erase = options.erase === true;
    return this.#changeOne(id, options, async (engine, current) => {
      // Erased first: if the delete then fails, the call can simply be repeated.
      if (erase) {
        await engine.history.eraseTexts({
          namespace: engine.collection,
          memoryIds: [id],
          ...signalOf(options.abortSignal),
        });
      }
      const changes = engine.writer.changes();
      changes.delete(current, { erase });
      await engine.writer.write(changes, options.abortSignal);
      return { id, deleted: true as const };
    });
  }

  /**
   * Deletes every memory of a scope (every page, nothing outside it), recording each deletion.
   * With `erase`, every history event of the scope loses its texts too.
   */
  async deleteAll(options: DeleteAllOptions): Promise<{ deleted: number }> {
    const scope = normalizeScope(options, { required: true });
    const erase = options.erase === true;
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
        if (erase && page.records.length > 0) {
          const memoryIds = page.records.map((record) => record.id);
          await engine.history.eraseTexts({ namespace: engine.collection, memoryIds, ...signal });
        }
        const changes = engine.writer.changes();
        for (const record of page.records) changes.delete(record, { erase });
        await engine.writer.write(changes, options.abortSignal);
        deleted += page.records.length;
        cursor = page.nextCursor;
      } while (cursor);
      // The scope's other events: memories deleted before, inputs the model could not process.
      if (erase)
        await engine.history.eraseTexts({ namespace: engine.collection, scope, ...signal });
      await engine.graph?.deleteScope(scope, options.abortSignal);
      return { deleted };
    });
  }

  /**
   * Erases the texts of history events older than `olderThan` (or created before `before`), else
   * the `historyTextRetention` option (the events themselves stay). With `archive`, the events
   * are first written to an archive and checked. Returns how many events lost their texts.
   */
  async pruneHistory(options: PruneHistoryOptions = {}): Promise<PruneHistoryResult> {
    const engine = await this.#ready();
    let before = options.before;
    if (before === undefined) {
      const age = options.olderThan ?? this.#options.historyTextRetention;
      if (age === undefined) {
        throw new InvalidArgumentError({
          source: 'core',
          message:
            'pruneHistory needs an age: pass olderThan (e.g. "90d") or set the historyTextRetention option.',
        });
      }
      const milliseconds = parseDuration(
        age,
        options.olderThan === undefined ? 'historyTextRetention' : 'olderThan',
      );
      before = new Date(engine.now().getTime() - milliseconds).toISOString();
    } else if (Number.isNaN(Date.parse(before))) {
      throw new InvalidArgumentError({
        source: 'core',
        message: `before must be an ISO-8601 time, got ${JSON.stringify(before)}.`,
      });
    }
    const archive = options.archive
      ? await archiveHistoryTexts(engine.history, engine.collection, {
          destination: options.archive,
          before,
          ...signalOf(options.abortSignal),
        })
      : undefined;
    const { erased } = await engine.history.eraseTexts({
      namespace: engine.collection,
      before,
      ...signalOf(options.abortSignal),
    });
    return { erased, ...(archive ? { archive } : {}) };
  }

  /**
   * Deletes the memories whose `expiresAt` has passed, in batches, each deletion recorded in the
   * history (actor `expiry`; with `erase`, or the `eraseExpired` option, the texts of their
   * events are erased too). Safe to stop and run again: it only ever deletes what has expired.
   */
  async deleteExpired(options: DeleteExpiredOptions = {}): Promise<DeleteExpiredProgress> {
    const batchSize = checkLimit(options.batchSize, 500);
    const erase = options.erase ?? this.#options.eraseExpired === true;
    const engine = await this.#ready();
    const { store } = engine;
    const now = engine.now();
    const signal = signalOf(options.signal);
    const inStore = store.capabilities.filterOperators.includes('lte');
    const progress: DeleteExpiredProgress = { deleted: 0, scanned: 0 };
    // Whole passes over the collection, each following its cursors to the end. Restarting from
    // the first page after every deleting batch re-read every live record before the next
    // expired one (quadratic: 502 deletions/s at 1M against 2,255/s at 100k). A cursor past
    // deleted records is not stable in every store (offset cursors skip), so a pass that
    // deleted anything is followed by another; with keyset cursors the second finds nothing.
    let deletedInPass = 0;
    let cursor: string | undefined;
    while (!options.signal?.aborted) {
      const page = await store.list({
        collection: this.#collection,
        limit: batchSize,
        ...(inStore ? { filter: expiredFilter(now) } : {}),
        ...(cursor ? { cursor } : {}),
        ...signal,
      });
      progress.scanned += page.records.length;
      const expired = page.records.filter((record) => isExpired(record, now));
      const deleted = await this.#deleteRecords(engine, expired, erase, options.signal);
      progress.deleted += deleted;
      deletedInPass += deleted;
      options.onProgress?.({ ...progress });
      cursor = page.nextCursor;
      if (cursor) continue;
      if (!inStore || deletedInPass === 0) break;
      deletedInPass = 0;
    }
    return progress;
  }

  /** Deletes records that have expired, scope by scope under each scope's lock; returns how many. */
  async #deleteRecords(
    engine: MemoryEngine,
    records: StoredRecord[],
    erase: boolean,
    abortSignal: AbortSignal | undefined,
  ): Promise<number> {
    const byScope = new Map<string, StoredRecord[]>();
    for (const record of records) {
      const key = scopeKey(scopeOf(record));
      byScope.set(key, [...(byScope.get(key) ?? []), record]);
    }
    let deleted = 0;
    for (const group of byScope.values()) {
      deleted += await engine.writer.inScope(group[0]!, async () => {
        // Read again under the lock: an update may have moved the expiry since the page was read.
        const current = await engine.store.get({
          collection: this.#collection,
          ids: group.map((record) => record.id),
          ...signalOf(abortSignal),
        });
        const expired = current.filter((record) => isExpired(record, engine.now()));
        if (expired.length === 0) return 0;
        if (erase) {
          await engine.history.eraseTexts({
            namespace: engine.collection,
            memoryIds: expired.map((record) => record.id),
            ...signalOf(abortSignal),
          });
        }
        const changes = new ChangeSet({
          collection: engine.collection,
          actor: 'expiry',
          now: engine.now,
        });
        for (const record of expired) changes.delete(record, { erase });
        await engine.writer.write(changes, abortSignal);
        return expired.length;
      });
    }
    return deleted;
  }

  /**
   * Where the history is kept and whether it outlives the process; opens the stores. A history
   * kept in process memory (`durable: false`) is lost on exit and differs per process.
   */
  async describeHistory(): Promise<HistoryDescription> {
    const engine = await this.#ready();
    return { provider: engine.history.provider, durable: engine.historyDurable };
  }

  /**
   * Every recorded change of one memory, oldest first. Throws `NotFoundError` when the id has
   * neither a memory nor an event, or (when a scope is given) belongs to another scope.
   */
  async history(id: string, options: ByIdOptions = {}): Promise<HistoryEvent[]> {
    checkId(id);
    const scope = normalizeScope(options);
    const signal = signalOf(options.abortSignal);
    const engine = await this.#ready();
    const events = await engine.history.byMemory({
      namespace: engine.collection,
      memoryId: id,
      ...signal,
    });
    const needsRecord = events.length === 0 || Object.keys(scope).length > 0;
    const [record] = needsRecord
      ? await engine.store.get({ collection: this.#collection, ids: [id], ...signal })
      : [];
    // A deleted memory is known by its events, which carry its scope.
    const owner = record ?? events.at(-1);
    if (!owner || !matchesScope(owner, scope)) throw noMemory(id);
    return events;
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
      await engine.history.deleteScope({ namespace: engine.collection, scope, ...signal });
      await engine.graph?.deleteScope(scope, options.abortSignal);
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
   * Every memory of the collection (all scopes), page by page, in the store's stable order: a
   * whole project's export. Expired memories are left out.
   */
  async *exportAll(options: SignalOptions = {}): AsyncGenerator<MemoryItem> {
    const engine = await this.#ready();
    const now = engine.now();
    const filter = withUnexpiredFilter(engine.store, undefined, now);
    let cursor: string | undefined;
    do {
      const page = await engine.store.list({
        collection: this.#collection,
        limit: 500,
        ...(filter ? { filter } : {}),
        ...(cursor ? { cursor } : {}),
        ...signalOf(options.abortSignal),
      });
      for (const record of page.records) if (!isExpired(record, now)) yield toMemoryItem(record);
      cursor = page.nextCursor;
    } while (cursor);
  }

  /**
   * Writes a backup of the whole collection (memories with their vectors, history, graph) to a
   * directory or object storage, part by part with a manifest of counts and checksums; memory
   * use does not grow with the number of memories. Returns the manifest.
   */
  async backup(options: BackupOptions): Promise<BackupManifest> {
    return backupCollection(await this.#ready(), options);
  }

  /**
   * Restores a backup written by {@link Memory.backup} into this Memory's collection, after
   * checking its manifest, every part's checksum and the embedder (`EmbedderMismatchError` when
   * the backup's vectors come from another one).
   */
  async restore(options: RestoreOptions): Promise<RestoreSummary> {
    return restoreCollection(await this.#ready(), options);
  }

  /**
   * Stores memories as they are (no inference), embedding them in batches: the fast path for
   * bulk imports. Each item needs a text and a scope.
   */
  async import(items: ImportItem[], options: SignalOptions = {}): Promise<AddResult> {
    const checked = checkImportItems(items);
    if (checked.length === 0) return { results: [] };
    const engine = await this.#ready();
    const redactor = engine.redactor;
    const counts: Record<string, number> = {};
    const stored = redactor
      ? checked.map((item) => ({
          ...item,
          text: redactor.redactJson(item.text, counts),
          ...(item.metadata ? { metadata: redactor.redactJson(item.metadata, counts) } : {}),
        }))
      : checked;
    return engine.writer.inScopes(
      checked.map(scopeOf),
      () => storeVerbatim(engine, stored, options.abortSignal),
      options.abortSignal,
    );
  }

  /**
   * One page of the duplicate-merge pass over the whole collection: memories of one scope with
   * the same text, or vectors at least `threshold` alike, are merged into the older one (its
   * metadata gains the other's keys) and the younger deleted, with history events. Never merges
   * across scopes. Call again with `nextCursor` until it is absent; `dryRun` only reports pairs.
   */
  async mergeDuplicates(options: MergeDuplicatesOptions = {}): Promise<MergeDuplicatesResult> {
    const threshold = options.threshold ?? 0.95;
    checkThreshold(threshold);
    const limit = checkLimit(options.limit, 200);
    const engine = await this.#ready();
    engine.requireMatchingDimensions();
    return mergeDuplicatePage(engine, { ...options, threshold, limit });
  }

  /**
   * Computes every memory's vector of the collection again with another embedder, in batches,
   * saving progress after each (see `reembedState`), then makes it this Memory's embedder and
   * records it as the collection's, so that `EmbedderMismatchError` no longer fires. Called again
   * with the same embedder after a crash or an abort, it continues where it stopped. With vectors
   * of the collection's length it replaces them in place (reads continue); otherwise it embeds
   * into a staging collection and then recreates the collection (reads miss memories while they
   * are copied back). Writes through embedders that check the data directory wait until it ends.
   */
  async reembed(options: ReembedOptions): Promise<ReembedResult> {
    const engine = await this.#ready();
    this.#reembedState ??= engine.reembedState ?? createInMemoryReembedState();
    const result = await reembedMemories(engine, this.#reembedState, options);
    await this.useEmbedder(options.embedder);
    return result;
  }

  /**
   * Makes `embedder` this Memory's embedder from the next call on, keeping the stores open: for a
   * collection re-embedded elsewhere (another process, a maintenance job) while this Memory was
   * open. Calls under way finish with the previous one. The embedder must make vectors of the
   * collection's length.
   */
  async useEmbedder(embedder: Embedder): Promise<void> {
    const engine = await this.#ready();
    this.#options = {
      ...engine.options,
      historyStore: engine.history,
      scopeLock: engine.scopeLock ?? null,
      embedder,
    };
    this.#engine = undefined;
    await this.#ready();
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
