import type { LLM } from './llm.js';
import { generateJson } from './llm-json.js';
import { maxMemoryCharacters } from './memory-input.js';
import {
  extractionMessages,
  extractionSchema,
  extractionSchemaName,
  type Message,
} from './prompts.js';
import { normalizeText } from './text.js';

const maxFactsPerAdd = 100;

/** What {@link extractFacts} needs. */
export interface ExtractFactsOptions {
  /** The model. */
  llm: LLM;
  /** The conversation to remember. */
  messages: Message[];
  /** Today's date (YYYY-MM-DD), so that relative dates become absolute ones. */
  today: string;
  /** Replaces the default extraction prompt. */
  prompt?: string | undefined;
  /** Extra attempts after an unusable answer. */
  retries: number;
  /** Receives one line per unusable answer. */
  warnings: string[];
  /** Cancels the call. */
  abortSignal?: AbortSignal | undefined;
}

function textOf(entry: unknown): unknown {
  if (typeof entry === 'string') return entry;
  if (entry == null || typeof entry !== 'object') return undefined;
  const raw = entry as Record<string, unknown>;
  return raw.fact ?? raw.text;
}

/** The facts of an extraction answer: `{"facts": [...]}`, a bare list, or close variants. */
export function parseFacts(value: unknown): string[] | undefined {
  const raw = value as Record<string, unknown> | null;
  const list = Array.isArray(value)
    ? value
    : raw != null && typeof raw === 'object'
      ? (raw.facts ?? raw.memories)
      : undefined;
  if (!Array.isArray(list)) return undefined;
  return list
    .map(textOf)
    .filter((text): text is string => typeof text === 'string' && text.trim().length > 0)
    .map((text) => text.trim().slice(0, maxMemoryCharacters));
}

/**
 * Asks the model for the durable facts of a conversation (one call, plus retries of unusable
 * answers). Returns them without repeats (by normalized text), at most 100, or `undefined`
 * when no usable answer came back.
 */
export async function extractFacts(options: ExtractFactsOptions): Promise<string[] | undefined> {
  const facts = await generateJson({
    llm: options.llm,
    messages: extractionMessages(options.messages, options.today, options.prompt),
    schemaName: extractionSchemaName,
    schema: extractionSchema,
    shape: '{"facts": ["..."]}',
    parse: parseFacts,
    retries: options.retries,
    warnings: options.warnings,
    abortSignal: options.abortSignal,
  });
  if (facts === undefined) return undefined;
  return [...new Map(facts.map((fact) => [normalizeText(fact), fact])).values()].slice(
    0,
    maxFactsPerAdd,
  );
}
