import { defineAdapter } from '@engram/core';
import {
  type AzureAiSearchVectorStoreOptions,
  createAzureAiSearchVectorStore,
} from './azure-ai-search-vector-store.js';

/** Lets configuration name this adapter (`azure-ai-search`); settings come from `options` and the environment. */
export const engramAdapter = defineAdapter({
  kind: 'vector',
  name: 'azure-ai-search',
  description: 'Azure AI Search, one index per collection (cosine HNSW, BM25 keyword search)',
  create: ({ options }) =>
    createAzureAiSearchVectorStore((options ?? {}) as AzureAiSearchVectorStoreOptions),
});
