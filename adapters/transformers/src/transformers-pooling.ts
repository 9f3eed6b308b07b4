import type { TransformersPooling } from './transformers-models.js';

/** A tensor as transformers.js returns it: flat data and its shape. */
export interface TensorLike {
  /** Values in row-major order. */
  data: ArrayLike<number | bigint>;
  /** Shape, e.g. `[batch, tokens, hidden]`. */
  dims: readonly number[];
}

/**
 * Sentence vectors from token vectors `[batch, tokens, hidden]`: the mean over the tokens the
 * attention mask keeps (or the first token's vector for `cls`), scaled to length 1.
 */
export function poolSentenceVectors(
  hidden: TensorLike,
  attentionMask: TensorLike,
  pooling: TransformersPooling,
): number[][] {
  const [batch = 0, tokens = 0, size = 0] = hidden.dims;
  const data = hidden.data;
  const mask = attentionMask.data;
  const vectors: number[][] = [];
  for (let row = 0; row < batch; row++) {
    const vector = new Array<number>(size).fill(0);
    let kept = 0;
    const last = pooling === 'cls' ? Math.min(1, tokens) : tokens;
    for (let token = 0; token < last; token++) {
      if (pooling === 'mean' && Number(mask[row * tokens + token]) === 0) continue;
      kept++;
      const offset = (row * tokens + token) * size;
      for (let index = 0; index < size; index++) vector[index]! += Number(data[offset + index]);
    }
    let norm = 0;
    for (let index = 0; index < size; index++) {
      vector[index] = vector[index]! / Math.max(kept, 1);
      norm += vector[index]! * vector[index]!;
    }
    norm = Math.sqrt(norm);
    vectors.push(norm === 0 ? vector : vector.map((value) => value / norm));
  }
  return vectors;
}

/** How many tokens the attention mask keeps: the usage of one call. */
export function countTokens(attentionMask: TensorLike): number {
  let count = 0;
  for (let index = 0; index < attentionMask.data.length; index++) {
    count += Number(attentionMask.data[index]);
  }
  return count;
}
