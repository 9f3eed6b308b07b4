import { defineAdapter } from '@engram/core';
import {
  createDatabricksVectorStore,
  type DatabricksVectorStoreOptions,
} from './databricks-vector-store.js';

/** Lets configuration name this adapter (`databricks`); settings come from `options` and the environment. */
export const engramAdapter = defineAdapter({
  kind: 'vector',
  name: 'databricks',
  description: 'Databricks Mosaic AI Vector Search, one direct-access index per collection',
  create: ({ options }) =>
    createDatabricksVectorStore((options ?? {}) as DatabricksVectorStoreOptions),
});
