import { assertSpecificationVersion } from './adapter-descriptor.js';
import type { Embedder } from './embedder.js';
import { componentsFromEnvironment } from './environment-components.js';
import { AdapterCallError, DimensionMismatchError } from './errors.js';
import { GraphMemory } from './graph-memory.js';
import type { GraphStore } from './graph-store.js';
import type { HistoryStore } from './history-store.js';
import { createInMemoryHistoryStore } from './in-memory-history-store.js';
import type { LLM } from './llm.js';
import type { MemoryOptions } from './memory-types.js';
import { MemoryWriter } from './memory-writer.js';
import type { Reranker } from './reranker.js';
import type { ScopeLock } from './scope-lock.js';
import type { VectorStore } from './vector-store.js';

/** Some models embed queries and documents differently. */
export type EmbeddingPurpose = 'document' | 'query';

/** The components of an open `Memory` and its settings, with defaults applied. */
export interface MemoryEngine {
  readonly collection: string;
  readonly store: VectorStore;
  readonly history: HistoryStore;
  readonly embedder: Embedder;
  readonly llm: LLM | undefined;
  readonly reranker: Reranker | undefined;
  readonly graphStore: GraphStore | undefined;
  readonly graph: GraphMemory | undefined;
  readonly writer: MemoryWriter;
  /** The cross-process lock the writer holds: the option, else the store's own, else none. */
  readonly scopeLock: ScopeLock | undefined;
  readonly keywordWeight: number;
  readonly candidatesPerFact: number;
  readonly llmRetries: number;
  readonly prompts: { extraction?: string; reconcile?: string };
  readonly now: () => Date;
  /** Embeds texts in batches the embedder accepts. */
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

async function embedInBatches(
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

async function ensureCollection(store: VectorStore, collection: string, embedder: Embedder) {
  try {
    await store.ensureCollection({ collection, dimensions: embedder.dimensions });
  } catch (error) {
    if (!DimensionMismatchError.isInstance(error)) throw error;
    throw new DimensionMismatchError({
      source: 'core',
      expected: error.expected,
      actual: error.actual,
      cause: error,
      message: `Collection "${collection}" holds ${error.expected}-dimensional vectors, but the embedder ${embedder.provider}:${embedder.modelId} makes ${embedder.dimensions}. Use the embedder the collection was created with (ENGRAM_EMBEDDER), or another collection (ENGRAM_COLLECTION).`,
    });
  }
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
  const embedder = options.embedder!;
  const llm = options.llm ?? undefined;
  const history =
    options.historyStore ??
    (store.capabilities.atomicHistory && 'byMemory' in store
      ? (store as unknown as HistoryStore)
      : createInMemoryHistoryStore());
  await ensureCollection(store, collection, embedder);
  const now = () => options.now?.() ?? new Date();
  const embed = (values: string[], purpose: EmbeddingPurpose, abortSignal?: AbortSignal) =>
    embedInBatches(embedder, values, { purpose, abortSignal });
  const graphStore = options.graphStore ?? undefined;
  const scopeLock = options.scopeLock === null ? undefined : (options.scopeLock ?? store.scopeLock);
  let graph: GraphMemory | undefined;
  if (graphStore) {
    await graphStore.ensureSchema({ dimensions: embedder.dimensions });
    graph = new GraphMemory({
      store: graphStore,
      ...(llm ? { llm } : {}),
      embed: (values, purpose) => embed(values, purpose),
      threshold: options.graphThreshold ?? 0.7,
      now,
      retries: options.llmRetries ?? 1,
    });
  }
  return {
    collection,
    store,
    history,
    embedder,
    llm,
    reranker: options.reranker,
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
    // The hash embedder is itself lexical and weak on meaning: keyword relevance carries most of
    // the signal (measured on LoCoMo, docs/benchmarks.md). Neural embedders get an even split.
    keywordWeight: options.keywordWeight ?? (embedder.provider === 'hash' ? 0.8 : 0.5),
    candidatesPerFact: options.candidatesPerFact ?? 5,
    llmRetries: options.llmRetries ?? 1,
    prompts: options.prompts ?? {},
    now,
    embed,
  };
}
