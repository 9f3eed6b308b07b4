import { defineAdapter } from '@engram/core';
import {
  type CassandraVectorStoreOptions,
  createCassandraVectorStore,
} from './cassandra-vector-store.js';

/** Lets configuration name this adapter (`cassandra`); settings come from `options` and the environment. */
export const engramAdapter = defineAdapter({
  kind: 'vector',
  name: 'cassandra',
  description:
    'Apache Cassandra 5 / Astra DB tables with a vector column and SAI indexes (cosine ANN)',
  create: ({ options }) =>
    createCassandraVectorStore((options ?? {}) as CassandraVectorStoreOptions),
});
