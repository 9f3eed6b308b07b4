import {
  generateJson,
  type LLM,
  LLMOutputError,
  type Reranker,
  type RerankOptions,
  type RerankResult,
} from '@engram/core';
import { aiSDKSource } from './ai-sdk-errors.js';

/** Options of {@link createLLMReranker}. */
export interface LLMRerankerOptions {
  /** The LLM that scores the documents. */
  llm: LLM;
  /** Retries after a malformed answer. Default 1. */
  retries?: number;
  /** Longest part of each document shown to the LLM, in characters. Default 1000. */
  maxDocumentLength?: number;
}

const schema = {
  type: 'object',
  properties: {
    scores: {
      type: 'array',
      items: {
        type: 'object',
        properties: { index: { type: 'integer' }, score: { type: 'number' } },
        required: ['index', 'score'],
        additionalProperties: false,
      },
    },
  },
  required: ['scores'],
  additionalProperties: false,
};

function parseScores(value: unknown, count: number): Map<number, number> | undefined {
  const scores = (value as { scores?: unknown } | null)?.scores;
  if (!Array.isArray(scores)) return undefined;
  const byIndex = new Map<number, number>();
  for (const entry of scores) {
    const { index, score } = (entry ?? {}) as { index?: unknown; score?: unknown };
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= count) {
      continue;
    }
    if (typeof score !== 'number' || !Number.isFinite(score)) continue;
    byIndex.set(index, Math.min(1, Math.max(0, score)));
  }
  return byIndex.size === 0 ? undefined : byIndex;
}

/**
 * A {@link Reranker} that asks an LLM to score each document's relevance to the query (0 to 1)
 * in one call. Documents the answer leaves out keep their order after the scored ones.
 */
export function createLLMReranker(options: LLMRerankerOptions): Reranker {
  const { llm, retries = 1, maxDocumentLength = 1000 } = options;
  return {
    specificationVersion: 'v1',
    provider: `llm:${llm.provider}`,
    modelId: llm.modelId,
    async rerank({ query, documents, topN, abortSignal }: RerankOptions): Promise<RerankResult> {
      if (documents.length === 0) return { results: [] };
      const listing = documents
        .map((document, index) => `[${index}] ${document.slice(0, maxDocumentLength)}`)
        .join('\n');
      const warnings: string[] = [];
      let tokens = 0;
      const counted: LLM = {
        specificationVersion: llm.specificationVersion,
        provider: llm.provider,
        modelId: llm.modelId,
        generate: async (request) => {
          const answer = await llm.generate(request);
          tokens += (answer.usage?.inputTokens ?? 0) + (answer.usage?.outputTokens ?? 0);
          return answer;
        },
      };
      const scores = await generateJson({
        llm: counted,
        messages: [
          {
            role: 'system',
            content:
              'You rank documents by how useful each is for answering a query. Score every document from 0 (irrelevant) to 1 (answers it directly). Answer only with JSON.',
          },
          { role: 'user', content: `Query: ${query}\n\nDocuments:\n${listing}` },
        ],
        schemaName: 'rerank_scores',
        schema,
        shape: '{"scores": [{"index": 0, "score": 0.9}]}',
        parse: (value) => parseScores(value, documents.length),
        retries,
        warnings,
        abortSignal,
      });
      if (scores === undefined) {
        throw new LLMOutputError({
          message: `The LLM reranker ${llm.provider}:${llm.modelId} gave no usable scores (${warnings.join('; ') || 'empty answer'}). Use a model that follows JSON instructions, or another reranker.`,
          source: aiSDKSource,
        });
      }
      const ranked = documents
        .map((_, index) => ({ index, score: scores.get(index) ?? -1 }))
        .sort((left, right) => right.score - left.score || left.index - right.index)
        .map((entry) => ({ index: entry.index, score: Math.max(0, entry.score) }));
      return {
        results: topN === undefined ? ranked : ranked.slice(0, topN),
        usage: { tokens },
      };
    },
  };
}
