import { InvalidArgumentError } from './errors.js';

/**
 * Whose memory a record is. Every field given must match exactly; a record stored for
 * `{ userId: 'alice', agentId: 'travel' }` is found by `{ userId: 'alice' }` and by both ids, but
 * never by `{ userId: 'bob' }`.
 */
export interface Scope {
  /** The end user the memory is about. */
  userId?: string;
  /** The agent (assistant persona, tool) that holds the memory. */
  agentId?: string;
  /** One conversation, session or workflow run. */
  runId?: string;
}

/** The scope field names, in a stable order. */
export const scopeFields = ['userId', 'agentId', 'runId'] as const;

/** One of {@link scopeFields}. */
export type ScopeField = (typeof scopeFields)[number];

/** Longest scope id accepted, in characters. */
export const maxScopeIdLength = 256;

/**
 * Validates the scope ids that are present and returns a scope holding only them. Ids must be
 * non-empty strings of at most {@link maxScopeIdLength} characters without control characters;
 * they are matched literally (`*` is an ordinary character, not a wildcard).
 */
export function normalizeScope(
  input: Scope | undefined,
  { required = false, source = 'core' }: { required?: boolean; source?: string } = {},
): Scope {
  const scope: Scope = {};
  for (const field of scopeFields) {
    const value = input?.[field];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'string') {
      throw new InvalidArgumentError({
        source,
        message: `${field} must be a string, got ${typeof value}.`,
      });
    }
    if (value.trim().length === 0) {
      throw new InvalidArgumentError({
        source,
        message: `${field} must not be empty or blank; pass an id such as "alice" or leave it out.`,
      });
    }
    if (value.length > maxScopeIdLength) {
      throw new InvalidArgumentError({
        source,
        message: `${field} is ${value.length} characters long; at most ${maxScopeIdLength} are allowed.`,
      });
    }
    // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
    if (/[\u0000-\u001f\u007f]/.test(value)) {
      throw new InvalidArgumentError({
        source,
        message: `${field} must not contain control characters (newlines, tabs, NUL).`,
      });
    }
    scope[field] = value;
  }
  if (required && Object.keys(scope).length === 0) {
    throw new InvalidArgumentError({
      source,
      message:
        'At least one of userId, agentId or runId is required, so that memories never mix between users.',
    });
  }
  return scope;
}

/** Only the scope fields of a record (or of anything that carries them). */
export function scopeOf(record: Scope): Scope {
  const scope: Scope = {};
  for (const field of scopeFields) if (record[field] !== undefined) scope[field] = record[field];
  return scope;
}

/** Whether a record's scope fields satisfy every field of the scope. */
export function matchesScope(record: Scope, scope: Scope | undefined): boolean {
  if (!scope) return true;
  for (const field of scopeFields) {
    const wanted = scope[field];
    if (wanted !== undefined && record[field] !== wanted) return false;
  }
  return true;
}

/** A stable key for a scope, e.g. for locks: `u:alice|a:|r:`. */
export function scopeKey(scope: Scope): string {
  return scopeFields
    .map(
      (field) =>
        `${field[0]}:${scope[field] === undefined ? '' : encodeURIComponent(scope[field])}`,
    )
    .join('|');
}
