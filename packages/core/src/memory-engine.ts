import { assertSpecificationVersion } from './adapter-descriptor.js';
import type { Embedder } from './embedder.js';
import { componentsFromEnvironment } from './environment-components.js';
import { AdapterCallError, DimensionMismatchError, InvalidArgumentError } from './errors.js';
import { GraphMemory } from './graph-memory.js';
import type { GraphStore } from './graph-store.js';
import type { HistoryStore } from './history-store.js';
import { createInMemoryHistoryStore } from './in-memory-history-store.js';
import type { LLM } from './llm.js';
import type { AddMode, MemoryOptions } from './memory-types.js';
import { MemoryWriter } from './memory-writer.js';
import { createRedactor, type Redactor } from './redaction.js';
import type { ReembedState } from './reembed-memories.js';
import type { Reranker } from './reranker.js';
import type { ScopeLock } from './scope-lock.js';
import { checkSearchContext, type ResolvedSearchContext } from './search-context.js';
import { defaultKeywordWeight, defaultSearchThreshold } from './search-threshold.js';
import { meterEmbedder, meterLLM, meterReranker } from './usage-meter.js';
import type { VectorStore } from './vector-store.js';

/** Some models embed queries and documents differently. */
export type EmbeddingPurpose = 'document' | 'query';

/** The components of an open `Memory` and its settings, with defaults applied. */
export interface MemoryEngine {
  /** The options the engine was opened with, components from the environment filled in. */
  readonly options: MemoryOptions;
  /** Where `reembed` keeps its progress, when the options name a place. */
  readonly reembedState: ReembedState | undefined;
  readonly collection: string;
  readonly store: VectorStore;
  readonly history: HistoryStore;
  /** Whether the history outlives the process (it is not kept in process memory). */
  readonly historyDurable: boolean;
  readonly embedder: Embedder;
  readonly llm: LLM | undefined;
  readonly reranker: Reranker | undefined;
  readonly graphStore: GraphStore | undefined;
  readonly graph: GraphMemory | undefined;
  readonly writer: MemoryWriter;
  /** The cross-process lock the writer holds: the option, else the store's own, else none. */
  readonly scopeLock: ScopeLock | undefined;
  readonly keywordWeight: number;
  /** Default similarity cut-off of `search`. */
  readonly searchThreshold: number;
  /** Default neighbouring memories of `search` (none when undefined). */
  readonly searchContext: ResolvedSearchContext | undefined;
  readonly candidatesPerFact: number;
  readonly llmRetries: number;
  /** How `add` infers memories when a call does not say. */
  readonly addMode: AddMode;
  readonly prompts: { extraction?: string; reconcile?: string; singleCall?: string };
  readonly now: () => Date;
  /** Replaces sensitive data in what is stored, when `redact` is on. */
  readonly redactor: Redactor | undefined;
  /**
   * Throws the `DimensionMismatchError` when the collection holds vectors of another length than
   * the embedder makes. Reading and deleting never need it; adding, searching and re-embedding do.
   */
  requireMatchingDimensions(): void;
  /** Embeds texts in batches the embedder accepts; throws as `requireMatchingDimensions` does. */
  embed(
    values: string[],
    purpose: EmbeddingPurpose,
    abortSignal?: AbortSignal,
  ): Promise<number[][]>;
}

const componentNames = [
  'vectorStore',
  'historyStore',
  'embedder',
  'llm',
  'graphStore',
  'reranker',
  'scopeLock',
] as const;

/** Refuses every component given whose contract version this core does not speak. */
export function checkComponentVersions(options: MemoryOptions): void {
  for (const name of componentNames) {
    const component = options[name];
    if (component) {
      assertSpecificationVersion(component, `The ${name} ${JSON.stringify(component.provider)}`);
    }
  }
}

/** Whether some component is left to the environment. */
function incomplete(options: MemoryOptions): boolean {
  return (
    !options.vectorStore || !options.embedder || !('llm' in options) || !('graphStore' in options)
  );
}

/** Embeds texts in batches the embedder accepts, checking it returns one vector per text. */
export async function embedInBatches(
  embedder: Embedder,
  values: string[],
  options: { purpose: EmbeddingPurpose; abortSignal?: AbortSignal | undefined },
): Promise<number[][]> {
  const embeddings: number[][] = [];
  for (let start = 0; start < values.length; start += embedder.maxEmbeddingsPerCall) {
    const batch = values.slice(start, start + embedder.maxEmbeddingsPerCall);
    const result = await embedder.embed({
      values: batch,
      purpose: options.purpose,
      ...(options.abortSignal ? { abortSignal: options.abortSignal } : {}),
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

/**
 * Ensures the collection; a collection of another vector length is returned as the error to throw
 * when vectors are needed, so that data written by an embedder no longer configured can still be
 * listed and deleted.
 */
async function ensureCollection(
  store: VectorStore,
  collection: string,
  embedder: Embedder,
): Promise<DimensionMismatchError | undefined> {
  try {
    await store.ensureCollection({ collection, dimensions: embedder.dimensions });
    return undefined;
  } catch (error) {
    if (!DimensionMismatchError.isInstance(error)) throw error;
    return new DimensionMismatchError({
      source: 'core',
      expected: error.expected,
      actual: error.actual,
      cause: error,
      message: `Collection "${collection}" holds ${error.expected}-dimensional vectors, but the embedder ${embedder.provider}:${embedder.modelId} makes ${embedder.dimensions}. Use the embedder the collection was created with (ENGRAM_EMBEDDER), or another collection (ENGRAM_COLLECTION).`,
    });
  }
}

/** Provider of the in-process reference stores, whose history ends with the process. */
const inMemoryProvider = 'memory';

/** The history store given, else the vector store's own, else history in process memory. */
function historyOf(options: MemoryOptions, store: VectorStore): HistoryStore {
  if (options.historyStore) return options.historyStore;
  if (store.capabilities.atomicHistory && 'byMemory' in store) {
    return store as unknown as HistoryStore;
  }
  return createInMemoryHistoryStore();
}

/**
 * Opens the engine of a `Memory`: components left out come from the environment, the history
 * defaults to the store itself when it keeps history atomically, the collection (and the graph
 * schema) are ensured.
 */
export async function openMemoryEngine(
  given: MemoryOptions,
  collection: string,
): Promise<MemoryEngine> {
  const options = incomplete(given) ? await componentsFromEnvironment(process.env, given) : given;
  checkComponentVersions(options);
  const store = options.vectorStore!;
  // Metered, so each add and search can report what its model calls cost.
  const embedder = meterEmbedder(options.embedder!);
  const llm = options.llm ? meterLLM(options.llm) : undefined;
  const history = historyOf(options, store);
  const historyDurable = history.provider !== inMemoryProvider;
  if (options.requireDurableHistory && !historyDurable) {
    throw new InvalidArgumentError({
      source: 'core',
      message: `The history would be kept in process memory (the vector store "${store.provider}" keeps none of its own), so it would be lost on exit; pass a durable historyStore (e.g. the sqlite or pgvector adapter's), or leave requireDurableHistory off.`,
    });
  }
  const mismatch = await ensureCollection(store, collection, embedder);
  const requireMatchingDimensions = () => {
    if (mismatch) throw mismatch;
  };
  const now = () => options.now?.() ?? new Date();
  const embed = async (values: string[], purpose: EmbeddingPurpose, abortSignal?: AbortSignal) => {
    requireMatchingDimensions();
    return embedInBatches(embedder, values, { purpose, abortSignal });
  };
  const graphStore = options.graphStore ?? undefined;
  const scopeLock = options.scopeLock === null ? undefined : (options.scopeLock ?? store.scopeLock);
  let graph: GraphMemory | undefined;
  if (graphStore) {
    // With the wrong embedder the graph is only read and deleted, like the collection.
    if (!mismatch) await graphStore.ensureSchema({ dimensions: embedder.dimensions });
    graph = new GraphMemory({
      store: graphStore,
      namespace: collection,
      ...(llm ? { llm } : {}),
      embed: (values, purpose) => embed(values, purpose),
      threshold: options.graphThreshold ?? 0.7,
      now,
      retries: options.llmRetries ?? 1,
    });
  }
  return {
    options,
    reembedState: options.reembedState,
    collection,
    store,
    history,
    historyDurable,
    embedder,
    llm,
    reranker: options.reranker ? meterReranker(options.reranker) : undefined,
    graphStore,
    graph,
    writer: new MemoryWriter({
      store,
      history,
      collection,
      actor: options.actor ?? 'engine',
      now,
      scopeLock,
    }),
    scopeLock,
    keywordWeight: options.keywordWeight ?? defaultKeywordWeight(embedder),
    searchThreshold: options.searchThreshold ?? defaultSearchThreshold(embedder),
    searchContext: checkSearchContext(options.searchContext, 'searchContext'),
    candidatesPerFact: options.candidatesPerFact ?? 5,
    llmRetries: options.llmRetries ?? 1,
    addMode: options.addMode ?? 'two-call',
    prompts: options.prompts ?? {},
    now,
    redactor: options.redact ? createRedactor(options.redact) : undefined,
    requireMatchingDimensions,
    embed,
  };
}
