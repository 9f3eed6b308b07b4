import { defineAdapter } from '@engram/core';
import { createOpenSearchVectorStore } from './opensearch-vector-store.js';
import type { OpenSearchVectorStoreOptions } from './opensearch-vector-store-options.js';

/** Lets configuration name this adapter (`opensearch`); settings come from `options` and the environment. */
export const engramAdapter = defineAdapter({
  kind: 'vector',
  name: 'opensearch',
  description: 'OpenSearch k-NN (Lucene engine) with BM25 keyword search',
  create: ({ options }) =>
    createOpenSearchVectorStore((options ?? {}) as OpenSearchVectorStoreOptions),
});
