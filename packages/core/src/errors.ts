/** Options every Engram error accepts. */
export interface EngramErrorOptions {
  /**
   * What went wrong and what to do about it, as written: `message` keeps it unchanged and
   * `prefixedMessage` adds the `[engram/<source>]` prefix.
   */
  message: string;
  /** The package or component that raised the error, e.g. `core`, `sqlite`, `qdrant`. */
  source?: string;
  /** The underlying error, when there is one. */
  cause?: unknown;
}

function markerOf(code: string): symbol {
  return Symbol.for(`engram.error.${code}`);
}

function hasMarker(error: unknown, code: string): boolean {
  return (
    error != null &&
    typeof error === 'object' &&
    (error as Record<symbol, unknown>)[markerOf(code)] === true
  );
}

/**
 * Base class of every error Engram throws. Use the static `isInstance` checks rather than
 * `instanceof`: they keep working when two copies of this package are installed.
 */
export class EngramError extends Error {
  /** Stable machine-readable code, e.g. `invalid_argument`. */
  readonly code: string;
  /** The package or component that raised the error. */
  readonly source: string;

  constructor({ message, source = 'core', cause }: EngramErrorOptions, code = 'engram') {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'EngramError';
    this.code = code;
    this.source = source;
    Object.defineProperty(this, markerOf('engram'), { value: true });
    Object.defineProperty(this, markerOf(code), { value: true });
  }

  /** The message with the source in front, `[engram/<source>] <message>`, as logs show it. */
  get prefixedMessage(): string {
    return `[engram/${this.source}] ${this.message}`;
  }

  override toString(): string {
    return `${this.name}: ${this.prefixedMessage}`;
  }

  static isInstance(error: unknown): error is EngramError {
    return hasMarker(error, 'engram');
  }
}

/**
 * The message of any thrown value as a person should read it: an Engram error's message with
 * its `[engram/<source>]` prefix, anything else's message as it is.
 */
export function describeError(error: unknown): string {
  if (EngramError.isInstance(error)) return error.prefixedMessage;
  return error instanceof Error ? error.message : String(error);
}

/** An argument is missing, malformed or out of range; the message names it and says what fits. */
export class InvalidArgumentError extends EngramError {
  constructor(options: EngramErrorOptions) {
    super(options, 'invalid_argument');
    this.name = 'InvalidArgumentError';
  }
  static override isInstance(error: unknown): error is InvalidArgumentError {
    return hasMarker(error, 'invalid_argument');
  }
}

/** The adapter does not support the requested operation, filter operator or option. */
export class UnsupportedFunctionalityError extends EngramError {
  constructor(options: EngramErrorOptions) {
    super(options, 'unsupported_functionality');
    this.name = 'UnsupportedFunctionalityError';
  }
  static override isInstance(error: unknown): error is UnsupportedFunctionalityError {
    return hasMarker(error, 'unsupported_functionality');
  }
}

/** Options of {@link AdapterCallError}. */
export interface AdapterCallErrorOptions extends EngramErrorOptions {
  /** Whether the same call may succeed if retried (timeouts, 429, 503, lost connections). */
  isRetryable?: boolean;
}

/** A call to a database or model API failed. */
export class AdapterCallError extends EngramError {
  /** Whether the same call may succeed if retried. */
  readonly isRetryable: boolean;
  constructor(options: AdapterCallErrorOptions) {
    super(options, 'adapter_call');
    this.name = 'AdapterCallError';
    this.isRetryable = options.isRetryable ?? false;
  }
  static override isInstance(error: unknown): error is AdapterCallError {
    return hasMarker(error, 'adapter_call');
  }
}

/** Options of {@link LLMOutputError}. */
export interface LLMOutputErrorOptions extends EngramErrorOptions {
  /** The raw text the model answered, for debugging. */
  text?: string;
}

/** The LLM answered something that could not be parsed or repaired into the expected shape. */
export class LLMOutputError extends EngramError {
  /** The raw text the model answered. */
  readonly text: string | undefined;
  constructor(options: LLMOutputErrorOptions) {
    super(options, 'llm_output');
    this.name = 'LLMOutputError';
    this.text = options.text;
  }
  static override isInstance(error: unknown): error is LLMOutputError {
    return hasMarker(error, 'llm_output');
  }
}

/** The memory, collection or record does not exist (or is not visible to the caller). */
export class NotFoundError extends EngramError {
  constructor(options: EngramErrorOptions) {
    super(options, 'not_found');
    this.name = 'NotFoundError';
  }
  static override isInstance(error: unknown): error is NotFoundError {
    return hasMarker(error, 'not_found');
  }
}

/** Options of {@link DimensionMismatchError}. */
export interface DimensionMismatchErrorOptions extends EngramErrorOptions {
  /** Dimensions the collection or embedder expects. */
  expected: number;
  /** Dimensions that were given. */
  actual: number;
}

/** A vector's length differs from the collection's, or from the embedder's. */
export class DimensionMismatchError extends EngramError {
  /** Dimensions the collection or embedder expects. */
  readonly expected: number;
  /** Dimensions that were given. */
  readonly actual: number;
  constructor(options: DimensionMismatchErrorOptions) {
    super(options, 'dimension_mismatch');
    this.name = 'DimensionMismatchError';
    this.expected = options.expected;
    this.actual = options.actual;
  }
  static override isInstance(error: unknown): error is DimensionMismatchError {
    return hasMarker(error, 'dimension_mismatch');
  }
}

/** Options of {@link EmbedderMismatchError}. */
export interface EmbedderMismatchErrorOptions extends EngramErrorOptions {
  /** The embedder the data was written with, `<provider>:<model>`. */
  recorded: string;
  /** The embedder configured now, `<provider>:<model>`. */
  configured: string;
}

/**
 * A collection's vectors were written by one embedder and another is configured now: their
 * vectors cannot be compared, so nothing is read or written until the choice is made explicit.
 */
export class EmbedderMismatchError extends EngramError {
  /** The embedder the data was written with, `<provider>:<model>`. */
  readonly recorded: string;
  /** The embedder configured now, `<provider>:<model>`. */
  readonly configured: string;
  constructor(options: EmbedderMismatchErrorOptions) {
    super(options, 'embedder_mismatch');
    this.name = 'EmbedderMismatchError';
    this.recorded = options.recorded;
    this.configured = options.configured;
  }
  static override isInstance(error: unknown): error is EmbedderMismatchError {
    return hasMarker(error, 'embedder_mismatch');
  }
}

/** The store or engine was used after `close()`. */
export class ClosedError extends EngramError {
  constructor(options: EngramErrorOptions) {
    super(options, 'closed');
    this.name = 'ClosedError';
  }
  static override isInstance(error: unknown): error is ClosedError {
    return hasMarker(error, 'closed');
  }
}

/** The caller aborted the operation through its `abortSignal`. */
export class AbortedError extends EngramError {
  constructor(options: EngramErrorOptions) {
    super(options, 'aborted');
    this.name = 'AbortedError';
  }
  static override isInstance(error: unknown): error is AbortedError {
    return hasMarker(error, 'aborted');
  }
}

/** Throws {@link AbortedError} when the signal has fired. */
export function throwIfAborted(signal: AbortSignal | undefined, source = 'core'): void {
  if (signal?.aborted) {
    throw new AbortedError({ message: 'The operation was aborted.', source, cause: signal.reason });
  }
}
