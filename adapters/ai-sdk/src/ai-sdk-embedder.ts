import { assertPositiveInteger, chunk } from '@engram/adapter-kit';
import {
  DimensionMismatchError,
  type Embedder,
  type EmbedOptions,
  type EmbedResult,
  throwIfAborted,
} from '@engram/core';
import { type EmbeddingModel, embedMany } from 'ai';
import { aiSDKSource, toAISDKError } from './ai-sdk-errors.js';
import type { AISDKProviderOptions } from './ai-sdk-llm.js';

/** Options of {@link createAISDKEmbedder}. */
export interface AISDKEmbedderOptions {
  /** Any AI SDK embedding model, e.g. `openai.embedding('text-embedding-3-small')`. */
  model: EmbeddingModel;
  /** Length of the vectors the model returns; every vector is checked against it. */
  dimensions: number;
  /**
   * Largest batch sent in one call; bigger batches are split. Defaults to the model's own
   * `maxEmbeddingsPerCall` when it is a finite number, else 2048.
   */
  maxEmbeddingsPerCall?: number;
  /** How many batches may be in flight at once. Default 2. */
  maxParallelCalls?: number;
  /**
   * Provider-specific options, e.g. `{ openai: { dimensions: 512 } }`. A function receives the
   * call's purpose, for models that embed queries and documents differently (Gemini's
   * `taskType`, Cohere's `inputType`).
   */
  providerOptions?:
    | AISDKProviderOptions
    | ((purpose: EmbedOptions['purpose']) => AISDKProviderOptions | undefined);
  /** Retries the AI SDK makes on retryable failures (429, 5xx, lost connections). Default 2. */
  maxRetries?: number;
}

const fallbackMaxEmbeddingsPerCall = 2048;

function positiveInteger(name: string, value: number): number {
  assertPositiveInteger(value, name, aiSDKSource);
  return value;
}

function modelLimit(model: EmbeddingModel): number | undefined {
  if (typeof model === 'string') return undefined;
  const limit = model.maxEmbeddingsPerCall;
  // A promised limit cannot be read without I/O at construction; the AI SDK still honours it
  // when it splits each of our batches.
  return typeof limit === 'number' && Number.isFinite(limit) && limit >= 1
    ? Math.floor(limit)
    : undefined;
}

/**
 * An Engram {@link Embedder} backed by any Vercel AI SDK embedding model. Batches larger than
 * `maxEmbeddingsPerCall` are split and the order of values is kept; every vector's length is
 * checked against `dimensions`.
 */
export function createAISDKEmbedder(options: AISDKEmbedderOptions): Embedder {
  const { model, providerOptions, maxRetries } = options;
  const dimensions = positiveInteger('dimensions', options.dimensions);
  const maxEmbeddingsPerCall = positiveInteger(
    'maxEmbeddingsPerCall',
    options.maxEmbeddingsPerCall ?? modelLimit(model) ?? fallbackMaxEmbeddingsPerCall,
  );
  const maxParallelCalls = positiveInteger('maxParallelCalls', options.maxParallelCalls ?? 2);
  const provider = typeof model === 'string' ? 'gateway' : model.provider;
  const modelId = typeof model === 'string' ? model : model.modelId;

  async function embedBatch(
    values: string[],
    purpose: EmbedOptions['purpose'],
    abortSignal: AbortSignal | undefined,
  ): Promise<{ embeddings: number[][]; tokens: number }> {
    const resolvedProviderOptions =
      typeof providerOptions === 'function' ? providerOptions(purpose) : providerOptions;
    let result: Awaited<ReturnType<typeof embedMany>>;
    try {
      result = await embedMany({
        model,
        values,
        ...(abortSignal === undefined ? {} : { abortSignal }),
        ...(maxRetries === undefined ? {} : { maxRetries }),
        ...(resolvedProviderOptions === undefined
          ? {}
          : { providerOptions: resolvedProviderOptions as never }),
      });
    } catch (error) {
      throw toAISDKError(error, `${provider} ${modelId} embed`, abortSignal);
    }
    if (result.embeddings.length !== values.length) {
      throw toAISDKError(
        new Error(`expected ${values.length} embeddings, got ${result.embeddings.length}`),
        `${provider} ${modelId} embed`,
        abortSignal,
      );
    }
    for (const embedding of result.embeddings) {
      if (embedding.length !== dimensions) {
        throw new DimensionMismatchError({
          message: `${provider} ${modelId} returned vectors of ${embedding.length} dimensions, but the embedder was configured with ${dimensions}. Set dimensions to the model's real output size.`,
          source: aiSDKSource,
          expected: dimensions,
          actual: embedding.length,
        });
      }
    }
    return { embeddings: result.embeddings, tokens: result.usage.tokens };
  }

  return {
    specificationVersion: 'v1',
    provider,
    modelId,
    dimensions,
    maxEmbeddingsPerCall,
    async embed({ values, purpose, abortSignal }: EmbedOptions): Promise<EmbedResult> {
      throwIfAborted(abortSignal, aiSDKSource);
      if (values.length === 0) return { embeddings: [], usage: { tokens: 0 } };
      const batches = chunk(values, maxEmbeddingsPerCall);
      const results: Array<{ embeddings: number[][]; tokens: number }> = new Array(batches.length);
      let next = 0;
      let failed = false;
      const worker = async () => {
        while (!failed && next < batches.length) {
          const index = next++;
          try {
            results[index] = await embedBatch(batches[index]!, purpose, abortSignal);
          } catch (error) {
            failed = true;
            throw error;
          }
        }
      };
      await Promise.all(
        Array.from({ length: Math.min(maxParallelCalls, batches.length) }, () => worker()),
      );
      return {
        embeddings: results.flatMap((result) => result.embeddings),
        usage: { tokens: results.reduce((sum, result) => sum + result.tokens, 0) },
      };
    },
  };
}
