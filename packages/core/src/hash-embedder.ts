import type { Embedder, EmbedOptions, EmbedResult } from './embedder.js';
import { InvalidArgumentError, throwIfAborted } from './errors.js';
import { fnv1a, unsegmentedKeywordTokens, unsegmentedTokens } from './text.js';

/** Options of {@link createHashEmbedder}. */
export interface HashEmbedderOptions {
  /** Vector length. Default 384. */
  dimensions?: number;
  /** Character n-gram length used beside whole words. Default 3. */
  ngram?: number;
}

const wordWeight = 1;
const bigramWeight = 0.5;
const ngramWeight = 0.35;

/**
 * An offline, deterministic embedder: feature hashing of words, word pairs and character
 * n-grams into a fixed-size signed vector, L2-normalized. It knows no synonyms, but it needs no
 * network, no model and no key, and similar wordings land near each other. The zero-setup default.
 */
export function createHashEmbedder(options: HashEmbedderOptions = {}): Embedder {
  const dimensions = options.dimensions ?? 384;
  const ngram = options.ngram ?? 3;
  if (!Number.isInteger(dimensions) || dimensions < 8 || dimensions > 65536) {
    throw new InvalidArgumentError({
      message: `dimensions must be an integer between 8 and 65536, got ${dimensions}.`,
    });
  }
  if (!Number.isInteger(ngram) || ngram < 2 || ngram > 8) {
    throw new InvalidArgumentError({
      message: `ngram must be an integer between 2 and 8, got ${ngram}.`,
    });
  }

  function add(vector: Float64Array, feature: string, weight: number): void {
    const hash = fnv1a(feature);
    const index = hash % dimensions;
    vector[index]! += hash & 0x80000000 ? -weight : weight;
  }

  function embedOne(text: string): number[] {
    const vector = new Float64Array(dimensions);
    const words = unsegmentedKeywordTokens(text);
    const tokens = words.length > 0 ? words : unsegmentedTokens(text);
    for (let index = 0; index < tokens.length; index++) {
      const word = tokens[index]!;
      add(vector, `w:${word}`, wordWeight);
      if (index + 1 < tokens.length) add(vector, `b:${word} ${tokens[index + 1]}`, bigramWeight);
      const padded = `<${word}>`;
      for (let start = 0; start + ngram <= padded.length; start++) {
        add(vector, `c:${padded.slice(start, start + ngram)}`, ngramWeight);
      }
    }
    let norm = 0;
    for (const value of vector) norm += value * value;
    norm = Math.sqrt(norm);
    const result = new Array<number>(dimensions);
    for (let index = 0; index < dimensions; index++) {
      result[index] = norm === 0 ? 0 : vector[index]! / norm;
    }
    return result;
  }

  return {
    specificationVersion: 'v1',
    provider: 'hash',
    modelId: `hash-${dimensions}-n${ngram}`,
    dimensions,
    maxEmbeddingsPerCall: 4096,
    async embed({ values, abortSignal }: EmbedOptions): Promise<EmbedResult> {
      throwIfAborted(abortSignal);
      return { embeddings: values.map(embedOne), usage: { tokens: 0 } };
    },
  };
}
