import { defineAdapter } from '@engram/core';
import {
  createTransformersEmbedder,
  type TransformersEmbedderOptions,
} from './transformers-embedder.js';

/**
 * Lets configuration name this embedder: `ENGRAM_EMBEDDER=local` (all-MiniLM-L6-v2) or
 * `local:<model>`; `ENGRAM_MODELS_DIR` points at a local copy of the models.
 */
export const engramAdapter = defineAdapter({
  kind: 'embedder',
  name: 'transformers',
  description: 'Sentence-embedding models run in process (ONNX), named local or local:<model>',
  create: ({ env, model, options }) =>
    createTransformersEmbedder({
      ...(options as TransformersEmbedderOptions | undefined),
      ...(model ? { model } : {}),
      env,
    }),
});
