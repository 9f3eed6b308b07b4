import { defineAdapter } from '@engram/core';
import { createQdrantVectorStore, type QdrantVectorStoreOptions } from './qdrant-vector-store.js';

/** Lets configuration name this adapter (`qdrant`); settings come from `options` and the environment. */
export const engramAdapter = defineAdapter({
  kind: 'vector',
  name: 'qdrant',
  description:
    'Qdrant vector store (REST): cosine collections, keyword payload indexes on the scope',
  create: ({ options }) => createQdrantVectorStore((options ?? {}) as QdrantVectorStoreOptions),
});
