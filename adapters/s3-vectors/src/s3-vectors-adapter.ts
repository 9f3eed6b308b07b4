import { defineAdapter } from '@engram/core';
import { createS3VectorsStore, type S3VectorsStoreOptions } from './s3-vectors-vector-store.js';

/** Lets configuration name this adapter (`s3-vectors`); settings come from `options` and the environment. */
export const engramAdapter = defineAdapter({
  kind: 'vector',
  name: 's3-vectors',
  description: 'Amazon S3 Vectors, one vector index per collection (cosine)',
  create: ({ options }) => createS3VectorsStore((options ?? {}) as S3VectorsStoreOptions),
});
