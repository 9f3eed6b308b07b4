import { join } from 'node:path';
import { defineAdapter } from '@engram/core';
import { createKuzuGraphStore, type KuzuGraphStoreOptions } from './kuzu-graph-store.js';

/** Lets configuration name this adapter (`kuzu`): an embedded graph under the data directory. */
export const engramAdapter = defineAdapter({
  kind: 'graph',
  name: 'kuzu',
  description: 'Embedded Kuzu graph store (files under the data directory)',
  create: ({ dataDir, options }) =>
    createKuzuGraphStore({
      path: join(dataDir, 'kuzu-graph'),
      ...((options ?? {}) as KuzuGraphStoreOptions),
    }),
});
