import { type Embedder, InvalidArgumentError, type LLM, type Reranker } from '@engram/core';
import { aiSDKSource } from './ai-sdk-errors.js';
import type {
  CatalogPrefix,
  ProviderCatalogEntry,
  ProviderInstance,
  ResolvedProviderSettings,
} from './ai-sdk-provider-catalog.js';

/** Imports a provider package; tests and bundlers may pass their own. */
export type ImportPackage = (specifier: string) => Promise<unknown>;

/** Imports from this package's location, where its peer dependencies are installed. */
export const importFromAISDK: ImportPackage = (specifier) => import(specifier);

function isModuleNotFound(error: unknown, specifier: string): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return (
    (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') &&
    String((error as Error).message).includes(specifier)
  );
}

/** Imports the provider's package and builds the provider with the role's settings. */
export async function loadProvider(
  prefix: CatalogPrefix,
  entry: ProviderCatalogEntry,
  settings: ResolvedProviderSettings,
  importPackage: ImportPackage,
): Promise<ProviderInstance> {
  let module: Record<string, unknown>;
  try {
    module = (await importPackage(entry.packageName)) as Record<string, unknown>;
  } catch (error) {
    if (!isModuleNotFound(error, entry.packageName)) throw error;
    throw new InvalidArgumentError({
      message: `Models named '${prefix}:<model>' need the package ${entry.packageName}, which is not installed. Install it next to @engram/ai-sdk: npm install ${entry.packageName}@${entry.versionRange}`,
      source: aiSDKSource,
      cause: error,
    });
  }
  const factory = module[entry.factory];
  if (typeof factory !== 'function') {
    throw new InvalidArgumentError({
      message: `${entry.packageName} does not export ${entry.factory}: install a version in the range ${entry.versionRange} (AI SDK 6).`,
      source: aiSDKSource,
    });
  }
  return (factory as (options: Record<string, unknown>) => ProviderInstance)({
    ...settings.extra,
    ...(settings.apiKey === undefined ? {} : { apiKey: settings.apiKey }),
    ...(settings.baseURL === undefined ? {} : { baseURL: settings.baseURL }),
  });
}

/** One build shared by every call; a failed build is tried again on the next call. */
function once<T>(build: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    if (pending === undefined) {
      pending = build();
      pending.catch(() => {
        pending = undefined;
      });
    }
    return pending;
  };
}

interface Identity {
  provider: string;
  modelId: string;
}

/** An LLM whose provider package is imported on the first call. */
export function lazyLLM(identity: Identity, build: () => Promise<LLM>): LLM {
  const get = once(build);
  return {
    specificationVersion: 'v1',
    ...identity,
    async generate(options) {
      return (await get()).generate(options);
    },
  };
}

/** An embedder whose provider package is imported on the first call. */
export function lazyEmbedder(
  identity: Identity & { dimensions: number; maxEmbeddingsPerCall: number },
  build: () => Promise<Embedder>,
): Embedder {
  const get = once(build);
  return {
    specificationVersion: 'v1',
    ...identity,
    async embed(options) {
      return (await get()).embed(options);
    },
  };
}

/** A reranker whose provider package is imported on the first call. */
export function lazyReranker(identity: Identity, build: () => Promise<Reranker>): Reranker {
  const get = once(build);
  return {
    specificationVersion: 'v1',
    ...identity,
    async rerank(options) {
      return (await get()).rerank(options);
    },
  };
}
