import { defineAdapter } from '@engram/core';
import { createLlamaCppLLM, type LlamaCppLLMOptions } from './llama-cpp-llm.js';

/**
 * Lets configuration name this LLM: `ENGRAM_LLM=local:<GGUF path, or file name in
 * ENGRAM_MODELS_DIR>`; `ENGRAM_LLM_THREADS` and `ENGRAM_LLM_CONTEXT_SIZE` tune it.
 */
export const engramAdapter = defineAdapter({
  kind: 'llm',
  name: 'llama-cpp',
  description: 'GGUF models run in process with llama.cpp, named local:<path or file name>',
  create: ({ env, model, options }) =>
    createLlamaCppLLM({
      ...(model ? { model } : {}),
      ...(options as LlamaCppLLMOptions | undefined),
      env,
    }),
});
