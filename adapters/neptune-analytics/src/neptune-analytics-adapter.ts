import { defineAdapter } from '@engram/core';
import {
  createNeptuneAnalyticsStore,
  type NeptuneAnalyticsStoreOptions,
} from './neptune-analytics-vector-store.js';

/** Lets configuration name this adapter (`neptune-analytics`); settings come from `options` and the environment. */
export const engramAdapter = defineAdapter({
  kind: 'vector',
  name: 'neptune-analytics',
  description:
    'Amazon Neptune Analytics, collections as node labels in the graph vector index (cosine)',
  create: ({ options }) =>
    createNeptuneAnalyticsStore((options ?? {}) as NeptuneAnalyticsStoreOptions),
});
