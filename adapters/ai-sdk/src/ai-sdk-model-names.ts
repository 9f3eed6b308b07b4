import { createOpenAI, type OpenAIProvider } from '@ai-sdk/openai';
import { loadOptionalSetting } from '@engram/adapter-kit';
import { type Embedder, InvalidArgumentError, type LLM, type Reranker } from '@engram/core';
import type { EmbeddingModel, LanguageModel, RerankingModel } from 'ai';
import { createAISDKEmbedder } from './ai-sdk-embedder.js';
import { aiSDKSource } from './ai-sdk-errors.js';
import { createAISDKLLM } from './ai-sdk-llm.js';
import { createLLMReranker } from './ai-sdk-llm-reranker.js';
import {
  type CatalogPrefix,
  type ModelRole,
  type ProviderCatalogEntry,
  providerCatalog,
  type ResolvedProviderSettings,
} from './ai-sdk-provider-catalog.js';
import {
  type ImportPackage,
  importFromAISDK,
  lazyEmbedder,
  lazyLLM,
  lazyReranker,
  loadProvider,
} from './ai-sdk-provider-loader.js';
import { createAISDKReranker } from './ai-sdk-reranker.js';
import { retryEmbedder, retryLLM, retryReranker } from './ai-sdk-retry.js';

/** The LLM used when none is named: `openai:gpt-4.1-mini`. */
export const defaultLLMName = 'openai:gpt-4.1-mini';

/** The embedder used when none is named: `openai:text-embedding-3-small`. */
export const defaultEmbedderName = 'openai:text-embedding-3-small';

/** The reranker used when `ENGRAM_RERANKER` names a provider without a model: Cohere's. */
export const defaultRerankerName = 'cohere:rerank-v3.5';

/**
 * Provider prefixes that {@link createLLMFromName}, {@link createEmbedderFromName} and
 * {@link createRerankerFromName} accept. `openai` and `ollama` are built in; the others load
 * their AI SDK package (an optional peer dependency) on the first call.
 */
export const supportedModelPrefixes = [
  'openai',
  'ollama',
  'anthropic',
  'google',
  'azure',
  'amazon-bedrock',
  'groq',
  'togetherai',
  'mistral',
  'deepseek',
  'xai',
  'cohere',
  'voyage',
  'openai-compatible',
] as const;

/** A provider prefix of a model name. */
export type ModelPrefix = (typeof supportedModelPrefixes)[number];

/** Output sizes of well-known embedding models, so names alone are enough for them. */
export const knownEmbeddingDimensions: Readonly<Record<string, number>> = {
  'text-embedding-3-small': 1536,
  'text-embedding-3-large': 3072,
  'text-embedding-ada-002': 1536,
  'nomic-embed-text': 768,
  'mxbai-embed-large': 1024,
  'all-minilm': 384,
  'bge-m3': 1024,
  'embed-english-v3.0': 1024,
  'embed-multilingual-v3.0': 1024,
  'embed-english-light-v3.0': 384,
  'embed-multilingual-light-v3.0': 384,
  'embed-v4.0': 1536,
  'voyage-3.5': 1024,
  'voyage-3.5-lite': 1024,
  'voyage-3-large': 1024,
  'voyage-3': 1024,
  'voyage-3-lite': 512,
  'voyage-code-3': 1024,
  'voyage-finance-2': 1024,
  'voyage-law-2': 1024,
  'voyage-multilingual-2': 1024,
  'gemini-embedding-001': 3072,
  'text-embedding-004': 768,
  'amazon.titan-embed-text-v2:0': 1024,
  'amazon.titan-embed-text-v1': 1536,
  'cohere.embed-english-v3': 1024,
  'cohere.embed-multilingual-v3': 1024,
  'mistral-embed': 1024,
};

/** Options of {@link createLLMFromName}, {@link createEmbedderFromName} and {@link createRerankerFromName}. */
export interface ModelNameOptions {
  /**
   * Where settings are read from: the role's own `ENGRAM_<ROLE>_API_KEY`,
   * `ENGRAM_<ROLE>_BASE_URL` and `ENGRAM_<ROLE>_OPTIONS` (ROLE is `LLM`, `EMBEDDER` or
   * `RERANKER`), then each provider's usual variables (`OPENAI_API_KEY`, `ANTHROPIC_API_KEY`,
   * `AWS_REGION`, ...), and `ENGRAM_EMBEDDER_DIMENSIONS`. Defaults to `process.env`.
   */
  env?: Record<string, string | undefined>;
  /**
   * Retries after a 429 (waiting as `Retry-After` says, up to a minute), a 5xx or a lost
   * connection; other failures are not retried. Default `maxRetries` of
   * `ENGRAM_<ROLE>_OPTIONS` (e.g. `{"maxRetries":0}`), else 2.
   */
  maxRetries?: number;
  /** API key of this model; wins over every environment variable. */
  apiKey?: string;
  /** Base URL of this model's API; wins over every environment variable. */
  baseURL?: string;
  /**
   * Further settings of the provider's factory, e.g. `{ resourceName }` for Azure or
   * `{ region }` for Amazon Bedrock; merged over `ENGRAM_<ROLE>_OPTIONS`.
   */
  providerSettings?: Record<string, unknown>;
  /** Imports optional provider packages; default an `import()` from this package. */
  importPackage?: ImportPackage;
}

interface ParsedName {
  prefix: ModelPrefix;
  modelId: string;
  parameters: URLSearchParams;
}

const defaultOllamaBaseURL = 'http://localhost:11434';

const roleLabels: Record<ModelRole, { kind: string; variable: string; example: string }> = {
  llm: { kind: 'LLM', variable: 'LLM', example: defaultLLMName },
  embedder: { kind: 'embedder', variable: 'EMBEDDER', example: defaultEmbedderName },
  reranker: { kind: 'reranker', variable: 'RERANKER', example: defaultRerankerName },
};

function prefixesFor(role: ModelRole): string[] {
  return supportedModelPrefixes.filter(
    (prefix) =>
      prefix === 'openai' ||
      (prefix === 'ollama' && role !== 'reranker') ||
      ((providerCatalog as Record<string, ProviderCatalogEntry>)[prefix]?.roles.includes(role) ??
        false),
  );
}

function parseModelName(name: string, role: ModelRole): ParsedName {
  const { kind, example } = roleLabels[role];
  const separator = name.indexOf(':');
  const supported = prefixesFor(role)
    .map((prefix) => `'${prefix}:'`)
    .join(', ');
  if (separator <= 0) {
    throw new InvalidArgumentError({
      message: `Invalid ${kind} name '${name}': expected '<provider>:<model>', with provider one of ${supported} (e.g. '${example}').`,
      source: aiSDKSource,
    });
  }
  const prefix = name.slice(0, separator).trim().toLowerCase();
  if (!prefixesFor(role).includes(prefix)) {
    const factory = role === 'llm' ? 'LLM' : role === 'embedder' ? 'Embedder' : 'Reranker';
    throw new InvalidArgumentError({
      message: `Unknown provider '${prefix}' in ${kind} name '${name}'. Supported prefixes for a ${kind}: ${supported}. For any other provider, build the model with its AI SDK package and pass it to createAISDK${factory}().`,
      source: aiSDKSource,
    });
  }
  const rest = name.slice(separator + 1);
  const queryStart = rest.indexOf('?');
  const modelId = (queryStart === -1 ? rest : rest.slice(0, queryStart)).trim();
  if (modelId.length === 0) {
    throw new InvalidArgumentError({
      message: `Invalid ${kind} name '${name}': the model id after '${prefix}:' is empty.`,
      source: aiSDKSource,
    });
  }
  const parameters = new URLSearchParams(queryStart === -1 ? '' : rest.slice(queryStart + 1));
  return { prefix: prefix as ModelPrefix, modelId, parameters };
}

function rejectUnknownParameters(name: string, parameters: URLSearchParams, allowed: string[]) {
  for (const key of parameters.keys()) {
    if (!allowed.includes(key)) {
      throw new InvalidArgumentError({
        message: `Unknown parameter '${key}' in model name '${name}'. ${allowed.length > 0 ? `Allowed: ${allowed.join(', ')}.` : 'This kind of model takes none.'}`,
        source: aiSDKSource,
      });
    }
  }
}

/** A setting from the environment, trimmed; an empty value counts as unset. */
function setting(
  env: Record<string, string | undefined>,
  environmentVariableName: string,
): string | undefined {
  return loadOptionalSetting({
    value: undefined,
    environmentVariableName,
    settingName: environmentVariableName,
    source: aiSDKSource,
    environment: env,
  })?.trim();
}

function firstSetting(
  env: Record<string, string | undefined>,
  names: readonly string[],
): string | undefined {
  for (const name of names) {
    const value = setting(env, name);
    if (value) return value;
  }
  return undefined;
}

function roleOptions(env: Record<string, string | undefined>, role: ModelRole) {
  const variable = `ENGRAM_${roleLabels[role].variable}_OPTIONS`;
  const raw = setting(env, variable);
  if (!raw) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (error) {
    throw new InvalidArgumentError({
      message: `${variable} must be a JSON object of provider settings, e.g. {"region":"eu-west-1"}; it does not parse.`,
      source: aiSDKSource,
      cause: error,
    });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new InvalidArgumentError({
      message: `${variable} must be a JSON object of provider settings, e.g. {"region":"eu-west-1"}.`,
      source: aiSDKSource,
    });
  }
  return parsed as Record<string, unknown>;
}

/**
 * Retries of a role: the `maxRetries` option, else `maxRetries` in `ENGRAM_<ROLE>_OPTIONS`
 * (this package retries, not the provider's factory), else the default.
 */
function roleMaxRetries(
  role: ModelRole,
  options: ModelNameOptions,
  env: Record<string, string | undefined>,
): number | undefined {
  if (options.maxRetries !== undefined) return options.maxRetries;
  const value = roleOptions(env, role).maxRetries;
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new InvalidArgumentError({
      message: `maxRetries in ENGRAM_${roleLabels[role].variable}_OPTIONS must be a whole number of retries (0 for none), got ${JSON.stringify(value)}.`,
      source: aiSDKSource,
    });
  }
  return value;
}

function withoutRetries({ maxRetries: _, ...settings }: Record<string, unknown>) {
  return settings;
}

/**
 * The key, base URL and factory settings of one role: explicit options first, then the role's
 * own variables (`ENGRAM_LLM_API_KEY`, ...), then the provider's usual ones.
 */
function resolveSettings(
  role: ModelRole,
  options: ModelNameOptions,
  env: Record<string, string | undefined>,
  usual: { apiKey: readonly string[]; baseURL: readonly string[] },
): ResolvedProviderSettings {
  const variable = roleLabels[role].variable;
  return {
    apiKey:
      options.apiKey ??
      setting(env, `ENGRAM_${variable}_API_KEY`) ??
      firstSetting(env, usual.apiKey),
    baseURL:
      options.baseURL ??
      setting(env, `ENGRAM_${variable}_BASE_URL`) ??
      firstSetting(env, usual.baseURL),
    extra: { ...withoutRetries(roleOptions(env, role)), ...options.providerSettings },
  };
}

function ollamaBaseURL(configured: string | undefined): string {
  const base = (configured ?? defaultOllamaBaseURL).replace(/\/+$/, '');
  return base.endsWith('/v1') ? base : `${base}/v1`;
}

// Settings are always passed explicitly so the provider never falls back to process.env when
// the caller handed in its own environment.
function builtInProvider(
  prefix: 'openai' | 'ollama',
  role: ModelRole,
  options: ModelNameOptions,
  env: Record<string, string | undefined>,
): OpenAIProvider {
  if (prefix === 'ollama') {
    const settings = resolveSettings(role, options, env, {
      apiKey: ['OLLAMA_API_KEY'],
      baseURL: ['OLLAMA_BASE_URL'],
    });
    return createOpenAI({
      ...settings.extra,
      name: 'ollama',
      baseURL: ollamaBaseURL(settings.baseURL),
      // Ollama ignores the key, but proxies in front of it may check one.
      apiKey: settings.apiKey ?? 'ollama',
    });
  }
  const settings = resolveSettings(role, options, env, {
    apiKey: ['OPENAI_API_KEY'],
    baseURL: ['OPENAI_BASE_URL'],
  });
  if (settings.apiKey === undefined) {
    const variable = roleLabels[role].variable;
    throw new InvalidArgumentError({
      message: `OpenAI models need an API key: set OPENAI_API_KEY or ENGRAM_${variable}_API_KEY (and OPENAI_BASE_URL or ENGRAM_${variable}_BASE_URL for an OpenAI-compatible server), or use an ollama:<model> name for a local model.`,
      source: aiSDKSource,
    });
  }
  const organization = setting(env, 'OPENAI_ORGANIZATION');
  const project = setting(env, 'OPENAI_PROJECT');
  return createOpenAI({
    ...(organization === undefined ? {} : { organization }),
    ...(project === undefined ? {} : { project }),
    ...settings.extra,
    apiKey: settings.apiKey,
    baseURL: settings.baseURL ?? 'https://api.openai.com/v1',
  });
}

/** The catalog entry and settings of an optional provider, checked before any I/O. */
function catalogProvider(
  prefix: CatalogPrefix,
  role: ModelRole,
  options: ModelNameOptions,
  env: Record<string, string | undefined>,
) {
  const entry: ProviderCatalogEntry = providerCatalog[prefix];
  const settings = resolveSettings(role, options, env, {
    apiKey: entry.apiKeyVariables,
    baseURL: entry.baseURLVariables,
  });
  settings.extra = { ...entry.extraSettings?.(env), ...settings.extra };
  const variable = roleLabels[role].variable;
  if (entry.requiresApiKey && settings.apiKey === undefined) {
    throw new InvalidArgumentError({
      message: `'${prefix}:' models need an API key: set ${entry.apiKeyVariables[0]} or ENGRAM_${variable}_API_KEY.`,
      source: aiSDKSource,
    });
  }
  if (entry.requiresBaseURL && settings.baseURL === undefined) {
    throw new InvalidArgumentError({
      message: `'${prefix}:' models need the server's base URL: set ENGRAM_${variable}_BASE_URL (or ${entry.baseURLVariables[0]}), e.g. http://localhost:4000/v1 for a LiteLLM proxy.`,
      source: aiSDKSource,
    });
  }
  const importPackage = options.importPackage ?? importFromAISDK;
  const load = () => loadProvider(prefix, entry, settings, importPackage);
  return { entry, load };
}

function missingModel(prefix: string, kind: string): never {
  throw new InvalidArgumentError({
    message: `The ${prefix} provider serves no ${kind} models by name.`,
    source: aiSDKSource,
  });
}

// Retries are this package's (429, 5xx, lost connections only; see ai-sdk-retry.ts), not the SDK's.
const retries = (_options: ModelNameOptions) => ({ maxRetries: 0 });

function parseDimensions(value: string, where: string): number {
  const dimensions = Number(value);
  if (!Number.isInteger(dimensions) || dimensions < 1) {
    throw new InvalidArgumentError({
      message: `${where} must be a positive integer, got '${value}'.`,
      source: aiSDKSource,
    });
  }
  return dimensions;
}

/** The known size of a model, ignoring an Ollama tag such as `:latest`. */
function knownDimensions(modelId: string): number | undefined {
  const bare = modelId.split('/').at(-1) ?? modelId;
  return (
    knownEmbeddingDimensions[modelId] ??
    knownEmbeddingDimensions[bare] ??
    knownEmbeddingDimensions[bare.split(':')[0] ?? bare]
  );
}

function isCatalogPrefix(prefix: ModelPrefix): prefix is CatalogPrefix {
  return prefix !== 'openai' && prefix !== 'ollama';
}

/**
 * Builds an LLM from a name such as `openai:gpt-4.1-mini`, `anthropic:claude-sonnet-4-5`,
 * `google:gemini-2.5-flash`, `azure:<deployment>`, `amazon-bedrock:<model id>`,
 * `openai-compatible:<model>` (with `ENGRAM_LLM_BASE_URL`) or `ollama:llama3.2`. Providers other
 * than OpenAI and Ollama load their AI SDK package on the first call. No I/O happens until then.
 */
export function createLLMFromName(name: string, options: ModelNameOptions = {}): LLM {
  const env = options.env ?? process.env;
  const { prefix, modelId, parameters } = parseModelName(name, 'llm');
  rejectUnknownParameters(name, parameters, []);
  if (!isCatalogPrefix(prefix)) {
    const provider = builtInProvider(prefix, 'llm', options, env);
    return retryLLM(
      createAISDKLLM({ model: provider.chat(modelId), ...retries(options) }),
      roleMaxRetries('llm', options, env),
    );
  }
  const { entry, load } = catalogProvider(prefix, 'llm', options, env);
  const llm = lazyLLM({ provider: prefix, modelId }, async () => {
    const provider = await load();
    const model = entry.languageModel
      ? entry.languageModel(provider, modelId)
      : (provider.languageModel?.(modelId) ?? missingModel(prefix, 'language'));
    return createAISDKLLM({ model: model as LanguageModel, ...retries(options) });
  });
  return retryLLM(llm, roleMaxRetries('llm', options, env));
}

/**
 * Builds an embedder from a name such as `openai:text-embedding-3-small`,
 * `cohere:embed-multilingual-v3.0` (documents and queries embedded with their input types),
 * `voyage:voyage-3.5`, `google:gemini-embedding-001?dimensions=768`,
 * `amazon-bedrock:amazon.titan-embed-text-v2:0` or `ollama:nomic-embed-text`. Well-known models
 * need nothing more; for others give the size as `<provider>:<model>?dimensions=1024` or in
 * `ENGRAM_EMBEDDER_DIMENSIONS`. An explicit size is also sent to providers that shorten vectors
 * (OpenAI `text-embedding-3-*`, Gemini, Titan v2, Voyage, Azure).
 */
export function createEmbedderFromName(name: string, options: ModelNameOptions = {}): Embedder {
  const env = options.env ?? process.env;
  const { prefix, modelId, parameters } = parseModelName(name, 'embedder');
  rejectUnknownParameters(name, parameters, ['dimensions']);
  const fromName = parameters.get('dimensions');
  const fromEnv = setting(env, 'ENGRAM_EMBEDDER_DIMENSIONS');
  const explicit =
    fromName !== null
      ? parseDimensions(fromName, `The dimensions parameter of '${name}'`)
      : fromEnv !== undefined
        ? parseDimensions(fromEnv, 'ENGRAM_EMBEDDER_DIMENSIONS')
        : undefined;
  const dimensions = explicit ?? knownDimensions(modelId);
  if (dimensions === undefined) {
    throw new InvalidArgumentError({
      message: `The output size of embedding model '${modelId}' is not known. Pass it in the name ('${prefix}:${modelId}?dimensions=768') or set ENGRAM_EMBEDDER_DIMENSIONS.`,
      source: aiSDKSource,
    });
  }
  const maxRetries = roleMaxRetries('embedder', options, env);
  if (!isCatalogPrefix(prefix)) {
    const provider = builtInProvider(prefix, 'embedder', options, env);
    const shortens = prefix === 'openai' && modelId.startsWith('text-embedding-3');
    const embedder = createAISDKEmbedder({
      model: provider.embedding(modelId),
      dimensions,
      ...(explicit !== undefined && shortens
        ? { providerOptions: { openai: { dimensions: explicit } } }
        : {}),
      ...retries(options),
    });
    return retryEmbedder(embedder, maxRetries);
  }
  const { entry, load } = catalogProvider(prefix, 'embedder', options, env);
  const maxEmbeddingsPerCall = entry.maxEmbeddingsPerCall?.(modelId) ?? 96;
  const embedder = lazyEmbedder(
    { provider: prefix, modelId, dimensions, maxEmbeddingsPerCall },
    async () => {
      const provider = await load();
      const model =
        provider.embeddingModel?.(modelId) ??
        provider.textEmbeddingModel?.(modelId) ??
        missingModel(prefix, 'embedding');
      const embeddingOptions = entry.embeddingOptions;
      return createAISDKEmbedder({
        model: model as EmbeddingModel,
        dimensions,
        maxEmbeddingsPerCall,
        ...(embeddingOptions === undefined
          ? {}
          : { providerOptions: (purpose) => embeddingOptions(modelId, purpose, explicit) }),
        ...retries(options),
      });
    },
  );
  return retryEmbedder(embedder, maxRetries);
}

/**
 * Builds a reranker from a name: `cohere:rerank-v3.5`, `voyage:rerank-2.5`,
 * `amazon-bedrock:amazon.rerank-v1:0`, `togetherai:<model>`, or `llm:<LLM name>` (e.g.
 * `llm:openai:gpt-4.1-mini`), which asks that LLM to score the candidates. Settings come from
 * `ENGRAM_RERANKER_API_KEY`, `ENGRAM_RERANKER_BASE_URL`, `ENGRAM_RERANKER_OPTIONS`, then the
 * provider's usual variables.
 */
export function createRerankerFromName(name: string, options: ModelNameOptions = {}): Reranker {
  const env = options.env ?? process.env;
  const trimmed = name.trim();
  if (trimmed.toLowerCase() === 'llm' || trimmed.toLowerCase().startsWith('llm:')) {
    // `llm` alone reuses the configured LLM; the reranker's own settings win over the LLM's.
    const llmName = trimmed.length > 'llm'.length ? trimmed.slice('llm:'.length) : env.ENGRAM_LLM;
    if (!llmName?.trim()) {
      throw new InvalidArgumentError({
        message: `ENGRAM_RERANKER=${trimmed} needs an LLM: write llm:<provider>:<model> (e.g. llm:${defaultLLMName}) or set ENGRAM_LLM.`,
        source: aiSDKSource,
      });
    }
    const llm = createLLMFromName(llmName, {
      ...options,
      env: {
        ...env,
        ENGRAM_LLM_API_KEY: env.ENGRAM_RERANKER_API_KEY ?? env.ENGRAM_LLM_API_KEY,
        ENGRAM_LLM_BASE_URL: env.ENGRAM_RERANKER_BASE_URL ?? env.ENGRAM_LLM_BASE_URL,
        ENGRAM_LLM_OPTIONS: env.ENGRAM_RERANKER_OPTIONS ?? env.ENGRAM_LLM_OPTIONS,
      },
    });
    return createLLMReranker({ llm });
  }
  const { prefix, modelId, parameters } = parseModelName(trimmed, 'reranker');
  rejectUnknownParameters(name, parameters, []);
  if (!isCatalogPrefix(prefix)) {
    return missingModel(prefix, 'reranking');
  }
  const { load } = catalogProvider(prefix, 'reranker', options, env);
  const reranker = lazyReranker({ provider: prefix, modelId }, async () => {
    const provider = await load();
    const model =
      provider.rerankingModel?.(modelId) ??
      provider.reranking?.(modelId) ??
      missingModel(prefix, 'reranking');
    return createAISDKReranker({ model: model as RerankingModel, ...retries(options) });
  });
  return retryReranker(reranker, roleMaxRetries('reranker', options, env));
}
