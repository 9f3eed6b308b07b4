import { graphExtractionSchemaName, graphInvalidationSchemaName } from '../graph-memory.js';
import type { GraphEntity, GraphRelation } from '../graph-store.js';
import type { LLM, LLMGenerateOptions, LLMGenerateResult } from '../llm.js';
import { extractionSchemaName, reconcileSchemaName, singleCallSchemaName } from '../prompts.js';

/** One scripted answer: text, an object (sent as JSON text), an error to throw, or a function. */
export type ScriptedAnswer =
  | string
  | Record<string, unknown>
  | unknown[]
  | Error
  | ((options: LLMGenerateOptions) => ScriptedAnswer | Promise<ScriptedAnswer>);

/** Options of {@link createScriptedLLM}. */
export interface ScriptedLLMOptions {
  /** Answers given in order, one per call. When they run out, `fallback` answers. */
  answers?: ScriptedAnswer[];
  /** Answers every call once `answers` is used up (or always, without `answers`). */
  fallback?: ScriptedAnswer;
  /** Model id reported. Default `scripted`. */
  modelId?: string;
}

/** A scripted model that also records what it was asked. */
export interface ScriptedLLM extends LLM {
  /** Every request received, in order. */
  readonly calls: LLMGenerateOptions[];
}

async function resolveAnswer(
  answer: ScriptedAnswer,
  options: LLMGenerateOptions,
): Promise<LLMGenerateResult> {
  if (typeof answer === 'function') return resolveAnswer(await answer(options), options);
  if (answer instanceof Error) throw answer;
  const text = typeof answer === 'string' ? answer : JSON.stringify(answer);
  return { text, usage: { inputTokens: 0, outputTokens: 0 } };
}

/**
 * A deterministic `LLM` for tests: answers from a script instead of a model. Use
 * {@link isExtractionRequest} and {@link isReconcileRequest} in a function answer to tell
 * Engram's two calls apart, and {@link isSingleCallRequest} for the one call of
 * `addMode: 'single-call'`.
 */
export function createScriptedLLM(options: ScriptedLLMOptions = {}): ScriptedLLM {
  const queue = [...(options.answers ?? [])];
  const calls: LLMGenerateOptions[] = [];
  return {
    specificationVersion: 'v1',
    provider: 'scripted',
    modelId: options.modelId ?? 'scripted',
    calls,
    async generate(request) {
      calls.push(request);
      const answer = queue.length > 0 ? queue.shift()! : options.fallback;
      if (answer === undefined) {
        throw new Error(`The scripted LLM has no answer left for call ${calls.length}.`);
      }
      return resolveAnswer(answer, request);
    },
  };
}

/** Whether a request is Engram's fact-extraction call. */
export function isExtractionRequest(options: LLMGenerateOptions): boolean {
  return (
    options.responseFormat?.type === 'json' && options.responseFormat.name === extractionSchemaName
  );
}

/** Whether a request is Engram's reconciliation call. */
export function isReconcileRequest(options: LLMGenerateOptions): boolean {
  return (
    options.responseFormat?.type === 'json' && options.responseFormat.name === reconcileSchemaName
  );
}

/** The conversation text the extraction call was given. */
export function extractionInput(options: LLMGenerateOptions): string {
  return options.messages.at(-1)?.content.replace(/^Conversation:\n/, '') ?? '';
}

/** The existing memories and new facts the reconciliation call was given. */
export function reconcileInput(options: LLMGenerateOptions): {
  existing: { id: string; text: string }[];
  facts: string[];
} {
  const content = options.messages.find((message) => message.role === 'user')?.content ?? '';
  const match = /^Existing memories:\n([\s\S]*?)\n\nNew facts:\n([\s\S]*)$/.exec(content);
  if (!match) return { existing: [], facts: [] };
  return { existing: JSON.parse(match[1]!), facts: JSON.parse(match[2]!) };
}

/** Whether a request is the one call of `addMode: 'single-call'`. */
export function isSingleCallRequest(options: LLMGenerateOptions): boolean {
  return (
    options.responseFormat?.type === 'json' && options.responseFormat.name === singleCallSchemaName
  );
}

/** The existing memories and the conversation text the single call was given. */
export function singleCallInput(options: LLMGenerateOptions): {
  existing: { id: string; text: string }[];
  conversation: string;
} {
  const content = options.messages.find((message) => message.role === 'user')?.content ?? '';
  const match = /^Existing memories:\n([\s\S]*?)\n\nConversation:\n([\s\S]*)$/.exec(content);
  if (!match) return { existing: [], conversation: '' };
  return { existing: JSON.parse(match[1]!), conversation: match[2]! };
}

/** Whether a request is graph memory's entity and relation extraction call. */
export function isGraphExtractionRequest(options: LLMGenerateOptions): boolean {
  return (
    options.responseFormat?.type === 'json' &&
    options.responseFormat.name === graphExtractionSchemaName
  );
}

/** Whether a request is graph memory's relation-invalidation call. */
export function isGraphInvalidationRequest(options: LLMGenerateOptions): boolean {
  return (
    options.responseFormat?.type === 'json' &&
    options.responseFormat.name === graphInvalidationSchemaName
  );
}

/**
 * A sample graph entity for store tests: `e1`, the person "alice" in user scope `alice`, with a
 * small embedding and nested metadata (including a non-ASCII string), in namespace `memories`. `overrides` replace fields.
 */
export function sampleGraphEntity(overrides: Partial<GraphEntity> = {}): GraphEntity {
  return {
    id: 'e1',
    name: 'alice',
    type: 'person',
    embedding: [1, 0.5, 0],
    namespace: 'memories',
    userId: 'alice',
    mentions: 2,
    metadata: { note: 'café', nested: { n: 1 } },
    createdAt: '2024-01-01T00:00:00.000Z',
    updatedAt: '2024-01-02T00:00:00.000Z',
    ...overrides,
  };
}

/**
 * A sample graph relation for store tests: `r1`, `e1 works_at e2`, valid, in the scope of user
 * `alice` and agent `travel` of namespace `memories`. `overrides` replace fields.
 */
export function sampleGraphRelation(overrides: Partial<GraphRelation> = {}): GraphRelation {
  return {
    id: 'r1',
    sourceId: 'e1',
    relationship: 'works_at',
    destinationId: 'e2',
    namespace: 'memories',
    userId: 'alice',
    agentId: 'travel',
    mentions: 1,
    createdAt: '2024-01-01T00:00:00.000Z',
    updatedAt: '2024-01-01T00:00:00.000Z',
    invalidatedAt: null,
    ...overrides,
  };
}
