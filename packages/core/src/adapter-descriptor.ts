import type { Embedder } from './embedder.js';
import { EngramError, InvalidArgumentError, UnsupportedFunctionalityError } from './errors.js';
import type { GraphStore } from './graph-store.js';
import type { HistoryStore } from './history-store.js';
import type { LLM } from './llm.js';
import { type ImportModule, loadAdapterPackage } from './providers.js';
import type { Reranker } from './reranker.js';
import type { VectorStore } from './vector-store.js';

/** The contract version this build of core speaks. Components with another one are refused. */
export const specificationVersion = 'v1';

/** The component each adapter kind creates. */
export interface AdapterComponents {
  vector: VectorStore;
  graph: GraphStore;
  history: HistoryStore;
  llm: LLM;
  embedder: Embedder;
  reranker: Reranker;
}

/** What an adapter provides: a vector store, a graph store, a history store or a model. */
export type AdapterKind = keyof AdapterComponents;

/** The adapter kinds, in the order they are documented. */
export const adapterKinds: readonly AdapterKind[] = [
  'vector',
  'graph',
  'history',
  'llm',
  'embedder',
  'reranker',
];

/** What the loader hands an adapter's `create`. */
export interface AdapterCreateSettings {
  /** Environment variables the adapter reads its settings from (`QDRANT_URL`, ...). */
  env: Record<string, string | undefined>;
  /** Engram's data directory; embedded adapters keep their files under it. */
  dataDir: string;
  /**
   * For model kinds: the model as configured, provider included, e.g. `openai:gpt-4o-mini`.
   * Undefined means the adapter's default model.
   */
  model?: string;
  /**
   * Settings given in code or in the server's configuration file (`url`, `apiKey`, ...), passed
   * through as written; the adapter checks them.
   */
  options?: Record<string, unknown>;
}

/**
 * The explicit description of one thing an adapter package provides. Every adapter package
 * exports `engramAdapter` (one) or `engramAdapters` (several, e.g. a vector and a history store).
 */
export interface AdapterDescriptor<Kind extends AdapterKind = AdapterKind> {
  /** Contract version of the descriptor and of what `create` returns. */
  readonly specificationVersion: 'v1';
  /** What `create` returns. */
  readonly kind: Kind;
  /** The name users configure, e.g. `qdrant` in `ENGRAM_VECTOR_STORE=qdrant`. */
  readonly name: string;
  /** One line for listings and error messages. */
  readonly description: string;
  /** Creates the component. Does no I/O: clients connect on first use. */
  create(settings: AdapterCreateSettings): AdapterComponents[Kind];
}

/** Declares a descriptor with its kind checked by the compiler. */
export function defineAdapter<Kind extends AdapterKind>(
  descriptor: Omit<AdapterDescriptor<Kind>, 'specificationVersion'>,
): AdapterDescriptor<Kind> {
  return { specificationVersion, ...descriptor };
}

/** The descriptors a loaded adapter package exports. */
export function adapterDescriptorsOf(module: Record<string, unknown>): AdapterDescriptor[] {
  const many = module?.engramAdapters;
  const one = module?.engramAdapter;
  const list = Array.isArray(many) ? many : one === undefined ? [] : [one];
  return list.filter(
    (entry): entry is AdapterDescriptor =>
      entry != null &&
      typeof entry === 'object' &&
      typeof (entry as AdapterDescriptor).kind === 'string' &&
      typeof (entry as AdapterDescriptor).create === 'function',
  );
}

/**
 * Refuses a component (or descriptor) whose contract version this core does not know, with a
 * message that says which package to update.
 */
export function assertSpecificationVersion<T extends { specificationVersion?: unknown }>(
  component: T,
  what: string,
): T {
  if (component.specificationVersion !== specificationVersion) {
    throw new UnsupportedFunctionalityError({
      message: `${what} implements contract version ${JSON.stringify(component.specificationVersion)}, but this @engram/core speaks "${specificationVersion}". Install versions of the adapter and @engram/core that match.`,
    });
  }
  return component;
}

/** Options of {@link loadAdapter}. */
export interface LoadAdapterOptions {
  /** The package to import; default `@engram/<name>`. */
  packageName?: string;
  /** Imports packages from the caller's location (the CLI and server pass their own). */
  importModule?: ImportModule;
  /** What asked for the adapter, for the "not installed" message, e.g. `ENGRAM_GRAPH=neo4j`. */
  purpose?: string;
}

/**
 * Finds the descriptor of `kind` that the adapter package `name` exports: the one place where
 * configuration (environment, CLI flags, the server's file) turns a name into a component.
 */
export async function loadAdapter<Kind extends AdapterKind>(
  kind: Kind,
  name: string,
  options: LoadAdapterOptions = {},
): Promise<AdapterDescriptor<Kind>> {
  if (!/^[a-z][a-z0-9-]*$/.test(name)) {
    throw new InvalidArgumentError({
      message: `"${name}" is not an adapter name: use lowercase letters, digits and "-", e.g. qdrant or neo4j.`,
    });
  }
  const packageName = options.packageName ?? `@engram/${name}`;
  const module = await loadAdapterPackage(
    packageName,
    options.purpose ?? `The ${kind} adapter "${name}"`,
    options.importModule,
  );
  const descriptors = adapterDescriptorsOf(module);
  const descriptor = descriptors.find((entry) => entry.kind === kind);
  if (!descriptor) {
    const provided = descriptors.map((entry) => entry.kind).join(', ') || 'nothing';
    throw new EngramError({
      message: `${packageName} provides no ${kind} adapter (it provides ${provided}); check the name, or update it to a version that exports engramAdapter.`,
    });
  }
  assertSpecificationVersion(descriptor, `${packageName} (${kind})`);
  return descriptor as AdapterDescriptor<Kind>;
}
