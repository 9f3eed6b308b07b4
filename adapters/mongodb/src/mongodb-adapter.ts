import { defineAdapter } from '@engram/core';
import {
  createMongoDBVectorStore,
  type MongoDBVectorStoreOptions,
} from './mongodb-vector-store.js';

/** Lets configuration name this adapter (`mongodb`); settings come from `options` and the environment. */
export const engramAdapter = defineAdapter({
  kind: 'vector',
  name: 'mongodb',
  description: 'MongoDB Atlas Vector Search ($vectorSearch)',
  create: ({ options }) => createMongoDBVectorStore((options ?? {}) as MongoDBVectorStoreOptions),
});
