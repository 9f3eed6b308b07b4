import { ClosedError, EngramError, throwIfAborted } from '@engram/core';
import { toAdapterCallError } from './call-error.js';

/** Turns a backend's error into an Engram error; `action` is the method that failed. */
export type ErrorMapper = (error: unknown, action: string) => EngramError;

/** Options of {@link createLifecycle}. */
export interface LifecycleOptions {
  /** The adapter, for error prefixes. */
  source: string;
  /** What the object is in messages: `store`, `graph store`, ... Default `store`. */
  noun?: string;
  /** Maps errors that are not Engram errors yet; default {@link toAdapterCallError}. */
  toError?: ErrorMapper;
  /** Releases what the adapter opened (clients it created, connections). Runs at most once. */
  onClose?: () => Promise<void> | void;
}

/** Closed state, abort checks, error wrapping and an idempotent close, shared by every store. */
export interface Lifecycle {
  /** Whether `close()` was called. */
  readonly closed: boolean;
  /** Throws `ClosedError` after close and `AbortedError` when the signal fired. */
  check(signal?: AbortSignal): void;
  /** Runs one backend call: checks first, then maps any non-Engram error it throws. */
  run<T>(action: string, signal: AbortSignal | undefined, body: () => Promise<T>): Promise<T>;
  /**
   * Marks the object closed and runs `onClose` once; later calls wait for it and resolve even
   * when it failed (the first call reports the failure).
   */
  close(): Promise<void>;
}

/** Creates the {@link Lifecycle} of one store instance. */
export function createLifecycle(options: LifecycleOptions): Lifecycle {
  const { source } = options;
  const noun = options.noun ?? 'store';
  const toError: ErrorMapper =
    options.toError ?? ((error, action) => toAdapterCallError(error, { source, action }));
  let closing: Promise<void> | undefined;

  function check(signal?: AbortSignal) {
    if (closing) {
      throw new ClosedError({ source, message: `The ${noun} was closed; create a new one.` });
    }
    throwIfAborted(signal, source);
  }

  return {
    get closed() {
      return closing !== undefined;
    },
    check,
    async run(action, signal, body) {
      check(signal);
      try {
        return await body();
      } catch (error) {
        throw EngramError.isInstance(error) ? error : toError(error, action);
      }
    },
    close() {
      // The first close reports a failure to release; later ones resolve, as close did before.
      if (closing) return closing.catch(() => undefined);
      closing = Promise.resolve().then(() => options.onClose?.());
      return closing;
    },
  };
}

/**
 * Wraps the backend methods of a component so each one checks closed state and its
 * `abortSignal` first and throws only Engram errors; adds `close` and `Symbol.asyncDispose`.
 * `defineVectorStore` and `defineGraphStore` type it for their contracts.
 */
export function defineComponent<Contract>(
  lifecycle: Lifecycle,
  description: object,
  methods: object,
): Contract {
  const wrapped: Record<string | symbol, unknown> = { ...description };
  for (const [name, method] of Object.entries(methods)) {
    if (typeof method !== 'function') continue;
    const body = method as (options?: { abortSignal?: AbortSignal }) => Promise<unknown>;
    wrapped[name] = (options?: { abortSignal?: AbortSignal }) =>
      lifecycle.run(name, options?.abortSignal, () => body(options));
  }
  const close = () => lifecycle.close();
  wrapped.close = close;
  wrapped[Symbol.asyncDispose] = close;
  return wrapped as Contract;
}
