import { loadAdapter } from './adapter-descriptor.js';
import { defaultDataDirectory } from './data-directory.js';
import type { Embedder } from './embedder.js';
import { InvalidArgumentError } from './errors.js';
import type { GraphStore } from './graph-store.js';
import { createHashEmbedder } from './hash-embedder.js';
import { createInMemoryGraphStore } from './in-memory-graph-store.js';
import type { LLM } from './llm.js';
import type { MemoryOptions } from './memory-types.js';
import type { Environment, ImportModule } from './providers.js';
import type { Reranker } from './reranker.js';

/** Where adapters named by the environment come from and where embedded ones keep their files. */
export interface EnvironmentWiringOptions {
  /** Data directory of the embedded stores. Default `ENGRAM_HOME`, else `~/.engram`. */
  dataDir?: string;
  /** Imports adapter packages from the caller's location (the CLI and server pass their own). */
  importModule?: ImportModule;
}

interface Wiring {
  env: Environment;
  dataDir: string;
  importModule: ImportModule | undefined;
}

function wiringOf(env: Environment, options: EnvironmentWiringOptions = {}): Wiring {
  return {
    env,
    dataDir: options.dataDir ?? defaultDataDirectory(env),
    importModule: options.importModule,
  };
}

/**
 * `@engram/ai-sdk` serves every model named `<provider>:<model>`; it reads each role's own
 * settings (`ENGRAM_LLM_BASE_URL`, `ENGRAM_EMBEDDER_API_KEY`, `ENGRAM_RERANKER_OPTIONS`, ...)
 * and each provider's usual variables from the environment it is given.
 */
async function loadModel<Kind extends 'llm' | 'embedder' | 'reranker'>(
  kind: Kind,
  model: string | undefined,
  wiring: Wiring,
) {
  const variable =
    kind === 'llm' ? 'ENGRAM_LLM' : kind === 'embedder' ? 'ENGRAM_EMBEDDER' : 'ENGRAM_RERANKER';
  const descriptor = await loadAdapter(kind, 'ai-sdk', {
    purpose: `${variable} / OPENAI_API_KEY`,
    ...(wiring.importModule ? { importModule: wiring.importModule } : {}),
  });
  return descriptor.create({
    env: wiring.env,
    dataDir: wiring.dataDir,
    ...(model ? { model } : {}),
  });
}

/**
 * The LLM named by the environment: `ENGRAM_LLM` (`openai:<model>`, `ollama:<model>`, or `none`),
 * else OpenAI's default small model when `OPENAI_API_KEY` is set, else none.
 */
export async function resolveLLMFromEnvironment(
  env: Environment,
  importModule?: ImportModule,
): Promise<LLM | undefined> {
  const name = env.ENGRAM_LLM?.trim();
  if (name === 'none' || name === '' || (name === undefined && !env.OPENAI_API_KEY)) {
    return undefined;
  }
  return loadModel('llm', name, wiringOf(env, importModule ? { importModule } : {}));
}

/**
 * The embedder named by the environment: `ENGRAM_EMBEDDER` (`hash`, `hash:<dimensions>`,
 * `openai:<model>`, `ollama:<model>`), else OpenAI's default when `OPENAI_API_KEY` is set, else
 * the offline hash embedder.
 */
export async function resolveEmbedderFromEnvironment(
  env: Environment,
  importModule?: ImportModule,
): Promise<Embedder> {
  const name = env.ENGRAM_EMBEDDER?.trim();
  if (name?.startsWith('hash') || (!name && !env.OPENAI_API_KEY)) {
    const dimensions = name?.includes(':') ? Number(name.split(':')[1]) : undefined;
    if (dimensions !== undefined && !Number.isInteger(dimensions)) {
      throw new InvalidArgumentError({
        message: `ENGRAM_EMBEDDER=${name}: write hash or hash:<dimensions>, e.g. hash:384.`,
      });
    }
    return createHashEmbedder(dimensions === undefined ? {} : { dimensions });
  }
  return loadModel('embedder', name, wiringOf(env, importModule ? { importModule } : {}));
}

/**
 * The reranker named by `ENGRAM_RERANKER` (`cohere:rerank-v3.5`, `voyage:rerank-2.5`,
 * `llm:<provider>:<model>`, ...), else none.
 */
export async function resolveRerankerFromEnvironment(
  env: Environment,
  importModule?: ImportModule,
): Promise<Reranker | undefined> {
  const name = env.ENGRAM_RERANKER?.trim();
  if (!name || name === 'none') return undefined;
  return loadModel('reranker', name, wiringOf(env, importModule ? { importModule } : {}));
}

/** The graph store named by `ENGRAM_GRAPH` (`kuzu`, `neo4j`, ..., `memory`, `none`), else none. */
async function resolveGraphStore(wiring: Wiring): Promise<GraphStore | undefined> {
  const name = wiring.env.ENGRAM_GRAPH?.trim().toLowerCase();
  if (!name || name === 'none') return undefined;
  if (name === 'memory') return createInMemoryGraphStore();
  if (!/^[a-z][a-z0-9-]*$/.test(name)) {
    throw new InvalidArgumentError({
      source: 'core',
      message: `ENGRAM_GRAPH=${name}: give an adapter name such as kuzu, neo4j or memory.`,
    });
  }
  const descriptor = await loadAdapter('graph', name, {
    purpose: `ENGRAM_GRAPH=${name}`,
    ...(wiring.importModule ? { importModule: wiring.importModule } : {}),
  });
  return descriptor.create({ env: wiring.env, dataDir: wiring.dataDir });
}

/**
 * The graph store named by `ENGRAM_GRAPH` (`kuzu`, `neo4j`, ..., `memory`), or `undefined` for
 * none. For a process that serves several collections from one graph (the server): graph stores
 * keep collections apart by namespace, and an embedded one must be opened once per process.
 */
export function graphStoreFromEnvironment(
  env: Environment,
  options: EnvironmentWiringOptions = {},
): Promise<GraphStore | undefined> {
  return resolveGraphStore(wiringOf(env, options));
}

/** The embedded default store, `@engram/sqlite`, in the data directory. */
async function resolveEmbeddedStore(wiring: Wiring) {
  const descriptor = await loadAdapter('vector', 'sqlite', {
    purpose: 'The embedded default store',
    ...(wiring.importModule ? { importModule: wiring.importModule } : {}),
  });
  return descriptor.create({ env: wiring.env, dataDir: wiring.dataDir });
}

/**
 * The collection of a `Memory` when neither its options nor `ENGRAM_COLLECTION` name one. Graph
 * stores also give it to entities and relations written before they carried a namespace.
 */
export const defaultCollection = 'memories';

/** The collection named by `ENGRAM_COLLECTION`, else {@link defaultCollection}. */
export function collectionFromEnvironment(env: Environment): string {
  return env.ENGRAM_COLLECTION ?? defaultCollection;
}

/** What {@link componentsFromEnvironment} returns: every component decided. */
export type ResolvedMemoryOptions = MemoryOptions &
  Required<Pick<MemoryOptions, 'vectorStore' | 'embedder' | 'llm' | 'graphStore' | 'collection'>>;

/**
 * The components `given` leaves out, from the environment: the one place that reads
 * `ENGRAM_HOME`, `ENGRAM_COLLECTION`, `ENGRAM_LLM`, `ENGRAM_EMBEDDER`, `ENGRAM_RERANKER`,
 * `ENGRAM_GRAPH` and `OPENAI_API_KEY`, and turns adapter names into components through their descriptors. A
 * component given (or `null` for the LLM and the graph) is kept as it is.
 */
export async function componentsFromEnvironment(
  env: Environment,
  given: MemoryOptions & EnvironmentWiringOptions = {},
): Promise<ResolvedMemoryOptions> {
  const { dataDir: _dataDir, importModule: _importModule, ...options } = given;
  const wiring = wiringOf(env, given);
  const embedder =
    options.embedder ?? (await resolveEmbedderFromEnvironment(env, wiring.importModule));
  // `llm` and `graphStore` present but null (or undefined) turn them off; absent means "ask the environment".
  const llm =
    'llm' in options
      ? (options.llm ?? null)
      : ((await resolveLLMFromEnvironment(env, wiring.importModule)) ?? null);
  const reranker =
    'reranker' in options
      ? options.reranker
      : await resolveRerankerFromEnvironment(env, wiring.importModule);
  const vectorStore = options.vectorStore ?? (await resolveEmbeddedStore(wiring));
  const graphStore =
    'graphStore' in options
      ? (options.graphStore ?? null)
      : ((await resolveGraphStore(wiring)) ?? null);
  return {
    ...options,
    vectorStore,
    embedder,
    llm,
    ...(reranker ? { reranker } : {}),
    graphStore,
    collection: options.collection ?? collectionFromEnvironment(env),
  };
}
