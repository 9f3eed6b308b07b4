import type { ClusteredCorpus } from './clustered.js';

/** Corpus indexes of the exact top-k of each query, by dot product over every memory. */
export function exactTopK(
  corpus: Pick<ClusteredCorpus, 'memory'>,
  size: number,
  queries: readonly Float32Array[],
  k: number,
): number[][] {
  const best = queries.map(() => [] as { index: number; score: number }[]);
  const floor = queries.map(() => -Infinity);
  for (let index = 0; index < size; index++) {
    const { vector } = corpus.memory(index);
    for (const [queryIndex, query] of queries.entries()) {
      let dot = 0;
      for (let dimension = 0; dimension < query.length; dimension++) {
        dot += query[dimension]! * vector[dimension]!;
      }
      if (dot <= floor[queryIndex]!) continue;
      const list = best[queryIndex]!;
      list.push({ index, score: dot });
      list.sort((left, right) => right.score - left.score);
      if (list.length > k) list.pop();
      if (list.length === k) floor[queryIndex] = list[k - 1]!.score;
    }
  }
  return best.map((list) => list.map((entry) => entry.index));
}
