import { defineAdapter } from '@engram/core';
import {
  createWeaviateVectorStore,
  type WeaviateVectorStoreOptions,
} from './weaviate-vector-store.js';

/** Lets configuration name this adapter (`weaviate`); settings come from `options` and the environment. */
export const engramAdapter = defineAdapter({
  kind: 'vector',
  name: 'weaviate',
  description: 'Weaviate collections with BM25 hybrid keyword search',
  create: ({ options }) => createWeaviateVectorStore((options ?? {}) as WeaviateVectorStoreOptions),
});
