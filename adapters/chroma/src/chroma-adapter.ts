import { defineAdapter } from '@engram/core';
import { type ChromaVectorStoreOptions, createChromaVectorStore } from './chroma-vector-store.js';

/** Lets configuration name this adapter (`chroma`); settings come from `options` and the environment. */
export const engramAdapter = defineAdapter({
  kind: 'vector',
  name: 'chroma',
  description: 'Chroma server collections (cosine)',
  create: ({ options }) => createChromaVectorStore((options ?? {}) as ChromaVectorStoreOptions),
});
