import type { CallOptions } from './vector-store.js';

/** A JSON Schema object, as passed to providers' structured-output modes. */
export type JSONSchema = Record<string, unknown>;

/** One chat message. */
export interface LLMMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** A tool the model may call. */
export interface LLMTool {
  name: string;
  description?: string;
  /** JSON Schema of the tool's input. */
  inputSchema: JSONSchema;
}

/** How the model should answer. */
export type LLMResponseFormat =
  | { type: 'text' }
  | {
      type: 'json';
      /** Schema the answer must follow, when the provider supports structured output. */
      schema?: JSONSchema;
      /** Name of the schema, for providers that want one. */
      name?: string;
    };

/** Options of {@link LLM.generate}. */
export interface LLMGenerateOptions extends CallOptions {
  messages: LLMMessage[];
  /** Defaults to text. */
  responseFormat?: LLMResponseFormat;
  tools?: LLMTool[];
  /** Sampling temperature; Engram uses 0 for extraction and reconciliation. */
  temperature?: number;
  /** Upper bound on generated tokens. */
  maxOutputTokens?: number;
}

/** Token counts of one call, when the provider reports them. */
export interface LLMUsage {
  inputTokens?: number;
  outputTokens?: number;
}

/** A tool call the model made. */
export interface LLMToolCall {
  id: string;
  name: string;
  input: unknown;
}

/** Result of {@link LLM.generate}. */
export interface LLMGenerateResult {
  /** The answer's text (the raw JSON text for json responses). */
  text: string;
  /** The parsed object, when the provider parsed structured output itself. */
  object?: unknown;
  toolCalls?: LLMToolCall[];
  usage: LLMUsage;
}

/** A chat model. Build one from any Vercel AI SDK model with `@engram/ai-sdk`. */
export interface LLM {
  /** Contract version. */
  readonly specificationVersion: 'v1';
  /** Provider name, e.g. `openai`. */
  readonly provider: string;
  /** Model id, e.g. `gpt-4.1-mini`. */
  readonly modelId: string;
  generate(options: LLMGenerateOptions): Promise<LLMGenerateResult>;
}
