import type { Embedder } from './embedder.js';

/**
 * Default relevance cut-offs of `search`, by embedder: the vector similarity below which a memory
 * counts as unrelated to the query and is left out. Measured on the LoCoMo development split
 * (questions of its conversations, and 20 questions about things no memory mentions asked of
 * each): see the README's search section.
 */
export const searchThresholds = {
  /**
   * The offline hash embedder: none. Its similarities know words, not meaning: questions about
   * things no memory mentions reach 0.2 (median) to 0.36, as high as relevant memories, so any
   * cut-off costs recall (0.1: recall@10 -0.010, and 9.5 of 10 unrelated results stay).
   */
  hash: 0,
  /**
   * all-MiniLM-L6-v2 (`local`): unrelated questions score 0.17 (median) against their best memory;
   * at 0.2 recall@10 moves from 0.655 to 0.654 and unrelated questions get 0.9 results, not 10.
   */
  'all-MiniLM-L6-v2': 0.2,
  /**
   * OpenAI `text-embedding-3-small` and `-large`: unrelated texts score about as low as with
   * all-MiniLM-L6-v2 (not measured here: no API access).
   */
  'text-embedding-3': 0.2,
} as const;

/**
 * The default relevance cut-off of `search` for an embedder: its own `defaultSearchThreshold`,
 * else the value of {@link searchThresholds} for the models listed there, else 0 (no cut-off).
 */
export function defaultSearchThreshold(embedder: Embedder): number {
  if (embedder.defaultSearchThreshold !== undefined) return embedder.defaultSearchThreshold;
  if (embedder.provider === 'hash') return searchThresholds.hash;
  const model = embedder.modelId.toLowerCase();
  if (model.includes('all-minilm-l6-v2')) return searchThresholds['all-MiniLM-L6-v2'];
  if (model.includes('text-embedding-3')) return searchThresholds['text-embedding-3'];
  return 0;
}

/**
 * The default weight of keyword relevance in hybrid search, by embedder (`keywordWeight`):
 * measured on the LoCoMo development split with each embedder's vectors and the same keyword
 * lists (docs/benchmarks.md, "Retrieval quality on LoCoMo").
 */
export const keywordWeights = {
  /** The hash embedder is itself lexical and weak on meaning: keywords carry most of the signal. */
  hash: 0.8,
  /**
   * all-MiniLM-L6-v2: 0.3 (with the SQLite store's scope statistics: R@5 0.584 / R@10 0.678; 0.4:
   * 0.592 / 0.671; the even split: 0.578 / 0.661).
   */
  'all-MiniLM-L6-v2': 0.3,
  /** Other neural embedders (not measured here): an even split. */
  other: 0.5,
} as const;

/** The default `keywordWeight` of `search` for an embedder: see {@link keywordWeights}. */
export function defaultKeywordWeight(embedder: Embedder): number {
  if (embedder.provider === 'hash') return keywordWeights.hash;
  if (embedder.modelId.toLowerCase().includes('all-minilm-l6-v2')) {
    return keywordWeights['all-MiniLM-L6-v2'];
  }
  return keywordWeights.other;
}
