import type { CallOptions } from './vector-store.js';

/** Options of {@link Embedder.embed}. */
export interface EmbedOptions extends CallOptions {
  /** Texts to embed, at most `maxEmbeddingsPerCall` of them. */
  values: string[];
  /** Some models embed queries and documents differently. */
  purpose: 'document' | 'query';
}

/** Result of {@link Embedder.embed}. */
export interface EmbedResult {
  /** One vector per value, in order, each of length `dimensions`. */
  embeddings: number[][];
  usage?: { tokens?: number };
}

/** Turns texts into vectors, always in batches. */
export interface Embedder {
  /** Contract version. */
  readonly specificationVersion: 'v1';
  /** Provider name, e.g. `hash`, `openai`. */
  readonly provider: string;
  /** Model id. */
  readonly modelId: string;
  /** Length of every vector. */
  readonly dimensions: number;
  /** Largest batch one call accepts; callers split bigger ones. */
  readonly maxEmbeddingsPerCall: number;
  /**
   * Default relevance cut-off of `search` for this model's vectors: the similarity below which a
   * memory is unrelated to the query (see `defaultSearchThreshold`). Optional; without it core
   * uses its own value for the models it knows, else no cut-off.
   */
  readonly defaultSearchThreshold?: number;
  embed(options: EmbedOptions): Promise<EmbedResult>;
}

/**
 * Everything an embedder declares except `embed`: for wrappers (metering, metrics, checks) that
 * must pass on optional fields such as `defaultSearchThreshold` as well as the required ones.
 */
export function embedderProperties(embedder: Embedder): Omit<Embedder, 'embed'> {
  return {
    specificationVersion: embedder.specificationVersion,
    provider: embedder.provider,
    modelId: embedder.modelId,
    dimensions: embedder.dimensions,
    maxEmbeddingsPerCall: embedder.maxEmbeddingsPerCall,
    ...(embedder.defaultSearchThreshold === undefined
      ? {}
      : { defaultSearchThreshold: embedder.defaultSearchThreshold }),
  };
}
