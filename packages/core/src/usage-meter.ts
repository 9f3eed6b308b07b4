import { AsyncLocalStorage } from 'node:async_hooks';
import type { Embedder } from './embedder.js';
import { embedderProperties } from './embedder.js';
import type { LLM } from './llm.js';
import type { Reranker } from './reranker.js';

/** What one `add` or `search` cost in model calls and tokens, as the providers reported them. */
export interface OperationUsage {
  /** LLM calls made (extraction, reconciliation, graph, query rewriting, repairs). */
  llmCalls: number;
  /** Input tokens of those calls. */
  inputTokens: number;
  /** Output tokens of those calls. */
  outputTokens: number;
  /** Embedding calls made. */
  embeddingCalls: number;
  /** Tokens the embedding calls reported (0 when the provider reports none). */
  embeddingTokens: number;
  /** Rerank calls made. */
  rerankCalls: number;
  /** Tokens the rerank calls reported (0 when the provider reports none). */
  rerankTokens: number;
  /** Search units the rerank calls reported (Cohere bills these; 0 otherwise). */
  rerankSearchUnits: number;
  /** Sensitive spans replaced before storage, when redaction is on (`MemoryOptions.redact`). */
  redactions?: number;
}

const current = new AsyncLocalStorage<OperationUsage>();

/** An LLM that adds each call's reported tokens to the operation running it. */
export function meterLLM(llm: LLM): LLM {
  return {
    specificationVersion: llm.specificationVersion,
    provider: llm.provider,
    modelId: llm.modelId,
    async generate(options) {
      const result = await llm.generate(options);
      const usage = current.getStore();
      if (usage) {
        usage.llmCalls += 1;
        usage.inputTokens += result.usage?.inputTokens ?? 0;
        usage.outputTokens += result.usage?.outputTokens ?? 0;
      }
      return result;
    },
  };
}

/** An embedder that adds each call's reported tokens to the operation running it. */
export function meterEmbedder(embedder: Embedder): Embedder {
  return {
    ...embedderProperties(embedder),
    async embed(options) {
      const result = await embedder.embed(options);
      const usage = current.getStore();
      if (usage) {
        usage.embeddingCalls += 1;
        usage.embeddingTokens += result.usage?.tokens ?? 0;
      }
      return result;
    },
  };
}

/** A reranker that adds each call's reported tokens and search units to the operation running it. */
export function meterReranker(reranker: Reranker): Reranker {
  return {
    specificationVersion: reranker.specificationVersion,
    provider: reranker.provider,
    modelId: reranker.modelId,
    async rerank(options) {
      const result = await reranker.rerank(options);
      const usage = current.getStore();
      if (usage) {
        usage.rerankCalls += 1;
        usage.rerankTokens += result.usage?.tokens ?? 0;
        usage.rerankSearchUnits += result.usage?.searchUnits ?? 0;
      }
      return result;
    },
  };
}

/** Runs one operation and returns its result with the usage of the metered models it called. */
export async function withUsage<T extends object>(
  work: () => Promise<T>,
): Promise<T & { usage: OperationUsage }> {
  const usage: OperationUsage = {
    llmCalls: 0,
    inputTokens: 0,
    outputTokens: 0,
    embeddingCalls: 0,
    embeddingTokens: 0,
    rerankCalls: 0,
    rerankTokens: 0,
    rerankSearchUnits: 0,
  };
  const result = await current.run(usage, work);
  return { ...result, usage };
}
