import { defineAdapter } from '@engram/core';
import type { PgvectorVectorStoreOptions } from '@engram/postgres-compatible';
import { createPgvectorStore } from './pgvector-stores.js';

function create({ options }: { options?: Record<string, unknown> }) {
  return createPgvectorStore((options ?? {}) as PgvectorVectorStoreOptions);
}

/** Lets configuration name this adapter (`pgvector`): vectors and history in PostgreSQL. */
export const engramAdapters = [
  defineAdapter({
    kind: 'vector',
    name: 'pgvector',
    description: 'PostgreSQL + pgvector (HNSW, full-text keyword search, atomic history)',
    create,
  }),
  defineAdapter({
    kind: 'history',
    name: 'pgvector',
    description: 'History in PostgreSQL tables beside the memories',
    create,
  }),
];
