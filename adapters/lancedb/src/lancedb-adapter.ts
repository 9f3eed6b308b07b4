import { defineAdapter } from '@engram/core';
import {
  createLanceDBVectorStore,
  type LanceDBVectorStoreOptions,
} from './lancedb-vector-store.js';

/** Lets configuration name this adapter (`lancedb`); settings come from `options` and the environment. */
export const engramAdapter = defineAdapter({
  kind: 'vector',
  name: 'lancedb',
  description: 'Embedded LanceDB tables with native BM25 (files under the data directory)',
  create: ({ options }) => createLanceDBVectorStore((options ?? {}) as LanceDBVectorStoreOptions),
});
