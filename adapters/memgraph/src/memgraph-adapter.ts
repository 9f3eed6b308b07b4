import { defineAdapter } from '@engram/core';
import {
  createMemgraphGraphStore,
  type MemgraphGraphStoreOptions,
} from './memgraph-graph-store.js';

/** Lets configuration name this adapter (`memgraph`); settings come from `options` and the environment. */
export const engramAdapter = defineAdapter({
  kind: 'graph',
  name: 'memgraph',
  description: 'Memgraph graph store over Bolt',
  create: ({ options }) => createMemgraphGraphStore((options ?? {}) as MemgraphGraphStoreOptions),
});
