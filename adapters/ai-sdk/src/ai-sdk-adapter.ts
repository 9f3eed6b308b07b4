import { defineAdapter } from '@engram/core';
import {
  createEmbedderFromName,
  createLLMFromName,
  createRerankerFromName,
  defaultEmbedderName,
  defaultLLMName,
  defaultRerankerName,
  type ModelNameOptions,
} from './ai-sdk-model-names.js';

/**
 * Lets configuration name models served through the Vercel AI SDK, as `<provider>:<model>`
 * (`openai:gpt-4.1-mini`, `anthropic:claude-sonnet-4-5`, `cohere:rerank-v3.5`); settings come from the environment.
 */
export const engramAdapters = [
  defineAdapter({
    kind: 'llm',
    name: 'ai-sdk',
    description: 'Any LLM the Vercel AI SDK serves, named <provider>:<model>',
    create: ({ env, model, options }) =>
      createLLMFromName(model ?? defaultLLMName, { env, ...(options as ModelNameOptions) }),
  }),
  defineAdapter({
    kind: 'embedder',
    name: 'ai-sdk',
    description: 'Any embedding model the Vercel AI SDK serves, named <provider>:<model>',
    create: ({ env, model, options }) =>
      createEmbedderFromName(model ?? defaultEmbedderName, {
        env,
        ...(options as ModelNameOptions),
      }),
  }),
  defineAdapter({
    kind: 'reranker',
    name: 'ai-sdk',
    description:
      'Any reranking model the Vercel AI SDK serves (<provider>:<model>), or an LLM (llm:<provider>:<model>)',
    create: ({ env, model, options }) =>
      createRerankerFromName(model ?? defaultRerankerName, {
        env,
        ...(options as ModelNameOptions),
      }),
  }),
];
