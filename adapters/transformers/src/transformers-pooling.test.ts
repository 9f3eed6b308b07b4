import { describe, expect, it } from 'vitest';
import { countTokens, poolSentenceVectors } from './transformers-pooling.js';

// Two texts, three token positions, two hidden units; the second text has one padding token.
const hidden = { data: new Float32Array([1, 0, 3, 0, 5, 5, 0, 2, 0, 4, 9, 9]), dims: [2, 3, 2] };
const mask = { data: new BigInt64Array([1n, 1n, 1n, 1n, 1n, 0n]), dims: [2, 3] };

describe('poolSentenceVectors', () => {
  it('averages the tokens the mask keeps, then scales to length 1', () => {
    const [first, second] = poolSentenceVectors(hidden, mask, 'mean');
    const norm = Math.hypot(3, 5 / 3);
    expect(first![0]).toBeCloseTo(3 / norm, 6);
    expect(first![1]).toBeCloseTo(5 / 3 / norm, 6);
    expect(second).toEqual([0, 1]);
  });

  it('takes the first token for cls pooling', () => {
    expect(poolSentenceVectors(hidden, mask, 'cls')).toEqual([
      [1, 0],
      [0, 1],
    ]);
  });

  it('counts the tokens the mask keeps', () => {
    expect(countTokens(mask)).toBe(5);
  });
});
