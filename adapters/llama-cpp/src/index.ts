export { engramAdapter } from './llama-cpp-adapter.js';
export type { LlamaCppLLM, LlamaCppLLMOptions } from './llama-cpp-llm.js';
export { boundJsonSchema, createLlamaCppLLM, resolveGgufPath } from './llama-cpp-llm.js';
