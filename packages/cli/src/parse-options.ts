import {
  checkThreshold,
  InvalidArgumentError,
  type JsonValue,
  normalizeScope,
  type Scope,
} from '@engram/core';

const source = 'cli';

/** Throws the error the CLI reports as bad usage (exit code 2). */
export function usageError(message: string, cause?: unknown): never {
  throw new InvalidArgumentError({ source, message, ...(cause === undefined ? {} : { cause }) });
}

/** Parses a flag holding a JSON object, e.g. `--metadata '{"topic":"food"}'`. */
export function parseJsonObject(flag: string, value: string): Record<string, JsonValue> {
  const example = `'{"topic":"food"}'`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (error) {
    usageError(
      `${flag} must be a JSON object, e.g. ${example} (${(error as Error).message}).`,
      error,
    );
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    usageError(`${flag} must be a JSON object, e.g. ${example}.`);
  }
  return parsed as Record<string, JsonValue>;
}

/** Parses a whole-number flag within bounds. */
export function parseInteger(
  flag: string,
  value: string,
  minimum: number,
  maximum: number,
): number {
  const parsed = /^\s*[+-]?\d+\s*$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(parsed) || parsed < minimum || parsed > maximum) {
    usageError(`${flag} must be a whole number from ${minimum} to ${maximum}, got "${value}".`);
  }
  return parsed;
}

/** Parses a finite decimal flag, e.g. `--threshold 0.3`. */
export function parseDecimal(flag: string, value: string): number {
  const parsed = value.trim() === '' ? Number.NaN : Number(value);
  if (!Number.isFinite(parsed)) usageError(`${flag} must be a number, e.g. 0.3, got "${value}".`);
  return parsed;
}

/** Parses `--threshold`: a similarity from 0 to 1, refused in the words of the engine and the API. */
export function parseThreshold(value: string): number {
  const threshold = parseDecimal('--threshold', value);
  checkThreshold(threshold);
  return threshold;
}

/** Scope flags as commander hands them over. */
export interface ScopeFlags {
  /** `--user`. */
  user?: string;
  /** `--agent`. */
  agent?: string;
  /** `--run`. */
  run?: string;
}

/** The scope named by `--user`, `--agent` and `--run`; `required` demands at least one. */
export function scopeFromFlags(flags: ScopeFlags, { required }: { required: boolean }): Scope {
  const scope = normalizeScope(
    {
      ...(flags.user === undefined ? {} : { userId: flags.user }),
      ...(flags.agent === undefined ? {} : { agentId: flags.agent }),
      ...(flags.run === undefined ? {} : { runId: flags.run }),
    },
    { source },
  );
  if (required && Object.keys(scope).length === 0) {
    usageError('Give --user <id> (or --agent/--run), so that memories never mix between users.');
  }
  return scope;
}

/** An error's message as written, without the `[engram/<source>]` prefix. */
export function plainMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
