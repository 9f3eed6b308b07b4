/** A candidate's id and one score of it. */
export interface ScoredId {
  /** Candidate id. */
  id: string;
  /** The score; higher is better. */
  score: number;
}

/** Input of {@link fuseScores}. */
export interface FuseScoresOptions {
  /** Vector similarities of the candidates that have one. */
  similarities: readonly ScoredId[];
  /** Keyword (BM25-style) relevance of the candidates that matched the query's words. */
  keywordScores: readonly ScoredId[];
  /** Weight of keyword relevance, from 0 (similarity only) to 1 (keywords only). */
  keywordWeight: number;
}

/** One candidate after fusion. */
export interface FusedScore {
  /** Candidate id. */
  id: string;
  /** The fused score that orders the candidates. */
  score: number;
  /** Its vector similarity, when it has one. */
  similarity?: number;
  /** Its keyword relevance, when it matched. */
  keywordScore?: number;
}

/**
 * Weighted score fusion, what hybrid `search` ranks by: `(1 - w) * similarity + w * keyword /
 * best keyword`, where the keyword relevance is normalized by the best one of the query (a
 * candidate missing from a list counts 0 there). Every candidate of either list comes back once,
 * best first, ties by id. Pure, so benchmarks and tests can call it on their own lists.
 */
export function fuseScores(options: FuseScoresOptions): FusedScore[] {
  const { keywordWeight } = options;
  const candidates = new Map<string, FusedScore>();
  const entry = (id: string) => {
    let found = candidates.get(id);
    if (!found) {
      found = { id, score: 0 };
      candidates.set(id, found);
    }
    return found;
  };
  for (const { id, score } of options.similarities) entry(id).similarity ??= score;
  for (const { id, score } of options.keywordScores) entry(id).keywordScore ??= score;
  const bestKeyword = Math.max(0, ...options.keywordScores.map((match) => match.score));
  for (const candidate of candidates.values()) {
    candidate.score =
      (1 - keywordWeight) * (candidate.similarity ?? 0) +
      (bestKeyword > 0 ? (keywordWeight * (candidate.keywordScore ?? 0)) / bestKeyword : 0);
  }
  return [...candidates.values()].sort(
    (left, right) => right.score - left.score || (left.id < right.id ? -1 : 1),
  );
}
