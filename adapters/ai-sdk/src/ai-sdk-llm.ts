import type {
  LLM,
  LLMGenerateOptions,
  LLMGenerateResult,
  LLMResponseFormat,
  LLMToolCall,
} from '@engram/core';
import {
  generateText,
  type JSONSchema7,
  jsonSchema,
  type LanguageModel,
  type OutputInterface,
  type ToolSet,
  tool,
} from 'ai';
import { isStrictCompatibleSchema, toAISDKError } from './ai-sdk-errors.js';

/** Provider-specific options, keyed by provider name, as the AI SDK takes them. */
export type AISDKProviderOptions = Record<string, Record<string, unknown>>;

/** Options of {@link createAISDKLLM}. */
export interface AISDKLLMOptions {
  /** Any AI SDK language model, e.g. `openai.chat('gpt-4.1-mini')` or `anthropic('claude-sonnet-4-5')`. */
  model: LanguageModel;
  /** Provider-specific options sent with every call, e.g. `{ openai: { reasoningEffort: 'low' } }`. */
  providerOptions?: AISDKProviderOptions;
  /** Retries the AI SDK makes on retryable failures (429, 5xx, lost connections). Default 2. */
  maxRetries?: number;
}

function describeModel(model: LanguageModel): { provider: string; modelId: string } {
  if (typeof model === 'string') return { provider: 'gateway', modelId: model };
  return { provider: model.provider, modelId: model.modelId };
}

/**
 * The AI SDK's object output throws when the answer is not valid JSON. Engram repairs malformed
 * answers itself, so this output only asks for JSON (with the schema, for providers that enforce
 * it) and hands the raw text back untouched.
 */
function rawJsonOutput(
  format: Extract<LLMResponseFormat, { type: 'json' }>,
): OutputInterface<string, string, never> {
  return {
    name: 'object',
    responseFormat: Promise.resolve({
      type: 'json' as const,
      ...(format.schema === undefined ? {} : { schema: format.schema as JSONSchema7 }),
      ...(format.name === undefined ? {} : { name: format.name }),
    }),
    async parseCompleteOutput({ text }) {
      return text;
    },
    async parsePartialOutput({ text }) {
      return { partial: text };
    },
    createElementStreamTransform() {
      return undefined;
    },
  };
}

function withStrictness(
  providerOptions: AISDKProviderOptions | undefined,
  format: LLMResponseFormat | undefined,
): AISDKProviderOptions | undefined {
  if (format?.type !== 'json' || format.schema === undefined) return providerOptions;
  if (providerOptions?.openai?.strictJsonSchema !== undefined) return providerOptions;
  return {
    ...providerOptions,
    openai: {
      ...providerOptions?.openai,
      strictJsonSchema: isStrictCompatibleSchema(format.schema),
    },
  };
}

function parseJson(text: string): { parsed: true; value: unknown } | { parsed: false } {
  try {
    return { parsed: true, value: JSON.parse(text) };
  } catch {
    return { parsed: false };
  }
}

/**
 * An Engram {@link LLM} backed by any Vercel AI SDK language model. JSON answers always come back
 * as raw `text` too, and malformed JSON never throws: `object` is set only when the text parsed.
 */
export function createAISDKLLM(options: AISDKLLMOptions): LLM {
  const { model, providerOptions, maxRetries } = options;
  const { provider, modelId } = describeModel(model);

  return {
    specificationVersion: 'v1',
    provider,
    modelId,
    async generate(call: LLMGenerateOptions): Promise<LLMGenerateResult> {
      const format = call.responseFormat;
      const tools: ToolSet | undefined =
        call.tools === undefined || call.tools.length === 0
          ? undefined
          : Object.fromEntries(
              call.tools.map((definition) => [
                definition.name,
                tool({
                  ...(definition.description === undefined
                    ? {}
                    : { description: definition.description }),
                  inputSchema: jsonSchema(definition.inputSchema as JSONSchema7),
                }),
              ]),
            );
      const callProviderOptions = withStrictness(providerOptions, format);
      let result: Awaited<ReturnType<typeof generateText>>;
      try {
        result = await generateText({
          model,
          messages: call.messages.map((message) => ({ ...message })),
          // Engram writes its own system prompts; they are not user input.
          allowSystemInMessages: true,
          ...(tools === undefined ? {} : { tools }),
          ...(format?.type === 'json' ? { output: rawJsonOutput(format) } : {}),
          ...(call.temperature === undefined ? {} : { temperature: call.temperature }),
          ...(call.maxOutputTokens === undefined ? {} : { maxOutputTokens: call.maxOutputTokens }),
          ...(call.abortSignal === undefined ? {} : { abortSignal: call.abortSignal }),
          ...(maxRetries === undefined ? {} : { maxRetries }),
          ...(callProviderOptions === undefined
            ? {}
            : { providerOptions: callProviderOptions as never }),
        });
      } catch (error) {
        throw toAISDKError(error, `${provider} ${modelId} generate`, call.abortSignal);
      }

      const text = result.text;
      const toolCalls: LLMToolCall[] = result.toolCalls.map((toolCall) => ({
        id: toolCall.toolCallId,
        name: toolCall.toolName,
        input: toolCall.input,
      }));
      const generated: LLMGenerateResult = {
        text,
        usage: {
          ...(result.usage.inputTokens === undefined
            ? {}
            : { inputTokens: result.usage.inputTokens }),
          ...(result.usage.outputTokens === undefined
            ? {}
            : { outputTokens: result.usage.outputTokens }),
        },
      };
      if (toolCalls.length > 0) generated.toolCalls = toolCalls;
      if (format?.type === 'json') {
        const parsed = parseJson(text);
        if (parsed.parsed) generated.object = parsed.value;
      }
      return generated;
    },
  };
}
