import { defineAdapter } from '@engram/core';
import { createNeptuneGraphStore, type NeptuneGraphStoreOptions } from './neptune-graph-store.js';

/** Lets configuration name this adapter (`neptune`); settings come from `options` and the environment. */
export const engramAdapter = defineAdapter({
  kind: 'graph',
  name: 'neptune',
  description: 'Amazon Neptune graph store (openCypher over the Neptune data API)',
  create: ({ options }) => createNeptuneGraphStore((options ?? {}) as NeptuneGraphStoreOptions),
});
