import { parseModelJson } from './json-repair.js';
import type { JSONSchema, LLM, LLMMessage } from './llm.js';
import { retryMessage } from './prompts.js';

/** What {@link generateJson} asks of the model and how it judges the answer. */
export interface GenerateJsonOptions<T> {
  /** The model. */
  llm: LLM;
  /** The conversation; each retry adds the unusable answer and a reminder of the shape. */
  messages: LLMMessage[];
  /** Name of the JSON schema; scripted test models dispatch on it. */
  schemaName: string;
  /** JSON schema of the answer. */
  schema: JSONSchema;
  /** The shape, written out for the retry reminder, e.g. `{"facts": ["..."]}`. */
  shape: string;
  /** Turns the parsed answer into a value, or `undefined` when it is unusable. */
  parse: (value: unknown) => T | undefined;
  /** Extra check of a parsed value; an unaccepted one counts as unusable. Default: accept. */
  accept?: (value: T) => boolean;
  /** Extra attempts after an unusable answer. */
  retries: number;
  /** Receives one line per unusable answer. */
  warnings: string[];
  /** Cancels the call. */
  abortSignal?: AbortSignal | undefined;
}

/**
 * Asks the model for JSON, repairing what models actually write (fences, prose, trailing commas,
 * truncation) and retrying an unusable answer. Returns `undefined` when every attempt was
 * unusable; errors of the model call itself propagate.
 */
export async function generateJson<T>(options: GenerateJsonOptions<T>): Promise<T | undefined> {
  const { llm, messages, schemaName, schema, parse, warnings, abortSignal } = options;
  const attempts = 1 + options.retries;
  let conversation = messages;
  for (let attempt = 0; attempt < attempts; attempt++) {
    const result = await llm.generate({
      messages: conversation,
      responseFormat: { type: 'json', schema, name: schemaName },
      temperature: 0,
      ...(abortSignal ? { abortSignal } : {}),
    });
    const text = result.text ?? '';
    const value = parse(result.object !== undefined ? result.object : parseModelJson(text));
    if (value !== undefined && (options.accept?.(value) ?? true)) return value;
    warnings.push(
      `The LLM's ${schemaName} answer was unusable (attempt ${attempt + 1} of ${attempts}): ${JSON.stringify(text.slice(0, 200))}`,
    );
    conversation = [...messages, { role: 'assistant', content: text }, retryMessage(options.shape)];
  }
  return undefined;
}
