import { InvalidArgumentError, UnsupportedFunctionalityError } from './errors.js';
import { checkExpiresAt, expiresAtField, withExpiry } from './expiry.js';
import {
  type FilterExpression,
  type FilterInput,
  filterOperatorsUsed,
  normalizeFilter,
} from './filter.js';
import type { AddMode, ImportItem, MemoryOptions, UpdateOptions } from './memory-types.js';
import type { Message } from './prompts.js';
import { normalizeScope, type Scope } from './scope.js';
import { unsafeCharacterMessage } from './text.js';
import type { JsonValue, VectorStore } from './vector-store.js';

const source = 'core';
const maxMessageCharacters = 200_000;
const maxMetadataCharacters = 64_000;

/** Longest memory text (and query) accepted, in characters. */
export const maxMemoryCharacters = 20_000;
/** Largest page size and result count. */
export const maxLimit = 1000;

/** What `messages` may be, for error messages. */
const messagesShape =
  'a string or an array of { role: "user" | "assistant" | "system", content: string } objects';

/** Throws the engine's `InvalidArgumentError`. */
export function invalid(message: string, cause?: unknown): never {
  throw new InvalidArgumentError({ source, message, ...(cause === undefined ? {} : { cause }) });
}

/** A page size or result count from 1 to {@link maxLimit}, or `fallback` when not given. */
export function checkLimit(value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1 || value > maxLimit) {
    invalid(`limit must be an integer from 1 to ${maxLimit}, got ${value}.`);
  }
  return value;
}

export function checkId(id: unknown): string {
  if (typeof id !== 'string' || id.trim().length === 0 || id.length > 256) {
    invalid(`id must be a non-empty string of at most 256 characters, got ${JSON.stringify(id)}.`);
  }
  return id;
}

/** Refuses a string holding control characters (but tab and newline) or lone surrogates. */
export function checkSafeText(text: string, name: string): void {
  const problem = unsafeCharacterMessage(text, name);
  if (problem) invalid(problem);
}

/** A memory text, trimmed. */
export function checkText(text: unknown, name: string): string {
  if (typeof text !== 'string' || text.trim().length === 0) {
    invalid(`${name} must be a non-empty string.`);
  }
  if (text.length > maxMemoryCharacters) {
    invalid(
      `${name} is ${text.length} characters long; at most ${maxMemoryCharacters} are allowed.`,
    );
  }
  checkSafeText(text, name);
  return text.trim();
}

function checkMetadataStrings(value: JsonValue, path: string): void {
  if (typeof value === 'string') {
    checkSafeText(value, path);
  } else if (Array.isArray(value)) {
    value.forEach((entry, index) => {
      checkMetadataStrings(entry, `${path}[${index}]`);
    });
  } else if (value !== null && typeof value === 'object') {
    for (const [key, entry] of Object.entries(value)) {
      checkSafeText(key, `${path} key`);
      checkMetadataStrings(entry, `${path}.${key}`);
    }
  }
}

/** A copy of the metadata as plain JSON. */
export function checkMetadata(metadata: unknown): Record<string, JsonValue> {
  if (metadata === undefined) return {};
  if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata)) {
    invalid('metadata must be a plain JSON object, e.g. {"category": "food"}.');
  }
  let serialized: string;
  try {
    serialized = JSON.stringify(metadata);
  } catch (error) {
    invalid('metadata must be JSON-serializable.', error);
  }
  if (serialized.length > maxMetadataCharacters) {
    invalid('metadata must serialize to at most 64,000 characters.');
  }
  const copy = JSON.parse(serialized) as Record<string, JsonValue>;
  if (expiresAtField in copy) {
    invalid(`metadata key "${expiresAtField}" is reserved: set the expiry with expiresAt.`);
  }
  checkMetadataStrings(copy, 'metadata');
  return copy;
}

function checkMessage(message: Message, index: number): void {
  if (message == null || typeof message !== 'object' || Array.isArray(message)) {
    invalid(`messages[${index}] must be an object; messages must be ${messagesShape}.`);
  }
  if (!['user', 'assistant', 'system'].includes(message.role)) {
    invalid(
      `messages[${index}].role must be "user", "assistant" or "system", got ${JSON.stringify(message.role) ?? 'nothing'}; messages must be ${messagesShape}.`,
    );
  }
  if (typeof message.content !== 'string') {
    invalid(`messages[${index}].content must be a string; messages must be ${messagesShape}.`);
  }
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** The conversation of an `add`: a string becomes one user message. */
export function normalizeMessages(input: unknown): Message[] {
  const messages: Message[] =
    typeof input === 'string'
      ? [{ role: 'user', content: input }]
      : Array.isArray(input)
        ? (input as Message[])
        : invalid(`messages must be ${messagesShape}; got ${describeType(input)}.`);
  if (messages.length === 0) invalid(`messages must not be empty; send ${messagesShape}.`);
  messages.forEach(checkMessage);
  if (typeof input === 'string') checkSafeText(input, 'messages');
  else {
    for (const [index, message] of messages.entries()) {
      checkSafeText(message.content, `messages[${index}].content`);
    }
  }
  if (messages.every((message) => message.content.trim().length === 0)) {
    invalid('messages contain no text.');
  }
  const total = messages.reduce((sum, message) => sum + message.content.length, 0);
  if (total > maxMessageCharacters) {
    invalid(
      `messages hold ${total} characters; at most ${maxMessageCharacters} are accepted per add.`,
    );
  }
  return messages;
}

/** A search query. */
export function checkQuery(query: unknown): string {
  if (typeof query !== 'string' || query.trim().length === 0) {
    invalid('query must be a non-empty string.');
  }
  if (query.length > maxMemoryCharacters) {
    invalid(`query is longer than ${maxMemoryCharacters} characters.`);
  }
  return query;
}

/** The message of an out-of-range threshold; the API and the CLI say the same. */
export function thresholdMessage(threshold: unknown): string {
  return `threshold must be a number from 0 to 1 (a similarity, e.g. 0.3; 0 turns the cut-off off), got ${typeof threshold === 'number' ? String(threshold) : JSON.stringify(threshold)}.`;
}

/** A relevance threshold from 0 to 1, when given. */
export function checkThreshold(threshold: unknown): void {
  if (
    threshold !== undefined &&
    (typeof threshold !== 'number' || !(threshold >= 0 && threshold <= 1))
  ) {
    invalid(thresholdMessage(threshold));
  }
}

/** The filter as an AST, refused when the store cannot run one of its operators. */
export function checkFilter(
  store: VectorStore,
  input: FilterInput | undefined,
): FilterExpression | undefined {
  const filter = normalizeFilter(input);
  if (!filter) return undefined;
  const supported = new Set(store.capabilities.filterOperators);
  for (const operator of filterOperatorsUsed(filter)) {
    if (!supported.has(operator)) {
      throw new UnsupportedFunctionalityError({
        source: store.provider,
        message: `The ${store.provider} store does not support the filter operator "${operator}". Supported: ${[...supported].join(', ')}.`,
      });
    }
  }
  return filter;
}

/** The values {@link AddMode} takes. */
export const addModes: readonly AddMode[] = ['two-call', 'single-call'];

/** An `addMode` option (`name` says which, for the message), or `undefined` when not given. */
export function checkAddMode(value: unknown, name: string): AddMode | undefined {
  if (value === undefined) return undefined;
  if (!addModes.includes(value as AddMode)) {
    invalid(`${name} must be "two-call" or "single-call", got ${JSON.stringify(value)}.`);
  }
  return value as AddMode;
}

/** The tuning options of a `Memory`, checked when it is created. */
export function checkMemoryOptions(options: MemoryOptions, collection: string): void {
  checkAddMode(options.addMode, 'addMode');
  if (!/^[A-Za-z][A-Za-z0-9_-]{0,62}$/.test(collection)) {
    invalid(
      `collection must start with a letter and hold only letters, digits, "_" or "-" (at most 63), got ${JSON.stringify(collection)}.`,
    );
  }
  const { keywordWeight } = options;
  if (
    keywordWeight !== undefined &&
    !(typeof keywordWeight === 'number' && keywordWeight >= 0 && keywordWeight <= 1)
  ) {
    invalid(`keywordWeight must be a number from 0 to 1, got ${keywordWeight}.`);
  }
  if (options.searchThreshold !== undefined) {
    const { searchThreshold } = options;
    if (!(typeof searchThreshold === 'number' && searchThreshold >= 0 && searchThreshold <= 1)) {
      invalid(
        `searchThreshold must be a number from 0 to 1 (a similarity), got ${searchThreshold}.`,
      );
    }
  }
  for (const [name, value] of [
    ['candidatesPerFact', options.candidatesPerFact],
    ['llmRetries', options.llmRetries],
  ] as const) {
    if (value !== undefined && (!Number.isInteger(value) || value < 0 || value > 50)) {
      invalid(`${name} must be an integer from 0 to 50, got ${value}.`);
    }
  }
}

/** The new text and metadata of an `update`, either of which may be absent. */
export function checkUpdate(options: UpdateOptions): {
  text?: string;
  metadata?: Record<string, JsonValue>;
  expiresAt?: number | null;
} {
  if (
    options == null ||
    (options.text === undefined &&
      options.metadata === undefined &&
      options.expiresAt === undefined)
  ) {
    invalid('update needs text, metadata and/or expiresAt.');
  }
  return {
    ...(options.expiresAt === undefined
      ? {}
      : {
          expiresAt:
            options.expiresAt === null ? null : checkExpiresAt(options.expiresAt, 'expiresAt'),
        }),
    ...(options.text === undefined ? {} : { text: checkText(options.text, 'text') }),
    ...(options.metadata === undefined ? {} : { metadata: checkMetadata(options.metadata) }),
  };
}

function checkTime(value: unknown, name: string): string {
  const time = typeof value === 'string' ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(time))
    invalid(`${name} must be an ISO-8601 time, got ${JSON.stringify(value)}.`);
  return new Date(time).toISOString();
}

function checkImportItem(item: ImportItem, index: number, seenIds: Set<string>): ImportItem {
  if (item == null || typeof item !== 'object') invalid(`items[${index}] must be an object.`);
  let scope: Scope;
  try {
    scope = normalizeScope(item, { required: true });
  } catch (error) {
    invalid(`items[${index}]: ${(error as Error).message}`, error);
  }
  const checked: ImportItem = {
    ...scope,
    text: checkText(item.text, `items[${index}].text`),
    metadata: checkMetadata(item.metadata),
  };
  if (item.id !== undefined) {
    checkId(item.id);
    if (seenIds.has(item.id)) invalid(`items[${index}]: id "${item.id}" appears twice.`);
    seenIds.add(item.id);
    checked.id = item.id;
  }
  for (const field of ['createdAt', 'updatedAt'] as const) {
    if (item[field] !== undefined) {
      checked[field] = checkTime(item[field], `items[${index}].${field}`);
    }
  }
  if (item.expiresAt !== undefined) {
    const expiry = checkExpiresAt(item.expiresAt, `items[${index}].expiresAt`);
    checked.metadata = withExpiry(checked.metadata ?? {}, expiry);
  }
  return checked;
}

/** The items of an `import`, each with its scope, text, metadata and optional id and times. */
export function checkImportItems(items: unknown): ImportItem[] {
  if (!Array.isArray(items)) {
    invalid('import takes an array of {text, userId?, agentId?, runId?, metadata?}.');
  }
  const seenIds = new Set<string>();
  return items.map((item: ImportItem, index) => checkImportItem(item, index, seenIds));
}
