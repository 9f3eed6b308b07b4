import type { Embedder } from './embedder.js';

/**
 * Default relevance cut-offs of `search`, by embedder: the vector similarity below which a memory
 * counts as unrelated to the query and is left out. Chosen on the LoCoMo development split so
 * that recall@10 does not drop while questions about something no memory mentions get (almost)
 * nothing back; see the README's search section.
 */
export const searchThresholds = {
  /** The offline hash embedder: unrelated texts share no words, so their similarity stays near 0. */
  hash: 0.1,
  /** all-MiniLM-L6-v2 (`local`): unrelated sentences score up to about 0.15. */
  'all-MiniLM-L6-v2': 0.2,
  /** OpenAI `text-embedding-3-small` and `-large`: unrelated texts score up to about 0.2. */
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
