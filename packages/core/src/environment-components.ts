import { loadAdapter } from './adapter-descriptor.js';
import { defaultDataDirectory } from './data-directory.js';
import type { Embedder } from './embedder.js';
import {
  fileReembedState,
  hasUnrecordedData,
  readEmbedderRecords,
  recordEmbedder,
  recordingEmbedder,
} from './embedder-record.js';
import { describeError, InvalidArgumentError } from './errors.js';
import type { GraphStore } from './graph-store.js';
import { createHashEmbedder } from './hash-embedder.js';
import { createInMemoryGraphStore } from './in-memory-graph-store.js';
import type { LLM } from './llm.js';
import { checkAddMode } from './memory-input.js';
import type { AddMode, MemoryOptions } from './memory-types.js';
import type { Environment, ImportModule } from './providers.js';
import { redactionFromEnvironment } from './redaction.js';
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
 * The LLM named by the environment: `ENGRAM_LLM` (`openai:<model>`, `ollama:<model>`,
 * `local:<GGUF path or file name in ENGRAM_MODELS_DIR>` served by `@engram/llama-cpp`, or `none`),
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
  const wiring = wiringOf(env, importModule ? { importModule } : {});
  if (name !== undefined && isLocalName(name)) {
    const descriptor = await loadAdapter('llm', 'llama-cpp', {
      purpose: `ENGRAM_LLM=${name}`,
      ...(importModule ? { importModule } : {}),
    });
    return descriptor.create({ env, dataDir: wiring.dataDir, model: name });
  }
  return loadModel('llm', name, wiring);
}

/** Options of {@link resolveEmbedderFromEnvironment}. */
export interface EmbedderFromEnvironmentOptions {
  /** Imports adapter packages from the caller's location (the CLI and server pass their own). */
  importModule?: ImportModule;
  /** A data directory whose recorded embedder wins over the defaults. */
  dataDir?: string;
  /** The collection whose recorded embedder to follow; default any recorded one. */
  collection?: string;
  /**
   * Receives the one line said when the hash embedder stands in for the local model. Default:
   * stderr, once per process.
   */
  notice?: (line: string) => void;
}

/** An embedder with the name that configures it again, when it has one. */
interface NamedEmbedder {
  embedder: Embedder;
  name: string | undefined;
}

let noticeGiven = false;

function stderrNotice(line: string): void {
  if (noticeGiven) return;
  noticeGiven = true;
  process.stderr.write(`${line}\n`);
}

function hashEmbedderNamed(name: string): Embedder {
  const dimensions = name.includes(':') ? Number(name.split(':')[1]) : undefined;
  if (dimensions !== undefined && !Number.isInteger(dimensions)) {
    throw new InvalidArgumentError({
      message: `ENGRAM_EMBEDDER=${name}: write hash or hash:<dimensions>, e.g. hash:384.`,
    });
  }
  return createHashEmbedder(dimensions === undefined ? {} : { dimensions });
}

function isLocalName(name: string): boolean {
  return name === 'local' || name.startsWith('local:');
}

/** `local` and `local:<model>` are served by `@engram/transformers`. */
async function loadLocalEmbedder(name: string, wiring: Wiring): Promise<Embedder> {
  const descriptor = await loadAdapter('embedder', 'transformers', {
    purpose: `ENGRAM_EMBEDDER=${name}`,
    ...(wiring.importModule ? { importModule: wiring.importModule } : {}),
  });
  return descriptor.create({ env: wiring.env, dataDir: wiring.dataDir, model: name });
}

async function embedderNamed(name: string, wiring: Wiring): Promise<Embedder> {
  if (name.startsWith('hash')) return hashEmbedderNamed(name);
  if (isLocalName(name)) return loadLocalEmbedder(name, wiring);
  return loadModel('embedder', name, wiring);
}

/**
 * The zero-setup default: the local sentence-embedding model when `@engram/transformers` is
 * installed and its model is on this machine or can be fetched, else the hash embedder with one
 * line saying why and how to get the model.
 */
async function localOrHashEmbedder(
  wiring: Wiring,
  notice: (line: string) => void,
): Promise<NamedEmbedder> {
  let reason: string;
  try {
    const embedder = await loadLocalEmbedder('local', wiring);
    const local = embedder as { isModelAvailable?: () => boolean; prepare?: () => Promise<void> };
    // A model on disk loads on first use; one to fetch is fetched now, so a failure can fall back.
    if (!(local.isModelAvailable?.() ?? false)) await local.prepare?.();
    return { embedder, name: 'local' };
  } catch (error) {
    reason = describeError(error);
  }
  notice(
    `[engram] Search matches words, not meaning: using the hash embedder because the local model is not available (${reason}). Install @engram/transformers and let it fetch all-MiniLM-L6-v2 once, or point ENGRAM_MODELS_DIR at a copy; set ENGRAM_EMBEDDER=hash to keep the hash embedder without this notice.`,
  );
  return { embedder: createHashEmbedder(), name: 'hash' };
}

async function resolveNamedEmbedder(
  env: Environment,
  options: EmbedderFromEnvironmentOptions,
): Promise<NamedEmbedder> {
  const wiring = wiringOf(env, {
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
    ...(options.importModule ? { importModule: options.importModule } : {}),
  });
  const configured = env.ENGRAM_EMBEDDER?.trim() || undefined;
  if (configured) return { embedder: await embedderNamed(configured, wiring), name: configured };
  if (options.dataDir) {
    const records = readEmbedderRecords(options.dataDir);
    const record = options.collection
      ? records[options.collection]
      : Object.values(records).find((entry) => entry.name);
    if (record?.name) {
      return { embedder: await embedderNamed(record.name, wiring), name: record.name };
    }
    if (!env.OPENAI_API_KEY && hasUnrecordedData(options.dataDir)) {
      return { embedder: createHashEmbedder(), name: 'hash' };
    }
  }
  if (env.OPENAI_API_KEY)
    return { embedder: await loadModel('embedder', undefined, wiring), name: undefined };
  return localOrHashEmbedder(wiring, options.notice ?? stderrNotice);
}

/**
 * The embedder named by the environment: `ENGRAM_EMBEDDER` (`local`, `local:<model>`, `hash`,
 * `hash:<dimensions>`, `openai:<model>`, `ollama:<model>`); else the one the data directory
 * recorded for the collection; else OpenAI's default when `OPENAI_API_KEY` is set; else the
 * local model (`@engram/transformers`), or the offline hash embedder when that cannot be had.
 * Data written before embedders were recorded keeps the hash embedder.
 */
export async function resolveEmbedderFromEnvironment(
  env: Environment,
  options?: ImportModule | EmbedderFromEnvironmentOptions,
): Promise<Embedder> {
  const resolved = await resolveNamedEmbedder(
    env,
    typeof options === 'function' ? { importModule: options } : (options ?? {}),
  );
  return resolved.embedder;
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

/** The add mode named by `ENGRAM_ADD_MODE` (`two-call` or `single-call`), else `undefined`. */
export function addModeFromEnvironment(env: Environment): AddMode | undefined {
  const value = env.ENGRAM_ADD_MODE?.trim();
  return value ? checkAddMode(value, 'ENGRAM_ADD_MODE') : undefined;
}

/** What {@link componentsFromEnvironment} returns: every component decided. */
export type ResolvedMemoryOptions = MemoryOptions &
  Required<Pick<MemoryOptions, 'vectorStore' | 'embedder' | 'llm' | 'graphStore' | 'collection'>>;

/**
 * The components `given` leaves out, from the environment: the one place that reads
 * `ENGRAM_HOME`, `ENGRAM_COLLECTION`, `ENGRAM_LLM`, `ENGRAM_EMBEDDER`, `ENGRAM_RERANKER`,
 * `ENGRAM_GRAPH`, `ENGRAM_REDACT`, `ENGRAM_ADD_MODE` and `OPENAI_API_KEY`, and turns adapter names into components through their descriptors. A
 * component given (or `null` for the LLM and the graph) is kept as it is.
 */
export async function componentsFromEnvironment(
  env: Environment,
  given: MemoryOptions & EnvironmentWiringOptions = {},
): Promise<ResolvedMemoryOptions> {
  const { dataDir: _dataDir, importModule: _importModule, ...options } = given;
  const wiring = wiringOf(env, given);
  const collection = options.collection ?? collectionFromEnvironment(env);
  const embedded = !options.vectorStore;
  const resolved: NamedEmbedder = options.embedder
    ? { embedder: options.embedder, name: undefined }
    : await resolveNamedEmbedder(env, {
        ...(wiring.importModule ? { importModule: wiring.importModule } : {}),
        ...(embedded ? { dataDir: wiring.dataDir, collection } : {}),
      });
  // The embedded store's collection remembers its embedder once it holds vectors, and refuses to
  // embed with another; reading, deleting and history need no embedder and keep working.
  const embedder = embedded
    ? recordingEmbedder(resolved.embedder, wiring.dataDir, collection, resolved.name)
    : resolved.embedder;
  // Recorded now, not at the first add: a database file created by a read in between would
  // otherwise pass for data written before records existed, which keeps the hash embedder.
  if (embedded && resolved.name !== undefined && isLocalName(resolved.name)) {
    recordEmbedder(wiring.dataDir, collection, resolved.embedder, resolved.name);
  }
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
  const addMode = options.addMode ?? addModeFromEnvironment(env);
  const graphStore =
    'graphStore' in options
      ? (options.graphStore ?? null)
      : ((await resolveGraphStore(wiring)) ?? null);
  return {
    ...(embedded ? { reembedState: fileReembedState(wiring.dataDir, collection) } : {}),
    ...options,
    vectorStore,
    embedder,
    llm,
    ...(reranker ? { reranker } : {}),
    graphStore,
    collection,
    ...(!('redact' in options) && redactionFromEnvironment(env) ? { redact: true } : {}),
    ...(addMode ? { addMode } : {}),
  };
}
