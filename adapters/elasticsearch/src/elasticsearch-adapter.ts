import { defineAdapter } from '@engram/core';
import { createElasticsearchVectorStore } from './elasticsearch-vector-store.js';
import type { ElasticsearchVectorStoreOptions } from './elasticsearch-vector-store-options.js';

/** Lets configuration name this adapter (`elasticsearch`); settings come from `options` and the environment. */
export const engramAdapter = defineAdapter({
  kind: 'vector',
  name: 'elasticsearch',
  description: 'Elasticsearch dense_vector kNN with BM25 keyword search',
  create: ({ options }) =>
    createElasticsearchVectorStore((options ?? {}) as ElasticsearchVectorStoreOptions),
});
