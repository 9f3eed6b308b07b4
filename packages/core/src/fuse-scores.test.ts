import { describe, expect, it } from 'vitest';
import { fuseScores } from './fuse-scores.js';

describe('fuseScores', () => {
  it('weights similarity against keyword relevance normalized by the best keyword score', () => {
    const fused = fuseScores({
      similarities: [
        { id: 'a', score: 0.9 },
        { id: 'b', score: 0.5 },
      ],
      keywordScores: [
        { id: 'b', score: 4 },
        { id: 'c', score: 2 },
      ],
      keywordWeight: 0.5,
    });
    expect(fused.map((entry) => entry.id)).toEqual(['b', 'a', 'c']);
    expect(fused[0]).toEqual({ id: 'b', score: 0.75, similarity: 0.5, keywordScore: 4 });
    expect(fused[1]).toEqual({ id: 'a', score: 0.45, similarity: 0.9 });
    expect(fused[2]).toEqual({ id: 'c', score: 0.25, keywordScore: 2 });
  });

  it('ranks by similarity alone at weight 0 or without keyword hits, ties by id', () => {
    const similarities = [
      { id: 'z', score: 0.2 },
      { id: 'y', score: 0.2 },
      { id: 'x', score: 0.7 },
    ];
    const ids = (keywordWeight: number, keywordScores = [{ id: 'z', score: 9 }]) =>
      fuseScores({ similarities, keywordScores, keywordWeight }).map((entry) => entry.id);
    expect(ids(0)).toEqual(['x', 'y', 'z']);
    expect(ids(0.8, [])).toEqual(['x', 'y', 'z']);
    expect(ids(1)).toEqual(['z', 'x', 'y']);
  });
});
