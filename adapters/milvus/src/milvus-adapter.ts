import { defineAdapter } from '@engram/core';
import { createMilvusVectorStore, type MilvusVectorStoreOptions } from './milvus-vector-store.js';

/** Lets configuration name this adapter (`milvus`); settings come from `options` and the environment. */
export const engramAdapter = defineAdapter({
  kind: 'vector',
  name: 'milvus',
  description: 'Milvus collections (cosine, scalar scope fields)',
  create: ({ options }) => createMilvusVectorStore((options ?? {}) as MilvusVectorStoreOptions),
});
