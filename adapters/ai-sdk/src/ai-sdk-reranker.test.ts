import type { RerankingModelV3, RerankingModelV3CallOptions } from '@ai-sdk/provider';
import { AdapterCallError } from '@engram/core';
import { APICallError } from 'ai';
import { describe, expect, it } from 'vitest';
import { createAISDKReranker } from './ai-sdk-reranker.js';

function wordOverlapModel(calls: RerankingModelV3CallOptions[]): RerankingModelV3 {
  return {
    specificationVersion: 'v3',
    provider: 'test.reranking',
    modelId: 'overlap',
    async doRerank(options) {
      calls.push(options);
      const query = new Set(options.query.toLowerCase().split(/\s+/));
      const documents = options.documents.values as string[];
      const ranking = documents
        .map((document, index) => ({
          index,
          relevanceScore:
            document
              .toLowerCase()
              .split(/\s+/)
              .filter((word) => query.has(word)).length / 10,
        }))
        .sort((left, right) => right.relevanceScore - left.relevanceScore)
        .slice(0, options.topN ?? documents.length);
      return { ranking };
    },
  };
}

describe('createAISDKReranker', () => {
  it('returns indexes into the documents, best first', async () => {
    const calls: RerankingModelV3CallOptions[] = [];
    const reranker = createAISDKReranker({ model: wordOverlapModel(calls) });
    expect(reranker).toMatchObject({ provider: 'test.reranking', modelId: 'overlap' });
    const result = await reranker.rerank({
      query: 'green tea in the morning',
      documents: ['likes coffee', 'drinks green tea every morning', 'tea is fine'],
      topN: 2,
    });
    expect(result.results.map((entry) => entry.index)).toEqual([1, 2]);
    expect(result.results[0]?.score).toBeCloseTo(0.3);
    expect(calls[0]?.topN).toBe(2);
  });

  it('maps provider failures to AdapterCallError', async () => {
    const model: RerankingModelV3 = {
      specificationVersion: 'v3',
      provider: 'test.reranking',
      modelId: 'broken',
      async doRerank() {
        throw new APICallError({
          message: 'overloaded',
          url: 'http://localhost/rerank',
          requestBodyValues: {},
          statusCode: 503,
        });
      },
    };
    const reranker = createAISDKReranker({ model, maxRetries: 0 });
    const error = await reranker.rerank({ query: 'q', documents: ['a'] }).catch((e) => e);
    expect(AdapterCallError.isInstance(error)).toBe(true);
    expect(error.isRetryable).toBe(true);
  });
});
