import type { Reranker, RerankOptions, RerankResult, RerankUsage } from '@engram/core';
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

const count = (value: unknown) =>
  typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;

/**
 * What a rerank call cost, read from the provider's response body (the AI SDK passes no usage
 * for reranking): `usage.total_tokens` (Voyage, Together AI), `meta.billed_units.search_units`
 * (Cohere, also on Azure AI Foundry). Bedrock's rerank response carries none.
 */
export function rerankUsage(body: unknown): RerankUsage | undefined {
  if (body === null || typeof body !== 'object') return undefined;
  const { usage, meta } = body as {
    usage?: { total_tokens?: unknown };
    meta?: { billed_units?: { search_units?: unknown } };
  };
  const tokens = count(usage?.total_tokens);
  const searchUnits = count(meta?.billed_units?.search_units);
  if (tokens === undefined && searchUnits === undefined) return undefined;
  return {
    ...(tokens === undefined ? {} : { tokens }),
    ...(searchUnits === undefined ? {} : { searchUnits }),
  };
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
        const usage = rerankUsage(result.response.body);
        return {
          results: result.ranking.map((entry) => ({
            index: entry.originalIndex,
            score: entry.score,
          })),
          ...(usage ? { usage } : {}),
        };
      } catch (error) {
        throw toAISDKError(error, `${provider} ${modelId} rerank`, abortSignal);
      }
    },
  };
}
