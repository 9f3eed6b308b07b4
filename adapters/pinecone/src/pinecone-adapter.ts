import { defineAdapter } from '@engram/core';
import {
  createPineconeVectorStore,
  type PineconeVectorStoreOptions,
} from './pinecone-vector-store.js';

/** Lets configuration name this adapter (`pinecone`); settings come from `options` and the environment. */
export const engramAdapter = defineAdapter({
  kind: 'vector',
  name: 'pinecone',
  description: 'Pinecone serverless index, one namespace per collection',
  create: ({ options }) => createPineconeVectorStore((options ?? {}) as PineconeVectorStoreOptions),
});
