import { defineAdapter } from '@engram/core';
import { createValkeyVectorStore, type ValkeyVectorStoreOptions } from './valkey-vector-store.js';

/** Lets configuration name this adapter (`valkey`); settings come from `options` and the environment. */
export const engramAdapter = defineAdapter({
  kind: 'vector',
  name: 'valkey',
  description: 'Valkey with valkey-search: HNSW cosine KNN over HASH keys, TAG-scoped queries',
  create: ({ options }) => createValkeyVectorStore((options ?? {}) as ValkeyVectorStoreOptions),
});
