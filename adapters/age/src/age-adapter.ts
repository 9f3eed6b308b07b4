import { defineAdapter } from '@engram/core';
import { type AgeGraphStoreOptions, createAgeGraphStore } from './age-graph-store.js';

/** Lets configuration name this adapter (`age`); settings come from `options` and the environment. */
export const engramAdapter = defineAdapter({
  kind: 'graph',
  name: 'age',
  description: 'Apache AGE graph store on PostgreSQL',
  create: ({ options }) => createAgeGraphStore((options ?? {}) as AgeGraphStoreOptions),
});
