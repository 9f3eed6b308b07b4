import type { EmbedOptions } from '@engram/core';
import type { AISDKProviderOptions } from './ai-sdk-llm.js';

/** What a model name is used for. */
export type ModelRole = 'llm' | 'embedder' | 'reranker';

/** Settings of one role, after the role's own variables and the provider's usual ones. */
export interface ResolvedProviderSettings {
  apiKey: string | undefined;
  baseURL: string | undefined;
  /** Further settings of the provider's factory (`resourceName`, `region`, `headers`, ...). */
  extra: Record<string, unknown>;
}

/** How one provider prefix is served: its AI SDK package and the settings it reads. */
export interface ProviderCatalogEntry {
  /** The npm package, loaded with `import()` only when the prefix is named. */
  packageName: string;
  /** The package's provider factory, e.g. `createAnthropic`. */
  factory: string;
  /** Version range of the package that speaks AI SDK 6. */
  versionRange: string;
  /** Roles the provider serves by name. */
  roles: readonly ModelRole[];
  /** The provider's usual key variables, first set wins. */
  apiKeyVariables: readonly string[];
  /** The provider's usual base URL variables, first set wins. */
  baseURLVariables: readonly string[];
  /** Whether calls cannot work without a key (Bedrock and Azure have other credentials). */
  requiresApiKey: boolean;
  /** Whether calls cannot work without a base URL. */
  requiresBaseURL?: boolean;
  /** Settings read from the environment besides key and base URL. */
  extraSettings?: (env: Record<string, string | undefined>) => Record<string, unknown>;
  /** Largest batch of one embedding request. */
  maxEmbeddingsPerCall?: (modelId: string) => number;
  /** Provider options of an embedding call, for the call's purpose and an explicit size. */
  embeddingOptions?: (
    modelId: string,
    purpose: EmbedOptions['purpose'],
    dimensions: number | undefined,
  ) => AISDKProviderOptions | undefined;
  /** The language model of the provider; default `provider.languageModel(modelId)`. */
  languageModel?: (provider: ProviderInstance, modelId: string) => unknown;
}

/** The parts of an AI SDK provider instance that names use. */
export interface ProviderInstance {
  languageModel?(modelId: string): unknown;
  chat?(modelId: string): unknown;
  embeddingModel?(modelId: string): unknown;
  textEmbeddingModel?(modelId: string): unknown;
  rerankingModel?(modelId: string): unknown;
  reranking?(modelId: string): unknown;
}

function pick(
  env: Record<string, string | undefined>,
  names: Record<string, string>,
): Record<string, unknown> {
  const settings: Record<string, unknown> = {};
  for (const [setting, variable] of Object.entries(names)) {
    const value = env[variable]?.trim();
    if (value) settings[setting] = value;
  }
  return settings;
}

const cohereInputType = (purpose: EmbedOptions['purpose']) =>
  purpose === 'query' ? 'search_query' : 'search_document';

/**
 * Every provider served by name, besides `openai` and `ollama` (built in). Each is an optional
 * peer dependency of `@engram/ai-sdk`, imported the first time a model of it is called.
 */
export const providerCatalog = {
  anthropic: {
    packageName: '@ai-sdk/anthropic',
    factory: 'createAnthropic',
    versionRange: '^3',
    roles: ['llm'],
    apiKeyVariables: ['ANTHROPIC_API_KEY'],
    baseURLVariables: ['ANTHROPIC_BASE_URL'],
    requiresApiKey: true,
  },
  google: {
    packageName: '@ai-sdk/google',
    factory: 'createGoogleGenerativeAI',
    versionRange: '^3',
    roles: ['llm', 'embedder'],
    apiKeyVariables: ['GOOGLE_GENERATIVE_AI_API_KEY', 'GEMINI_API_KEY'],
    baseURLVariables: ['GOOGLE_GENERATIVE_AI_BASE_URL'],
    requiresApiKey: true,
    maxEmbeddingsPerCall: () => 100,
    embeddingOptions: (_modelId, purpose, dimensions) => ({
      google: {
        taskType: purpose === 'query' ? 'RETRIEVAL_QUERY' : 'RETRIEVAL_DOCUMENT',
        ...(dimensions === undefined ? {} : { outputDimensionality: dimensions }),
      },
    }),
  },
  azure: {
    packageName: '@ai-sdk/azure',
    factory: 'createAzure',
    versionRange: '^3',
    roles: ['llm', 'embedder'],
    apiKeyVariables: ['AZURE_API_KEY', 'AZURE_OPENAI_API_KEY'],
    baseURLVariables: ['AZURE_BASE_URL', 'AZURE_OPENAI_BASE_URL'],
    requiresApiKey: false,
    extraSettings: (env) =>
      pick(env, { resourceName: 'AZURE_RESOURCE_NAME', apiVersion: 'AZURE_API_VERSION' }),
    maxEmbeddingsPerCall: () => 2048,
    embeddingOptions: (_modelId, _purpose, dimensions) =>
      dimensions === undefined ? undefined : { azure: { dimensions }, openai: { dimensions } },
    // Chat Completions: what every Azure OpenAI deployment serves.
    languageModel: (provider, modelId) => provider.chat?.(modelId),
  },
  'amazon-bedrock': {
    packageName: '@ai-sdk/amazon-bedrock',
    factory: 'createAmazonBedrock',
    versionRange: '^4',
    roles: ['llm', 'embedder', 'reranker'],
    apiKeyVariables: ['AWS_BEARER_TOKEN_BEDROCK'],
    baseURLVariables: ['AWS_BEDROCK_BASE_URL'],
    requiresApiKey: false,
    extraSettings: (env) =>
      pick(env, {
        region: 'AWS_REGION',
        accessKeyId: 'AWS_ACCESS_KEY_ID',
        secretAccessKey: 'AWS_SECRET_ACCESS_KEY',
        sessionToken: 'AWS_SESSION_TOKEN',
      }),
    maxEmbeddingsPerCall: (modelId) => (modelId.includes('cohere.') ? 96 : 1),
    embeddingOptions: (modelId, purpose, dimensions) =>
      modelId.includes('cohere.')
        ? { bedrock: { inputType: cohereInputType(purpose) } }
        : dimensions === undefined
          ? undefined
          : { bedrock: { dimensions } },
  },
  groq: {
    packageName: '@ai-sdk/groq',
    factory: 'createGroq',
    versionRange: '^3',
    roles: ['llm'],
    apiKeyVariables: ['GROQ_API_KEY'],
    baseURLVariables: ['GROQ_BASE_URL'],
    requiresApiKey: true,
  },
  togetherai: {
    packageName: '@ai-sdk/togetherai',
    factory: 'createTogetherAI',
    versionRange: '^2',
    roles: ['llm', 'embedder', 'reranker'],
    apiKeyVariables: ['TOGETHER_AI_API_KEY', 'TOGETHER_API_KEY'],
    baseURLVariables: ['TOGETHER_AI_BASE_URL'],
    requiresApiKey: true,
  },
  mistral: {
    packageName: '@ai-sdk/mistral',
    factory: 'createMistral',
    versionRange: '^3',
    roles: ['llm', 'embedder'],
    apiKeyVariables: ['MISTRAL_API_KEY'],
    baseURLVariables: ['MISTRAL_BASE_URL'],
    requiresApiKey: true,
    maxEmbeddingsPerCall: () => 32,
  },
  deepseek: {
    packageName: '@ai-sdk/deepseek',
    factory: 'createDeepSeek',
    versionRange: '^2',
    roles: ['llm'],
    apiKeyVariables: ['DEEPSEEK_API_KEY'],
    baseURLVariables: ['DEEPSEEK_BASE_URL'],
    requiresApiKey: true,
  },
  xai: {
    packageName: '@ai-sdk/xai',
    factory: 'createXai',
    versionRange: '^3',
    roles: ['llm'],
    apiKeyVariables: ['XAI_API_KEY'],
    baseURLVariables: ['XAI_BASE_URL'],
    requiresApiKey: true,
    // xAI's Chat Completions endpoint, which every Grok model serves.
    languageModel: (provider, modelId) => provider.chat?.(modelId),
  },
  cohere: {
    packageName: '@ai-sdk/cohere',
    factory: 'createCohere',
    versionRange: '^3',
    roles: ['llm', 'embedder', 'reranker'],
    apiKeyVariables: ['COHERE_API_KEY', 'CO_API_KEY'],
    baseURLVariables: ['COHERE_BASE_URL'],
    requiresApiKey: true,
    maxEmbeddingsPerCall: () => 96,
    embeddingOptions: (_modelId, purpose) => ({
      cohere: { inputType: cohereInputType(purpose) },
    }),
  },
  voyage: {
    packageName: 'voyage-ai-provider',
    factory: 'createVoyage',
    versionRange: '^3',
    roles: ['embedder', 'reranker'],
    apiKeyVariables: ['VOYAGE_API_KEY'],
    baseURLVariables: ['VOYAGE_BASE_URL'],
    requiresApiKey: true,
    maxEmbeddingsPerCall: () => 128,
    embeddingOptions: (_modelId, purpose, dimensions) => ({
      voyage: {
        inputType: purpose,
        ...(dimensions === undefined ? {} : { outputDimension: dimensions }),
      },
    }),
  },
  'openai-compatible': {
    packageName: '@ai-sdk/openai-compatible',
    factory: 'createOpenAICompatible',
    versionRange: '^2',
    roles: ['llm', 'embedder'],
    apiKeyVariables: ['OPENAI_COMPATIBLE_API_KEY'],
    baseURLVariables: ['OPENAI_COMPATIBLE_BASE_URL'],
    requiresApiKey: false,
    requiresBaseURL: true,
    extraSettings: () => ({ name: 'openai-compatible', includeUsage: true }),
    maxEmbeddingsPerCall: () => 2048,
  },
} as const satisfies Record<string, ProviderCatalogEntry>;

/** A provider prefix served through an optional AI SDK package. */
export type CatalogPrefix = keyof typeof providerCatalog;
