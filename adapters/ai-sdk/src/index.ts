export { engramAdapters } from './ai-sdk-adapter.js';
export type { AISDKEmbedderOptions } from './ai-sdk-embedder.js';
export { createAISDKEmbedder } from './ai-sdk-embedder.js';
export type { AISDKLLMOptions, AISDKProviderOptions } from './ai-sdk-llm.js';
export { createAISDKLLM } from './ai-sdk-llm.js';
export type { LLMRerankerOptions } from './ai-sdk-llm-reranker.js';
export { createLLMReranker } from './ai-sdk-llm-reranker.js';
export type {
  EngramMemoryMiddleware,
  EngramMemoryOptions,
  EngramMemoryPhase,
  MemoryLike,
} from './ai-sdk-memory-middleware.js';
export { engramMemory, selectMemories } from './ai-sdk-memory-middleware.js';
export type {
  AddMemoryInput,
  EngramTools,
  EngramToolsOptions,
  FoundMemory,
  SearchMemoriesInput,
} from './ai-sdk-memory-tools.js';
export { engramTools } from './ai-sdk-memory-tools.js';
export type { ModelNameOptions, ModelPrefix } from './ai-sdk-model-names.js';
export {
  createEmbedderFromName,
  createLLMFromName,
  createRerankerFromName,
  defaultEmbedderName,
  defaultLLMName,
  defaultRerankerName,
  knownEmbeddingDimensions,
  supportedModelPrefixes,
} from './ai-sdk-model-names.js';
export type { ModelRole } from './ai-sdk-provider-catalog.js';
export type { ImportPackage } from './ai-sdk-provider-loader.js';
export type { AISDKRerankerOptions } from './ai-sdk-reranker.js';
export { createAISDKReranker } from './ai-sdk-reranker.js';
