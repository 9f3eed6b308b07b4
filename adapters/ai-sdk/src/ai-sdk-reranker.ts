import type { Reranker, RerankOptions, RerankResult } from '@engram/core';
import { type RerankingModel, rerank } from 'ai';
import { toAISDKError } from './ai-sdk-errors.js';
import type { AISDKProviderOptions } from './ai-sdk-llm.js';

/** Options of {@link createAISDKReranker}. */
export interface AISDKRerankerOptions {
  /** Any AI SDK reranking model, e.g. `cohere.reranking('rerank-v3.5')`. */
  model: RerankingModel;
  /** Provider-specific options sent with every call. */
  providerOptions?: AISDKProviderOptions;
  /** Retries the AI SDK makes on retryable failures (429, 5xx, lost connections). Default 2. */
  maxRetries?: number;
}

/** An Engram {@link Reranker} backed by any Vercel AI SDK reranking model. */
export function createAISDKReranker(options: AISDKRerankerOptions): Reranker {
  const { model, providerOptions, maxRetries } = options;
  const provider = typeof model === 'string' ? 'gateway' : model.provider;
  const modelId = typeof model === 'string' ? model : model.modelId;

  return {
    specificationVersion: 'v1',
    provider,
    modelId,
    async rerank({ query, documents, topN, abortSignal }: RerankOptions): Promise<RerankResult> {
      if (documents.length === 0) return { results: [] };
      try {
        const result = await rerank({
          model,
          query,
          documents,
          ...(topN === undefined ? {} : { topN }),
          ...(abortSignal === undefined ? {} : { abortSignal }),
          ...(maxRetries === undefined ? {} : { maxRetries }),
          ...(providerOptions === undefined ? {} : { providerOptions: providerOptions as never }),
        });
        return {
          results: result.ranking.map((entry) => ({
            index: entry.originalIndex,
            score: entry.score,
          })),
        };
      } catch (error) {
        throw toAISDKError(error, `${provider} ${modelId} rerank`, abortSignal);
      }
    },
  };
}
