import { createOpenAI, type OpenAIProvider } from '@ai-sdk/openai';
import { loadOptionalSetting } from '@engram/adapter-kit';
import { type Embedder, InvalidArgumentError, type LLM } from '@engram/core';
import { createAISDKEmbedder } from './ai-sdk-embedder.js';
import { aiSDKSource } from './ai-sdk-errors.js';
import { createAISDKLLM } from './ai-sdk-llm.js';

/** The LLM used when none is named: `openai:gpt-4.1-mini`. */
export const defaultLLMName = 'openai:gpt-4.1-mini';

/** The embedder used when none is named: `openai:text-embedding-3-small`. */
export const defaultEmbedderName = 'openai:text-embedding-3-small';

/** Provider prefixes that {@link createLLMFromName} and {@link createEmbedderFromName} accept. */
export const supportedModelPrefixes = ['openai', 'ollama'] as const;

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
};

/** Options of {@link createLLMFromName} and {@link createEmbedderFromName}. */
export interface ModelNameOptions {
  /**
   * Where settings are read from: `OPENAI_API_KEY`, `OPENAI_BASE_URL`, `OPENAI_ORGANIZATION`,
   * `OPENAI_PROJECT`, `OLLAMA_BASE_URL`, `OLLAMA_API_KEY`, `ENGRAM_EMBEDDER_DIMENSIONS`.
   * Defaults to `process.env`.
   */
  env?: Record<string, string | undefined>;
  /** Retries the AI SDK makes on retryable failures (429, 5xx, lost connections). Default 2. */
  maxRetries?: number;
}

interface ParsedName {
  prefix: ModelPrefix;
  modelId: string;
  parameters: URLSearchParams;
}

const defaultOllamaBaseURL = 'http://localhost:11434';

function parseModelName(name: string, kind: string): ParsedName {
  const separator = name.indexOf(':');
  const supported = supportedModelPrefixes.map((prefix) => `'${prefix}:'`).join(', ');
  if (separator <= 0) {
    throw new InvalidArgumentError({
      message: `Invalid ${kind} name '${name}': expected '<provider>:<model>', with provider one of ${supported} (e.g. '${kind === 'LLM' ? defaultLLMName : defaultEmbedderName}').`,
      source: aiSDKSource,
    });
  }
  const prefix = name.slice(0, separator).trim().toLowerCase();
  if (!(supportedModelPrefixes as readonly string[]).includes(prefix)) {
    throw new InvalidArgumentError({
      message: `Unknown provider '${prefix}' in ${kind} name '${name}'. Supported prefixes: ${supported}. For any other provider, build the model with its AI SDK package and pass it to createAISDK${kind === 'LLM' ? 'LLM' : 'Embedder'}().`,
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

function ollamaBaseURL(env: Record<string, string | undefined>): string {
  const base = (setting(env, 'OLLAMA_BASE_URL') ?? defaultOllamaBaseURL).replace(/\/+$/, '');
  return base.endsWith('/v1') ? base : `${base}/v1`;
}

// Settings are always passed explicitly so the provider never falls back to process.env when
// the caller handed in its own environment.
function providerFor(prefix: ModelPrefix, env: Record<string, string | undefined>): OpenAIProvider {
  if (prefix === 'ollama') {
    return createOpenAI({
      name: 'ollama',
      baseURL: ollamaBaseURL(env),
      // Ollama ignores the key, but proxies in front of it may check one.
      apiKey: setting(env, 'OLLAMA_API_KEY') ?? 'ollama',
    });
  }
  const apiKey = setting(env, 'OPENAI_API_KEY');
  if (apiKey === undefined) {
    throw new InvalidArgumentError({
      message:
        'OpenAI models need an API key: set OPENAI_API_KEY (and OPENAI_BASE_URL for an OpenAI-compatible server), or use an ollama:<model> name for a local model.',
      source: aiSDKSource,
    });
  }
  const organization = setting(env, 'OPENAI_ORGANIZATION');
  const project = setting(env, 'OPENAI_PROJECT');
  return createOpenAI({
    apiKey,
    baseURL: setting(env, 'OPENAI_BASE_URL') ?? 'https://api.openai.com/v1',
    ...(organization === undefined ? {} : { organization }),
    ...(project === undefined ? {} : { project }),
  });
}

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
  return (
    knownEmbeddingDimensions[modelId] ?? knownEmbeddingDimensions[modelId.split(':')[0] ?? modelId]
  );
}

/**
 * Builds an LLM from a name such as `openai:gpt-4.1-mini` (Chat Completions API, key from
 * `OPENAI_API_KEY`, base URL from `OPENAI_BASE_URL`) or `ollama:llama3.2` (Ollama's
 * OpenAI-compatible API at `OLLAMA_BASE_URL`, default `http://localhost:11434`). No I/O happens
 * until the first call.
 */
export function createLLMFromName(name: string, options: ModelNameOptions = {}): LLM {
  const env = options.env ?? process.env;
  const { prefix, modelId, parameters } = parseModelName(name, 'LLM');
  rejectUnknownParameters(name, parameters, []);
  const provider = providerFor(prefix, env);
  return createAISDKLLM({
    model: provider.chat(modelId),
    ...(options.maxRetries === undefined ? {} : { maxRetries: options.maxRetries }),
  });
}

/**
 * Builds an embedder from a name such as `openai:text-embedding-3-small` or
 * `ollama:nomic-embed-text`. Well-known models need nothing more; for others give the size as
 * `openai:<model>?dimensions=1024` or in `ENGRAM_EMBEDDER_DIMENSIONS`. An explicit size for a
 * `text-embedding-3-*` model is also sent to the API, which shortens its vectors to match.
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
  const provider = providerFor(prefix, env);
  const shortens = prefix === 'openai' && modelId.startsWith('text-embedding-3');
  return createAISDKEmbedder({
    model: provider.embedding(modelId),
    dimensions,
    ...(explicit !== undefined && shortens
      ? { providerOptions: { openai: { dimensions: explicit } } }
      : {}),
    ...(options.maxRetries === undefined ? {} : { maxRetries: options.maxRetries }),
  });
}
