import type { LLM } from './llm.js';
import { generateJson } from './llm-json.js';
import { maxMemoryCharacters } from './memory-input.js';
import { parseReconcileAnswer, type ReconcileAction } from './plan-changes.js';
import {
  type Message,
  singleCallMessages,
  singleCallSchema,
  singleCallSchemaName,
} from './prompts.js';

/** What {@link decideChanges} needs. */
export interface DecideChangesOptions {
  /** The model. */
  llm: LLM;
  /** The conversation to remember. */
  messages: readonly Message[];
  /** The scope's memories related to the conversation; the model knows `existing[i]` as id `"i"`. */
  existing: readonly { text: string }[];
  /** Today's date (YYYY-MM-DD), so that relative dates become absolute ones. */
  today: string;
  /** Replaces the default single-call prompt. */
  prompt?: string | undefined;
  /** Extra attempts after an unusable answer. */
  retries: number;
  /** Receives one line per unusable answer. */
  warnings: string[];
  /** Cancels the call. */
  abortSignal?: AbortSignal | undefined;
}

/**
 * The texts whose related memories the single call sees: each user message, or every message
 * but system ones when the user said nothing. Each is cut to the longest memory text.
 */
export function conversationQueries(messages: readonly Message[]): string[] {
  const spoken = messages.filter(
    (message) => message.role !== 'system' && message.content.trim().length > 0,
  );
  const fromUser = spoken.filter((message) => message.role === 'user');
  const chosen = fromUser.length > 0 ? fromUser : spoken;
  return [
    ...new Set(chosen.map((message) => message.content.trim().slice(0, maxMemoryCharacters))),
  ];
}

/**
 * Asks the model, in one call (plus retries of unusable answers), for the changes a conversation
 * makes to the related memories: the decisions `planChanges` takes, with the short temporary ids
 * of existing memories. An empty list means nothing is worth remembering; `undefined` means no
 * usable answer came back.
 */
export function decideChanges(
  options: DecideChangesOptions,
): Promise<ReconcileAction[] | undefined> {
  return generateJson({
    llm: options.llm,
    messages: singleCallMessages(
      options.existing.map((memory, index) => ({ id: String(index), text: memory.text })),
      options.messages,
      options.today,
      options.prompt,
    ),
    schemaName: singleCallSchemaName,
    schema: singleCallSchema,
    shape: '{"memory": [{"event": "ADD|UPDATE|DELETE|NONE", "id": "...", "text": "..."}]}',
    parse: parseReconcileAnswer,
    retries: options.retries,
    warnings: options.warnings,
    abortSignal: options.abortSignal,
  });
}
