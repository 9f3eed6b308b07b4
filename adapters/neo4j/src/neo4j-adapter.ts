import { defineAdapter } from '@engram/core';
import { createNeo4jGraphStore, type Neo4jGraphStoreOptions } from './neo4j-graph-store.js';

/** Lets configuration name this adapter (`neo4j`); settings come from `options` and the environment. */
export const engramAdapter = defineAdapter({
  kind: 'graph',
  name: 'neo4j',
  description: 'Neo4j 5 graph store over Bolt with native vector indexes',
  create: ({ options }) => createNeo4jGraphStore((options ?? {}) as Neo4jGraphStoreOptions),
});
