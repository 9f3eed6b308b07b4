import { randomUUID } from 'node:crypto';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { scoreBM25 } from './bm25.js';
import type { Embedder } from './embedder.js';
import {
  AdapterCallError,
  ClosedError,
  DimensionMismatchError,
  InvalidArgumentError,
  NotFoundError,
  UnsupportedFunctionalityError,
} from './errors.js';
import {
  type FilterExpression,
  type FilterInput,
  filterOperatorsUsed,
  normalizeFilter,
} from './filter.js';
import { type GraphChanges, GraphMemory, type RelationItem } from './graph-memory.js';
import type { GraphStore } from './graph-store.js';
import type { HistoryEvent, HistoryStore } from './history-store.js';
import { createInMemoryGraphStore } from './in-memory-graph-store.js';
import { createInMemoryHistoryStore } from './in-memory-history-store.js';
import { parseModelJson } from './json-repair.js';
import { KeyedMutex } from './keyed-mutex.js';
import type { LLM, LLMGenerateOptions, LLMMessage } from './llm.js';
import {
  extractionMessages,
  extractionSchema,
  extractionSchemaName,
  type Message,
  reconcileMessages,
  reconcileSchema,
  reconcileSchemaName,
  retryMessage,
} from './prompts.js';
import {
  type Environment,
  type ImportModule,
  loadAdapterPackage,
  resolveEmbedderFromEnvironment,
  resolveLLMFromEnvironment,
} from './providers.js';
import type { Reranker } from './reranker.js';
import { normalizeScope, type Scope, scopeFields, scopeKey } from './scope.js';
import { cosineSimilarity } from './similarity.js';
import { normalizeText, textHash } from './text.js';
import type {
  JsonValue,
  StoredRecord,
  VectorMatch,
  VectorRecord,
  VectorStore,
} from './vector-store.js';

/** Configuration of a {@link Memory}. Everything is optional: `new Memory()` works offline. */
export interface MemoryOptions {
  /** Where memories live. Default: the embedded SQLite store (`@engram/sqlite`) in `dataDir`. */
  vectorStore?: VectorStore;
  /**
   * Where the audit history lives. Default: the vector store itself when it keeps history
   * atomically (SQLite, in-memory), else an in-memory history.
   */
  historyStore?: HistoryStore;
  /** Turns texts into vectors. Default: `ENGRAM_EMBEDDER`, OpenAI when `OPENAI_API_KEY` is set, else the offline hash embedder. */
  embedder?: Embedder;
  /** Extracts and reconciles facts. `null` turns inference off. Default: `ENGRAM_LLM`, or OpenAI when `OPENAI_API_KEY` is set, else none. */
  llm?: LLM | null;
  /** Optional second stage of `search`. */
  reranker?: Reranker;
  /**
   * Keeps a knowledge graph of entities and relations beside the vectors (needs an LLM to
   * extract them). Default: `ENGRAM_GRAPH` (`kuzu` for the embedded one), else none.
   */
  graphStore?: GraphStore | null;
  /** Similarity above which a new entity merges into an existing one. Default 0.7. */
  graphThreshold?: number;
  /**
   * Weight of keyword (BM25) relevance against vector similarity when `search` fuses them, from
   * 0 (vectors only) to 1 (keywords only). Default 0.8 with the offline hash embedder, 0.5 with
   * any other.
   */
  keywordWeight?: number;
  /** Collection (table, index) name in the vector store. Default `ENGRAM_COLLECTION` or `memories`. */
  collection?: string;
  /** Data directory of the embedded store. Default `ENGRAM_HOME` or `~/.engram`. */
  dataDir?: string;
  /** Environment variables to read configuration from. Default `process.env`. */
  env?: Environment;
  /** Loads adapter packages named by configuration, resolved from the caller's location. */
  importModule?: ImportModule;
  /** Replaces the default system prompts; `{today}` in the extraction prompt becomes the date. */
  prompts?: { extraction?: string; reconcile?: string };
  /** Existing memories fetched per new fact for reconciliation. Default 5. */
  candidatesPerFact?: number;
  /** Extra attempts after an unusable LLM answer. Default 1. */
  llmRetries?: number;
  /** Who is recorded as making changes in the history. Default `engine`. */
  actor?: string;
  /** Clock, for tests. */
  now?: () => Date;
}

/** A stored memory as callers see it. */
export interface MemoryItem {
  id: string;
  /** The memory text. */
  memory: string;
  /** Hash of the normalized text. */
  hash?: string;
  userId?: string;
  agentId?: string;
  runId?: string;
  metadata: Record<string, JsonValue>;
  createdAt: string;
  updatedAt: string;
}

/** A search result. */
export interface SearchResultItem extends MemoryItem {
  /** Vector similarity to the query, higher is better (1 = same direction). */
  score: number;
  /** Keyword (BM25) relevance when the memory matched the query's words. */
  keywordScore?: number;
  /** Reranker score when a reranker ran. */
  rerankScore?: number;
}

/** One change made by `add`. */
export interface MemoryChange {
  id: string;
  memory: string;
  event: 'ADD' | 'UPDATE' | 'DELETE';
  /** The text before an UPDATE or DELETE. */
  previousMemory?: string;
}

/** Scope ids plus the cancellation signal, shared by most calls. */
export interface ScopedOptions extends Scope {
  abortSignal?: AbortSignal;
}

/** Options of {@link Memory.add}. */
export interface AddOptions extends ScopedOptions {
  /** Stored with every memory this call creates (merged into updated ones). */
  metadata?: Record<string, JsonValue>;
  /** Extract and reconcile facts with the LLM. Default: true when an LLM is configured. */
  infer?: boolean;
}

/** Result of {@link Memory.add}. */
export interface AddResult {
  results: MemoryChange[];
  /** Relations added to and invalidated in the graph, when graph memory is configured. */
  relations?: GraphChanges;
  /** Problems that did not stop the call, e.g. an LLM answer that had to be repaired or dropped. */
  warnings?: string[];
}

/** Options of {@link Memory.search}. */
export interface SearchOptions extends ScopedOptions {
  /** Metadata filter: the portable AST or the mem0-style shorthand. */
  filters?: FilterInput;
  /** Number of results. Default 10, at most 1000. */
  limit?: number;
  /** Leave out results whose similarity is below this. */
  threshold?: number;
  /** Fuse keyword relevance with vector similarity. Default true. */
  keywordSearch?: boolean;
  /** Run the configured reranker. Default true when one is configured. */
  rerank?: boolean;
}

/** Result of {@link Memory.search}. */
export interface SearchResult {
  results: SearchResultItem[];
  /** Matching graph relations, when graph memory is configured. */
  relations?: RelationItem[];
}

/** Options of {@link Memory.list}. */
export interface ListMemoriesOptions extends ScopedOptions {
  filters?: FilterInput;
  /** Page size. Default 100, at most 1000. */
  limit?: number;
  /** `nextCursor` of the previous page. */
  cursor?: string;
}

/** Options of {@link Memory.update}. */
export interface UpdateOptions {
  /** New text; the memory is re-embedded. */
  text?: string;
  /** Merged into the existing metadata (top-level keys replace). */
  metadata?: Record<string, JsonValue>;
  abortSignal?: AbortSignal;
}

/** One memory for {@link Memory.import}. */
export interface ImportItem extends Scope {
  text: string;
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
}

const source = 'core';
const maxMessageCharacters = 200_000;
const maxMemoryCharacters = 20_000;
const maxFactsPerAdd = 100;
const maxLimit = 1000;

interface Components {
  store: VectorStore;
  history: HistoryStore;
  embedder: Embedder;
  llm: LLM | undefined;
  graphStore: GraphStore | undefined;
  graph: GraphMemory | undefined;
}

interface Action {
  event: 'ADD' | 'UPDATE' | 'DELETE' | 'NONE';
  id?: string;
  text?: string;
}

function invalid(message: string): never {
  throw new InvalidArgumentError({ source, message });
}

function checkLimit(value: number | undefined, fallback: number, name = 'limit'): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1 || value > maxLimit) {
    invalid(`${name} must be an integer from 1 to ${maxLimit}, got ${value}.`);
  }
  return value;
}

function checkId(id: unknown): string {
  if (typeof id !== 'string' || id.trim().length === 0 || id.length > 256) {
    invalid(`id must be a non-empty string of at most 256 characters, got ${JSON.stringify(id)}.`);
  }
  return id;
}

function checkText(text: unknown, name: string): string {
  if (typeof text !== 'string' || text.trim().length === 0) {
    invalid(`${name} must be a non-empty string.`);
  }
  if (text.length > maxMemoryCharacters) {
    invalid(
      `${name} is ${text.length} characters long; at most ${maxMemoryCharacters} are allowed.`,
    );
  }
  return text.trim();
}

function checkMetadata(metadata: unknown): Record<string, JsonValue> {
  if (metadata === undefined) return {};
  if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata)) {
    invalid('metadata must be a plain JSON object, e.g. {"category": "food"}.');
  }
  let serialized: string;
  try {
    serialized = JSON.stringify(metadata);
  } catch (error) {
    throw new InvalidArgumentError({
      source,
      message: 'metadata must be JSON-serializable.',
      cause: error,
    });
  }
  if (serialized.length > 64_000) invalid('metadata must serialize to at most 64,000 characters.');
  return JSON.parse(serialized) as Record<string, JsonValue>;
}

function normalizeMessages(input: unknown): Message[] {
  const messages: Message[] =
    typeof input === 'string'
      ? [{ role: 'user', content: input }]
      : Array.isArray(input)
        ? (input as Message[])
        : invalid('messages must be a string or an array of {role, content} objects.');
  if (messages.length === 0) invalid('messages must not be empty.');
  let total = 0;
  for (const [index, message] of messages.entries()) {
    if (message == null || typeof message !== 'object') {
      invalid(`messages[${index}] must be an object {role, content}.`);
    }
    if (!['user', 'assistant', 'system'].includes(message.role)) {
      invalid(
        `messages[${index}].role must be "user", "assistant" or "system", got ${JSON.stringify(message.role)}.`,
      );
    }
    if (typeof message.content !== 'string')
      invalid(`messages[${index}].content must be a string.`);
    total += message.content.length;
  }
  if (messages.every((message) => message.content.trim().length === 0)) {
    invalid('messages contain no text.');
  }
  if (total > maxMessageCharacters) {
    invalid(
      `messages hold ${total} characters; at most ${maxMessageCharacters} are accepted per add.`,
    );
  }
  return messages;
}

function toItem(record: StoredRecord): MemoryItem {
  const item: MemoryItem = {
    id: record.id,
    memory: record.text,
    metadata: record.metadata ?? {},
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  };
  if (record.hash !== undefined) item.hash = record.hash;
  for (const field of scopeFields) if (record[field] !== undefined) item[field] = record[field];
  return item;
}

function scopeOf(record: Scope): Scope {
  const scope: Scope = {};
  for (const field of scopeFields) if (record[field] !== undefined) scope[field] = record[field];
  return scope;
}

function parseFacts(value: unknown): string[] | undefined {
  const list = Array.isArray(value)
    ? value
    : value != null && typeof value === 'object'
      ? ((value as Record<string, unknown>).facts ?? (value as Record<string, unknown>).memories)
      : undefined;
  if (!Array.isArray(list)) return undefined;
  const facts: string[] = [];
  for (const entry of list) {
    const text =
      typeof entry === 'string'
        ? entry
        : entry != null && typeof entry === 'object'
          ? ((entry as Record<string, unknown>).fact ?? (entry as Record<string, unknown>).text)
          : undefined;
    if (typeof text === 'string' && text.trim().length > 0)
      facts.push(text.trim().slice(0, maxMemoryCharacters));
  }
  return facts;
}

function parseActions(value: unknown): Action[] | undefined {
  const list = Array.isArray(value)
    ? value
    : value != null && typeof value === 'object'
      ? ((value as Record<string, unknown>).memory ??
        (value as Record<string, unknown>).memories ??
        (value as Record<string, unknown>).actions)
      : undefined;
  if (!Array.isArray(list)) return undefined;
  const actions: Action[] = [];
  for (const entry of list) {
    if (entry == null || typeof entry !== 'object') continue;
    const raw = entry as Record<string, unknown>;
    const event = String(raw.event ?? raw.action ?? '').toUpperCase();
    if (!['ADD', 'UPDATE', 'DELETE', 'NONE'].includes(event)) continue;
    const id = raw.id ?? raw.memory_id;
    const text = raw.text ?? raw.memory;
    actions.push({
      event: event as Action['event'],
      ...(typeof id === 'string' || typeof id === 'number' ? { id: String(id) } : {}),
      ...(typeof text === 'string' && text.trim()
        ? { text: text.trim().slice(0, maxMemoryCharacters) }
        : {}),
    });
  }
  return actions;
}

/**
 * Long-term memory for an AI application: `add` conversations, `search` what matters for the
 * next prompt. See the package README for configuration.
 */
export class Memory {
  readonly #options: MemoryOptions;
  readonly #env: Environment;
  readonly #collection: string;
  readonly #locks = new KeyedMutex();
  #components: Promise<Components> | undefined;
  #closed = false;

  constructor(options: MemoryOptions = {}) {
    this.#options = options;
    this.#env = options.env ?? process.env;
    this.#collection = options.collection ?? this.#env.ENGRAM_COLLECTION ?? 'memories';
    if (!/^[A-Za-z][A-Za-z0-9_-]{0,62}$/.test(this.#collection)) {
      invalid(
        `collection must start with a letter and hold only letters, digits, "_" or "-" (at most 63), got ${JSON.stringify(this.#collection)}.`,
      );
    }
    if (
      options.keywordWeight !== undefined &&
      !(
        typeof options.keywordWeight === 'number' &&
        options.keywordWeight >= 0 &&
        options.keywordWeight <= 1
      )
    ) {
      invalid(`keywordWeight must be a number from 0 to 1, got ${options.keywordWeight}.`);
    }
    for (const [name, value] of [
      ['candidatesPerFact', options.candidatesPerFact],
      ['llmRetries', options.llmRetries],
    ] as const) {
      if (value !== undefined && (!Number.isInteger(value) || value < 0 || value > 50)) {
        invalid(`${name} must be an integer from 0 to 50, got ${value}.`);
      }
    }
  }

  /** The data directory of the embedded store. */
  get dataDir(): string {
    return this.#options.dataDir ?? this.#env.ENGRAM_HOME ?? join(homedir(), '.engram');
  }

  /** Weight of keyword relevance against vector similarity in `search`'s fusion. */
  #keywordWeight(components: Components): number {
    if (this.#options.keywordWeight !== undefined) return this.#options.keywordWeight;
    // The hash embedder is itself lexical and weak on meaning: keyword relevance carries most of
    // the signal (measured on LoCoMo, docs/benchmarks.md). Neural embedders get an even split.
    return components.embedder.provider === 'hash' ? 0.8 : 0.5;
  }

  #now(): Date {
    return this.#options.now?.() ?? new Date();
  }

  #ready(): Promise<Components> {
    if (this.#closed) {
      return Promise.reject(
        new ClosedError({ source, message: 'This Memory was closed; create a new one.' }),
      );
    }
    if (!this.#components) {
      this.#components = this.#initialize();
      this.#components.catch(() => {
        this.#components = undefined;
      });
    }
    return this.#components;
  }

  async #initialize(): Promise<Components> {
    const options = this.#options;
    const embedder =
      options.embedder ?? (await resolveEmbedderFromEnvironment(this.#env, options.importModule));
    const llm =
      'llm' in options
        ? (options.llm ?? undefined)
        : await resolveLLMFromEnvironment(this.#env, options.importModule);
    let store = options.vectorStore;
    if (!store) {
      const module = await loadAdapterPackage(
        '@engram/sqlite',
        'The embedded default store',
        options.importModule,
      );
      const create = module.createSqliteStore as (settings: { path: string }) => VectorStore;
      store = create({ path: join(this.dataDir, 'engram.db') });
    }
    const history =
      options.historyStore ??
      (store.capabilities.atomicHistory && 'byMemory' in store
        ? (store as unknown as HistoryStore)
        : createInMemoryHistoryStore());
    try {
      await store.ensureCollection({
        collection: this.#collection,
        dimensions: embedder.dimensions,
      });
    } catch (error) {
      if (DimensionMismatchError.isInstance(error)) {
        throw new DimensionMismatchError({
          source,
          expected: error.expected,
          actual: error.actual,
          cause: error,
          message: `Collection "${this.#collection}" holds ${error.expected}-dimensional vectors, but the embedder ${embedder.provider}:${embedder.modelId} makes ${embedder.dimensions}. Use the embedder the collection was created with (ENGRAM_EMBEDDER), or another collection (ENGRAM_COLLECTION).`,
        });
      }
      throw error;
    }
    const graphStore =
      'graphStore' in options
        ? (options.graphStore ?? undefined)
        : await this.#graphStoreFromEnvironment();
    let graph: GraphMemory | undefined;
    if (graphStore) {
      await graphStore.ensureSchema({ dimensions: embedder.dimensions });
      const components = { embedder } as Components;
      graph = new GraphMemory({
        store: graphStore,
        ...(llm ? { llm } : {}),
        embed: (values, purpose) => this.#embed(components, values, purpose),
        threshold: options.graphThreshold ?? 0.7,
        now: () => this.#now(),
        retries: options.llmRetries ?? 1,
      });
    }
    return { store, history, embedder, llm, graphStore, graph };
  }

  async #graphStoreFromEnvironment(): Promise<GraphStore | undefined> {
    const name = this.#env.ENGRAM_GRAPH?.trim().toLowerCase();
    if (!name || name === 'none') return undefined;
    if (name === 'memory') return createInMemoryGraphStore();
    if (!/^[a-z][a-z0-9-]*$/.test(name)) {
      invalid(`ENGRAM_GRAPH=${name}: give an adapter name such as kuzu, neo4j or memory.`);
    }
    const specifier = `@engram/${name}`;
    const module = await loadAdapterPackage(
      specifier,
      `ENGRAM_GRAPH=${name}`,
      this.#options.importModule,
    );
    const pascal = name
      .split('-')
      .map((part) => part[0]!.toUpperCase() + part.slice(1))
      .join('');
    const create = module[`create${pascal}GraphStore`];
    if (typeof create !== 'function') {
      invalid(
        `${specifier} does not export create${pascal}GraphStore; is it a graph store adapter?`,
      );
    }
    return (create as (settings: { path: string }) => GraphStore)({
      path: join(this.dataDir, `${name}-graph`),
    });
  }

  async #embed(
    components: Components,
    values: string[],
    purpose: 'document' | 'query',
    abortSignal?: AbortSignal,
  ): Promise<number[][]> {
    const { embedder } = components;
    const embeddings: number[][] = [];
    for (let start = 0; start < values.length; start += embedder.maxEmbeddingsPerCall) {
      const batch = values.slice(start, start + embedder.maxEmbeddingsPerCall);
      const result = await embedder.embed({
        values: batch,
        purpose,
        ...(abortSignal ? { abortSignal } : {}),
      });
      if (result.embeddings.length !== batch.length) {
        throw new AdapterCallError({
          source: embedder.provider,
          message: `The embedder returned ${result.embeddings.length} vectors for ${batch.length} texts.`,
        });
      }
      embeddings.push(...result.embeddings);
    }
    return embeddings;
  }

  async #write(
    components: Components,
    upsert: VectorRecord[],
    remove: string[],
    history: HistoryEvent[],
    abortSignal?: AbortSignal,
  ): Promise<void> {
    const { store } = components;
    const signal = abortSignal ? { abortSignal } : {};
    if (
      store.commit &&
      store.capabilities.atomicHistory &&
      (components.history as unknown) === store
    ) {
      await store.commit({
        collection: this.#collection,
        upsert,
        delete: remove,
        history,
        ...signal,
      });
      return;
    }
    for (let start = 0; start < upsert.length; start += store.capabilities.maxBatchSize) {
      await store.upsert({
        collection: this.#collection,
        records: upsert.slice(start, start + store.capabilities.maxBatchSize),
        ...signal,
      });
    }
    if (remove.length > 0)
      await store.delete({ collection: this.#collection, ids: remove, ...signal });
    if (history.length > 0) await components.history.append({ events: history, ...signal });
  }

  #event(
    event: HistoryEvent['event'],
    memoryId: string | null,
    previousText: string | null,
    newText: string | null,
    scope: Scope,
    detail?: string,
  ): HistoryEvent {
    return {
      id: randomUUID(),
      memoryId,
      event,
      previousText,
      newText,
      ...scope,
      actor: this.#options.actor ?? 'engine',
      ...(detail ? { detail } : {}),
      createdAt: this.#now().toISOString(),
    };
  }

  #checkFilter(
    components: Components,
    input: FilterInput | undefined,
  ): FilterExpression | undefined {
    const filter = normalizeFilter(input);
    if (!filter) return undefined;
    const supported = new Set(components.store.capabilities.filterOperators);
    for (const operator of filterOperatorsUsed(filter)) {
      if (!supported.has(operator)) {
        throw new UnsupportedFunctionalityError({
          source: components.store.provider,
          message: `The ${components.store.provider} store does not support the filter operator "${operator}". Supported: ${[...supported].join(', ')}.`,
        });
      }
    }
    return filter;
  }

  /**
   * Remembers a conversation. With an LLM, extracts durable facts and reconciles them with what
   * the scope already holds (ADD, UPDATE, DELETE or leave alone); without one, or with
   * `infer: false`, stores each message as a memory. Adds for the same scope run one at a time.
   */
  async add(messages: string | Message[], options: AddOptions): Promise<AddResult> {
    const scope = normalizeScope(options, { required: true });
    const normalized = normalizeMessages(messages);
    const metadata = checkMetadata(options.metadata);
    const components = await this.#ready();
    const infer = options.infer ?? components.llm !== undefined;
    if (infer && !components.llm) {
      invalid(
        'infer: true needs an LLM. Configure one (OPENAI_API_KEY, ENGRAM_LLM, or the llm option), or pass infer: false.',
      );
    }
    return this.#locks.run(scopeKey(scope), async () => {
      if (!infer) {
        return this.#addVerbatim(components, normalized, scope, metadata, options.abortSignal);
      }
      if (!components.graph) {
        return this.#addInferred(components, normalized, scope, metadata, options.abortSignal);
      }
      const graphWarnings: string[] = [];
      const [result, relations] = await Promise.all([
        this.#addInferred(components, normalized, scope, metadata, options.abortSignal),
        components.graph
          .add(normalized, scope, graphWarnings, options.abortSignal)
          .catch((error: unknown) => {
            graphWarnings.push(`Graph memory was not updated: ${(error as Error).message}`);
            return { added: [], invalidated: [] };
          }),
      ]);
      const warnings = [...(result.warnings ?? []), ...graphWarnings];
      return { ...result, relations, ...(warnings.length > 0 ? { warnings } : {}) };
    });
  }

  async #addVerbatim(
    components: Components,
    messages: Message[],
    scope: Scope,
    metadata: Record<string, JsonValue>,
    abortSignal?: AbortSignal,
  ): Promise<AddResult> {
    const kept = messages.filter((message) => message.role !== 'system' && message.content.trim());
    const items = kept.map((message, index) => ({
      ...scope,
      text: checkText(message.content, `messages[${index}].content`),
      metadata: messages.length > 1 ? { ...metadata, role: message.role } : metadata,
    }));
    return this.#storeVerbatim(components, items, abortSignal);
  }

  async #storeVerbatim(
    components: Components,
    items: ImportItem[],
    abortSignal?: AbortSignal,
  ): Promise<AddResult> {
    const givenIds = items.flatMap((item) => (item.id === undefined ? [] : [item.id]));
    const existing = new Map(
      givenIds.length === 0
        ? []
        : (
            await components.store.get({
              collection: this.#collection,
              ids: givenIds,
              ...(abortSignal ? { abortSignal } : {}),
            })
          ).map((record) => [record.id, record]),
    );
    for (const [index, item] of items.entries()) {
      const previous = item.id === undefined ? undefined : existing.get(item.id);
      if (previous && scopeKey(scopeOf(previous)) !== scopeKey(scopeOf(item))) {
        invalid(
          `items[${index}]: id "${item.id}" belongs to a memory of another scope; leave the id out to import the text as a new memory.`,
        );
      }
    }
    const changed = items.filter((item) => {
      const previous = item.id === undefined ? undefined : existing.get(item.id);
      return (
        !previous ||
        previous.text !== item.text ||
        JSON.stringify(previous.metadata) !== JSON.stringify(item.metadata ?? {})
      );
    });
    const embeddings = await this.#embed(
      components,
      changed.map((item) => item.text),
      'document',
      abortSignal,
    );
    const now = this.#now().toISOString();
    const records: VectorRecord[] = [];
    const events: HistoryEvent[] = [];
    const results: MemoryChange[] = [];
    for (const [index, item] of changed.entries()) {
      const scope = scopeOf(item);
      const previous = item.id === undefined ? undefined : existing.get(item.id);
      const record: VectorRecord = {
        id: item.id ?? randomUUID(),
        vector: embeddings[index]!,
        text: item.text,
        hash: textHash(item.text),
        ...scope,
        metadata: item.metadata ?? {},
        createdAt: item.createdAt ?? previous?.createdAt ?? now,
        updatedAt: item.updatedAt ?? now,
      };
      records.push(record);
      if (previous) {
        events.push(this.#event('UPDATE', record.id, previous.text, record.text, scope));
        results.push({
          id: record.id,
          memory: record.text,
          event: 'UPDATE',
          previousMemory: previous.text,
        });
      } else {
        events.push(this.#event('ADD', record.id, null, record.text, scope));
        results.push({ id: record.id, memory: record.text, event: 'ADD' });
      }
    }
    if (records.length > 0) await this.#write(components, records, [], events, abortSignal);
    return { results };
  }

  async #generateJson<T>(
    llm: LLM,
    messages: LLMMessage[],
    schemaName: string,
    schema: Record<string, unknown>,
    shape: string,
    parse: (value: unknown) => T | undefined,
    accept: (value: T) => boolean,
    abortSignal: AbortSignal | undefined,
    warnings: string[],
  ): Promise<T | undefined> {
    const attempts = 1 + (this.#options.llmRetries ?? 1);
    let conversation = messages;
    for (let attempt = 0; attempt < attempts; attempt++) {
      const request: LLMGenerateOptions = {
        messages: conversation,
        responseFormat: { type: 'json', schema, name: schemaName },
        temperature: 0,
        ...(abortSignal ? { abortSignal } : {}),
      };
      const result = await llm.generate(request);
      const value = parse(
        result.object !== undefined ? result.object : parseModelJson(result.text ?? ''),
      );
      if (value !== undefined && accept(value)) return value;
      warnings.push(
        `The LLM's ${schemaName} answer was unusable (attempt ${attempt + 1} of ${attempts}): ${JSON.stringify((result.text ?? '').slice(0, 200))}`,
      );
      conversation = [
        ...messages,
        { role: 'assistant', content: result.text ?? '' },
        retryMessage(shape),
      ];
    }
    return undefined;
  }

  async #addInferred(
    components: Components,
    messages: Message[],
    scope: Scope,
    metadata: Record<string, JsonValue>,
    abortSignal?: AbortSignal,
  ): Promise<AddResult> {
    const llm = components.llm!;
    const warnings: string[] = [];
    const today = this.#now().toISOString().slice(0, 10);
    const raw = messages.map((message) => `${message.role}: ${message.content}`).join('\n');
    const keepInput = async (detail: string) => {
      await this.#write(
        components,
        [],
        [],
        [this.#event('INFERENCE_FAILED', null, null, raw, scope, detail)],
      );
    };

    let facts: string[] | undefined;
    try {
      facts = await this.#generateJson(
        llm,
        extractionMessages(messages, today, this.#options.prompts?.extraction),
        extractionSchemaName,
        extractionSchema,
        '{"facts": ["..."]}',
        parseFacts,
        () => true,
        abortSignal,
        warnings,
      );
    } catch (error) {
      await keepInput(`fact extraction failed: ${(error as Error).message}`);
      throw error;
    }
    if (facts === undefined) {
      await keepInput('fact extraction answer was unusable');
      warnings.push(
        'No facts could be extracted; the input was kept in the history (event INFERENCE_FAILED).',
      );
      return { results: [], warnings };
    }
    const uniqueFacts = [
      ...new Map(facts.map((fact) => [normalizeText(fact), fact])).values(),
    ].slice(0, maxFactsPerAdd);
    if (uniqueFacts.length === 0)
      return warnings.length ? { results: [], warnings } : { results: [] };

    const embeddings = await this.#embed(components, uniqueFacts, 'document', abortSignal);
    const embeddingByText = new Map(
      uniqueFacts.map((fact, index) => [normalizeText(fact), embeddings[index]!]),
    );
    const candidatesPerFact = this.#options.candidatesPerFact ?? 5;
    const related = await Promise.all(
      embeddings.map((vector) =>
        components.store.query({
          collection: this.#collection,
          vector,
          topK: candidatesPerFact,
          scope,
          ...(abortSignal ? { abortSignal } : {}),
        }),
      ),
    );
    const existing = new Map<string, StoredRecord>();
    for (const matches of related)
      for (const match of matches) existing.set(match.record.id, match.record);
    const existingList = [...existing.values()];
    const temporaryIds = new Map(existingList.map((record, index) => [String(index), record]));
    const existingHashes = new Map(
      existingList.map((record) => [record.hash ?? textHash(record.text), record]),
    );

    let actions: Action[] | undefined;
    if (existingList.length === 0) {
      actions = uniqueFacts.map((fact) => ({ event: 'ADD', text: fact }));
    } else {
      try {
        actions = await this.#generateJson(
          llm,
          reconcileMessages(
            existingList.map((record, index) => ({ id: String(index), text: record.text })),
            uniqueFacts,
            this.#options.prompts?.reconcile,
          ),
          reconcileSchemaName,
          reconcileSchema,
          '{"memory": [{"event": "ADD|UPDATE|DELETE|NONE", "id": "...", "text": "..."}]}',
          parseActions,
          (value) => value.length > 0,
          abortSignal,
          warnings,
        );
      } catch (error) {
        if (!AdapterCallError.isInstance(error)) throw error;
        warnings.push(
          `Reconciliation failed (${error.message}); new facts were added as they are.`,
        );
      }
      if (actions === undefined) {
        warnings.push(
          'Reconciliation gave no usable answer; facts not already stored were added as they are.',
        );
        actions = uniqueFacts.map((fact) => ({ event: 'ADD', text: fact }));
      }
    }

    return this.#apply(
      components,
      actions,
      temporaryIds,
      existingHashes,
      embeddingByText,
      scope,
      metadata,
      warnings,
      abortSignal,
    );
  }

  async #apply(
    components: Components,
    actions: Action[],
    temporaryIds: Map<string, StoredRecord>,
    existingHashes: Map<string, StoredRecord>,
    embeddingByText: Map<string, number[]>,
    scope: Scope,
    metadata: Record<string, JsonValue>,
    warnings: string[],
    abortSignal?: AbortSignal,
  ): Promise<AddResult> {
    const now = this.#now().toISOString();
    const touched = new Set<string>();
    const addedHashes = new Set<string>();
    const planned: { action: 'ADD' | 'UPDATE' | 'DELETE'; text: string; target?: StoredRecord }[] =
      [];

    for (const action of actions) {
      const target = action.id !== undefined ? temporaryIds.get(action.id) : undefined;
      if (action.event === 'NONE') {
        if (target) touched.add(target.id);
        continue;
      }
      if (action.event === 'DELETE') {
        if (!target) {
          warnings.push(`Ignored DELETE of unknown memory id ${JSON.stringify(action.id)}.`);
        } else if (!touched.has(target.id)) {
          touched.add(target.id);
          planned.push({ action: 'DELETE', text: target.text, target });
        }
        continue;
      }
      const text = action.text;
      if (!text) {
        warnings.push(`Ignored ${action.event} without text.`);
        continue;
      }
      const hash = textHash(text);
      if (action.event === 'UPDATE' && target && !touched.has(target.id)) {
        touched.add(target.id);
        if ((target.hash ?? textHash(target.text)) !== hash)
          planned.push({ action: 'UPDATE', text, target });
        continue;
      }
      if (action.event === 'UPDATE' && !target) {
        warnings.push(
          `UPDATE of unknown memory id ${JSON.stringify(action.id)} was treated as ADD.`,
        );
      }
      if (existingHashes.has(hash) || addedHashes.has(hash)) continue;
      addedHashes.add(hash);
      planned.push({ action: 'ADD', text });
    }

    const missing = [
      ...new Set(
        planned
          .filter(
            (step) => step.action !== 'DELETE' && !embeddingByText.has(normalizeText(step.text)),
          )
          .map((step) => step.text),
      ),
    ];
    if (missing.length > 0) {
      const vectors = await this.#embed(components, missing, 'document', abortSignal);
      for (const [index, text] of missing.entries()) {
        embeddingByText.set(normalizeText(text), vectors[index]!);
      }
    }

    const upsert: VectorRecord[] = [];
    const remove: string[] = [];
    const events: HistoryEvent[] = [];
    const results: MemoryChange[] = [];
    for (const step of planned) {
      if (step.action === 'DELETE') {
        const target = step.target!;
        remove.push(target.id);
        events.push(this.#event('DELETE', target.id, target.text, null, scopeOf(target)));
        results.push({ id: target.id, memory: target.text, event: 'DELETE' });
        continue;
      }
      const vector = embeddingByText.get(normalizeText(step.text))!;
      if (step.action === 'UPDATE') {
        const target = step.target!;
        upsert.push({
          ...target,
          vector,
          text: step.text,
          hash: textHash(step.text),
          metadata: { ...target.metadata, ...metadata },
          updatedAt: now,
        });
        events.push(this.#event('UPDATE', target.id, target.text, step.text, scopeOf(target)));
        results.push({
          id: target.id,
          memory: step.text,
          event: 'UPDATE',
          previousMemory: target.text,
        });
        continue;
      }
      const id = randomUUID();
      upsert.push({
        id,
        vector,
        text: step.text,
        hash: textHash(step.text),
        ...scope,
        metadata,
        createdAt: now,
        updatedAt: now,
      });
      events.push(this.#event('ADD', id, null, step.text, scope));
      results.push({ id, memory: step.text, event: 'ADD' });
    }
    if (upsert.length > 0 || remove.length > 0) {
      await this.#write(components, upsert, remove, events, abortSignal);
    }
    return warnings.length > 0 ? { results, warnings } : { results };
  }

  /**
   * Finds the memories of a scope that matter for a query: vector similarity fused with keyword
   * relevance (weighted score fusion, see `keywordWeight`), then the reranker when one is configured.
   */
  async search(query: string, options: SearchOptions): Promise<SearchResult> {
    const scope = normalizeScope(options, { required: true });
    if (typeof query !== 'string' || query.trim().length === 0)
      invalid('query must be a non-empty string.');
    if (query.length > maxMemoryCharacters)
      invalid(`query is longer than ${maxMemoryCharacters} characters.`);
    const limit = checkLimit(options.limit, 10);
    if (
      options.threshold !== undefined &&
      (typeof options.threshold !== 'number' || !Number.isFinite(options.threshold))
    ) {
      invalid('threshold must be a finite number, e.g. 0.3.');
    }
    const components = await this.#ready();
    const filter = this.#checkFilter(components, options.filters);
    const { store } = components;
    const signal = options.abortSignal ? { abortSignal: options.abortSignal } : {};
    const [queryVector] = await this.#embed(components, [query], 'query', options.abortSignal);
    const candidates = Math.min(Math.max(limit * 5, 50), maxLimit);
    const base = {
      collection: this.#collection,
      topK: candidates,
      scope,
      ...(filter ? { filter } : {}),
      ...signal,
    };
    const useKeywords = options.keywordSearch !== false;

    const [vectorMatches, nativeKeywordMatches, relations] = await Promise.all([
      store.query({ ...base, vector: queryVector! }),
      useKeywords && store.capabilities.keywordSearch
        ? store.query({ ...base, text: query })
        : Promise.resolve(undefined),
      components.graph
        ? components.graph.search(query, queryVector!, scope, limit, options.abortSignal)
        : Promise.resolve(undefined),
    ]);

    let keywordMatches: VectorMatch[] = nativeKeywordMatches ?? [];
    if (useKeywords && !nativeKeywordMatches) {
      const scores = scoreBM25(
        query,
        vectorMatches.map((match) => match.record.text),
      );
      keywordMatches = vectorMatches
        .map((match, index) => ({ record: match.record, score: scores[index]! }))
        .filter((match) => match.score > 0);
    }

    const fused = new Map<
      string,
      { record: StoredRecord; similarity?: number; keywordScore?: number }
    >();
    for (const match of vectorMatches) {
      fused.set(match.record.id, { record: match.record, similarity: match.score });
    }
    const keywordOnly: string[] = [];
    for (const match of keywordMatches) {
      const entry = fused.get(match.record.id);
      if (entry) {
        entry.keywordScore = match.score;
      } else {
        fused.set(match.record.id, { record: match.record, keywordScore: match.score });
        keywordOnly.push(match.record.id);
      }
    }
    // Vectors are fetched only for the few keyword hits the vector query did not return, so
    // that every result carries a similarity (what `score` and `threshold` mean).
    if (keywordOnly.length > 0) {
      const withVectors = await store.get({
        collection: this.#collection,
        ids: keywordOnly,
        includeVectors: true,
        ...signal,
      });
      for (const record of withVectors) {
        const entry = fused.get(record.id);
        if (entry && record.vector)
          entry.similarity = cosineSimilarity(queryVector!, record.vector);
      }
    }

    // Score fusion: similarity and keyword relevance normalized by the query's best keyword
    // score, weighted by `keywordWeight`.
    const keywordWeight = useKeywords ? this.#keywordWeight(components) : 0;
    const bestKeyword = Math.max(0, ...keywordMatches.map((match) => match.score));
    const fusion = (entry: { similarity?: number; keywordScore?: number }) =>
      (1 - keywordWeight) * (entry.similarity ?? 0) +
      (bestKeyword > 0 ? (keywordWeight * (entry.keywordScore ?? 0)) / bestKeyword : 0);
    let ranked = [...fused.values()]
      .filter(
        (entry) => options.threshold === undefined || (entry.similarity ?? 0) >= options.threshold,
      )
      .map((entry) => ({ ...entry, fusion: fusion(entry) }))
      .sort(
        (left, right) => right.fusion - left.fusion || (left.record.id < right.record.id ? -1 : 1),
      );

    const rerankScores = new Map<string, number>();
    if (this.#options.reranker && options.rerank !== false && ranked.length > 0) {
      const reranked = await this.#options.reranker.rerank({
        query,
        documents: ranked.map((entry) => entry.record.text),
        topN: limit,
        ...signal,
      });
      const order = reranked.results.filter((result) => ranked[result.index] !== undefined);
      for (const result of order) rerankScores.set(ranked[result.index]!.record.id, result.score);
      ranked = order.map((result) => ranked[result.index]!);
    }

    return {
      results: ranked.slice(0, limit).map((entry) => {
        const { vector: _vector, ...record } = entry.record;
        const { id, memory, ...rest } = toItem(record);
        const item: SearchResultItem = { id, memory, score: entry.similarity ?? 0, ...rest };
        if (entry.keywordScore !== undefined) item.keywordScore = entry.keywordScore;
        const rerankScore = rerankScores.get(record.id);
        if (rerankScore !== undefined) item.rerankScore = rerankScore;
        return item;
      }),
      ...(relations ? { relations } : {}),
    };
  }

  /** One memory by id, or `null` when there is none. */
  async get(id: string, options: { abortSignal?: AbortSignal } = {}): Promise<MemoryItem | null> {
    checkId(id);
    const components = await this.#ready();
    const [record] = await components.store.get({
      collection: this.#collection,
      ids: [id],
      ...(options.abortSignal ? { abortSignal: options.abortSignal } : {}),
    });
    return record ? toItem(record) : null;
  }

  /** One page of a scope's memories, in a stable order; pass `nextCursor` back for the next. */
  async list(
    options: ListMemoriesOptions,
  ): Promise<{ results: MemoryItem[]; nextCursor?: string; relations?: RelationItem[] }> {
    const scope = normalizeScope(options, { required: true });
    const limit = checkLimit(options.limit, 100);
    const components = await this.#ready();
    const filter = this.#checkFilter(components, options.filters);
    const page = await components.store.list({
      collection: this.#collection,
      scope,
      limit,
      ...(filter ? { filter } : {}),
      ...(options.cursor ? { cursor: options.cursor } : {}),
      ...(options.abortSignal ? { abortSignal: options.abortSignal } : {}),
    });
    // Relations come with the first page only: they are not paginated with the memories.
    const relations =
      components.graph && !options.cursor
        ? await components.graph.list(scope, limit, options.abortSignal)
        : undefined;
    return {
      results: page.records.map(toItem),
      ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}),
      ...(relations ? { relations } : {}),
    };
  }

  async #existing(
    components: Components,
    id: string,
    abortSignal?: AbortSignal,
  ): Promise<StoredRecord> {
    const [record] = await components.store.get({
      collection: this.#collection,
      ids: [id],
      includeVectors: true,
      ...(abortSignal ? { abortSignal } : {}),
    });
    if (!record) throw new NotFoundError({ source, message: `No memory with id "${id}".` });
    return record;
  }

  /** Changes a memory's text (re-embedding it) and/or merges metadata; records the change. */
  async update(id: string, options: UpdateOptions): Promise<MemoryItem> {
    checkId(id);
    if (options == null || (options.text === undefined && options.metadata === undefined)) {
      invalid('update needs text and/or metadata.');
    }
    const text = options.text === undefined ? undefined : checkText(options.text, 'text');
    const metadata = options.metadata === undefined ? undefined : checkMetadata(options.metadata);
    const components = await this.#ready();
    const first = await this.#existing(components, id, options.abortSignal);
    return this.#locks.run(scopeKey(scopeOf(first)), async () => {
      const current = await this.#existing(components, id, options.abortSignal);
      const [vector] =
        text !== undefined && text !== current.text
          ? await this.#embed(components, [text], 'document', options.abortSignal)
          : [current.vector!];
      const record: VectorRecord = {
        ...current,
        vector: vector!,
        text: text ?? current.text,
        hash: textHash(text ?? current.text),
        metadata: { ...current.metadata, ...metadata },
        updatedAt: this.#now().toISOString(),
      };
      await this.#write(
        components,
        [record],
        [],
        [this.#event('UPDATE', id, current.text, record.text, scopeOf(current))],
        options.abortSignal,
      );
      const { vector: _vector, ...stored } = record;
      return toItem(stored);
    });
  }

  /** Deletes one memory and records the deletion. Throws `NotFoundError` when there is none. */
  async delete(
    id: string,
    options: { abortSignal?: AbortSignal } = {},
  ): Promise<{ id: string; deleted: true }> {
    checkId(id);
    const components = await this.#ready();
    const first = await this.#existing(components, id, options.abortSignal);
    return this.#locks.run(scopeKey(scopeOf(first)), async () => {
      const current = await this.#existing(components, id, options.abortSignal);
      await this.#write(
        components,
        [],
        [id],
        [this.#event('DELETE', id, current.text, null, scopeOf(current))],
        options.abortSignal,
      );
      return { id, deleted: true as const };
    });
  }

  /** Deletes every memory of a scope (every page, nothing outside it), recording each deletion. */
  async deleteAll(options: ScopedOptions): Promise<{ deleted: number }> {
    const scope = normalizeScope(options, { required: true });
    const components = await this.#ready();
    return this.#locks.run(scopeKey(scope), async () => {
      let deleted = 0;
      let cursor: string | undefined;
      do {
        const page = await components.store.list({
          collection: this.#collection,
          scope,
          limit: 500,
          ...(cursor ? { cursor } : {}),
          ...(options.abortSignal ? { abortSignal: options.abortSignal } : {}),
        });
        if (page.records.length > 0) {
          await this.#write(
            components,
            [],
            page.records.map((record) => record.id),
            page.records.map((record) =>
              this.#event('DELETE', record.id, record.text, null, scopeOf(record)),
            ),
            options.abortSignal,
          );
          deleted += page.records.length;
        }
        cursor = page.nextCursor;
      } while (cursor);
      if (components.graphStore) {
        await components.graphStore.deleteScope({
          scope,
          ...(options.abortSignal ? { abortSignal: options.abortSignal } : {}),
        });
      }
      return { deleted };
    });
  }

  /** Every recorded change of one memory, oldest first. */
  async history(id: string, options: { abortSignal?: AbortSignal } = {}): Promise<HistoryEvent[]> {
    checkId(id);
    const components = await this.#ready();
    return components.history.byMemory({
      memoryId: id,
      ...(options.abortSignal ? { abortSignal: options.abortSignal } : {}),
    });
  }

  /** Forgets a scope completely: its memories and their history. Other scopes are untouched. */
  async reset(options: ScopedOptions): Promise<{ deleted: number }> {
    const scope = normalizeScope(options, { required: true });
    const components = await this.#ready();
    const signal = options.abortSignal ? { abortSignal: options.abortSignal } : {};
    return this.#locks.run(scopeKey(scope), async () => {
      const { deleted } = await components.store.delete({
        collection: this.#collection,
        scope,
        ...signal,
      });
      await components.history.deleteScope({ scope, ...signal });
      if (components.graphStore) await components.graphStore.deleteScope({ scope, ...signal });
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
  async import(
    items: ImportItem[],
    options: { abortSignal?: AbortSignal } = {},
  ): Promise<AddResult> {
    if (!Array.isArray(items))
      invalid('import takes an array of {text, userId?, agentId?, runId?, metadata?}.');
    const seenIds = new Set<string>();
    const checked = items.map((item, index) => {
      if (item == null || typeof item !== 'object') invalid(`items[${index}] must be an object.`);
      let scope: Scope;
      try {
        scope = normalizeScope(item, { required: true });
      } catch (error) {
        throw new InvalidArgumentError({
          source,
          message: `items[${index}]: ${(error as Error).message}`,
          cause: error,
        });
      }
      const checkedItem: ImportItem = {
        ...scope,
        text: checkText(item.text, `items[${index}].text`),
        metadata: checkMetadata(item.metadata),
      };
      if (item.id !== undefined) {
        checkId(item.id);
        if (seenIds.has(item.id)) invalid(`items[${index}]: id "${item.id}" appears twice.`);
        seenIds.add(item.id);
        checkedItem.id = item.id;
      }
      for (const field of ['createdAt', 'updatedAt'] as const) {
        const value = item[field];
        if (value === undefined) continue;
        const time = typeof value === 'string' ? Date.parse(value) : Number.NaN;
        if (Number.isNaN(time)) {
          invalid(
            `items[${index}].${field} must be an ISO-8601 time, got ${JSON.stringify(value)}.`,
          );
        }
        checkedItem[field] = new Date(time).toISOString();
      }
      return checkedItem;
    });
    if (checked.length === 0) return { results: [] };
    const components = await this.#ready();
    const keys = checked.map((item) => scopeKey(scopeOf(item)));
    return this.#locks.runAll(keys, () =>
      this.#storeVerbatim(components, checked, options.abortSignal),
    );
  }

  /** Closes the stores. Later calls throw `ClosedError`. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const components = await this.#components?.catch(() => undefined);
    if (!components) return;
    await components.store.close();
    if ((components.history as unknown) !== components.store) await components.history.close();
    await components.graphStore?.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
