import type { CallOptions } from './vector-store.js';

/** Options of {@link Reranker.rerank}. */
export interface RerankOptions extends CallOptions {
  query: string;
  documents: string[];
  /** Return only the best N. */
  topN?: number;
}

/** What one rerank call cost, as the provider reported it. */
export interface RerankUsage {
  /** Tokens billed (Voyage, Together AI, an LLM reranker's input plus output). */
  tokens?: number;
  /** Search units billed (Cohere). */
  searchUnits?: number;
}

/** Result of {@link Reranker.rerank}: indexes into `documents`, best first. */
export interface RerankResult {
  results: { index: number; score: number }[];
  /** What the call cost, when the provider reports it. */
  usage?: RerankUsage;
}

/** Optional second stage that reorders search candidates. */
export interface Reranker {
  /** Contract version. */
  readonly specificationVersion: 'v1';
  readonly provider: string;
  readonly modelId: string;
  rerank(options: RerankOptions): Promise<RerankResult>;
}
