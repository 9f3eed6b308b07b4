import { join } from 'node:path';
import { defineAdapter } from '@engram/core';
import { createFaissVectorStore, type FaissVectorStoreOptions } from './faiss-vector-store.js';

/** Lets configuration name this adapter (`faiss`); files go under the data directory. */
export const engramAdapter = defineAdapter({
  kind: 'vector',
  name: 'faiss',
  description: 'Embedded FAISS index files beside a SQLite metadata store (FTS5 keyword search)',
  create: ({ env, dataDir, options }) =>
    createFaissVectorStore({
      path: env.FAISS_PATH ?? join(dataDir, 'faiss'),
      ...((options ?? {}) as FaissVectorStoreOptions),
    }),
});
