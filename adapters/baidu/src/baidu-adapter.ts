import { defineAdapter } from '@engram/core';
import { type BaiduVectorStoreOptions, createBaiduVectorStore } from './baidu-vector-store.js';

/** The metadata paths the shared conformance suite filters on, declared when it runs. */
export const baiduConformanceFilterFields: readonly string[] = [
  'n',
  's',
  'b',
  'tags',
  'nested',
  'nested.city',
  'nested.zip',
  'mixed',
  'missing',
  'group',
  'even',
  'kind',
  'index',
  'engram_expires_at',
];

/** Lets configuration name this adapter (`baidu`); settings come from `options` and the environment. */
export const engramAdapter = defineAdapter({
  kind: 'vector',
  name: 'baidu',
  description: 'Baidu VectorDB (Mochow), one table with an HNSW cosine index per collection',
  create: ({ options }) => createBaiduVectorStore((options ?? {}) as BaiduVectorStoreOptions),
});
