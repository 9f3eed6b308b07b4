import { defineAdapter } from '@engram/core';
import {
  createVertexAiVectorStore,
  type VertexAiVectorStoreOptions,
} from './vertex-ai-vector-store.js';

/** Lets configuration name this adapter (`vertex-ai`); settings come from `options` and the environment. */
export const engramAdapter = defineAdapter({
  kind: 'vector',
  name: 'vertex-ai',
  description:
    'Google Vertex AI Vector Search, one deployed index holding every collection (cosine)',
  create: ({ options }) => createVertexAiVectorStore((options ?? {}) as VertexAiVectorStoreOptions),
});
