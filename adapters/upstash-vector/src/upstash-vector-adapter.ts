import { defineAdapter } from '@engram/core';
import {
  createUpstashVectorStore,
  type UpstashVectorStoreOptions,
} from './upstash-vector-vector-store.js';

/** Lets configuration name this adapter (`upstash-vector`); settings come from `options` and the environment. */
export const engramAdapter = defineAdapter({
  kind: 'vector',
  name: 'upstash-vector',
  description: 'Upstash Vector index, one namespace per collection (cosine)',
  create: ({ options }) => createUpstashVectorStore((options ?? {}) as UpstashVectorStoreOptions),
});
