import type { Embedder, LLM, Reranker } from '@engram/core';
import { APICallError } from 'ai';

/** How models built by name retry a failed call. */
export interface RetryPolicy {
  /** Retries after the first try. Default 2. */
  maxRetries: number;
  /** Longest wait before a retry; a `Retry-After` asking for more fails the call at once. Default 60 s. */
  maxDelayMs: number;
  /** Wait before the first retry without `Retry-After`; doubled each time. Default 1 s. */
  initialDelayMs: number;
}

const defaults: RetryPolicy = { maxRetries: 2, maxDelayMs: 60_000, initialDelayMs: 1000 };

function apiCallErrorOf(error: unknown): APICallError | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 6 && current != null; depth++) {
    if (APICallError.isInstance(current)) return current;
    const next = current as { cause?: unknown; lastError?: unknown };
    current = next.lastError ?? next.cause;
  }
  return undefined;
}

function retryAfterMs(headers: Record<string, string> | undefined): number | undefined {
  if (!headers) return undefined;
  const milliseconds = Number.parseFloat(headers['retry-after-ms'] ?? '');
  if (Number.isFinite(milliseconds) && milliseconds >= 0) return milliseconds;
  const value = headers['retry-after'];
  if (value === undefined) return undefined;
  const seconds = Number.parseFloat(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/**
 * The wait before retrying `error`, or `undefined` when it must not be retried: only 429, 5xx and
 * lost connections are; a `Retry-After` beyond the policy's longest wait is not waited for.
 */
export function retryDelay(
  error: unknown,
  attempt: number,
  policy: RetryPolicy,
): number | undefined {
  const failure = apiCallErrorOf(error);
  if (!failure) return undefined;
  const status = failure.statusCode;
  const retryable =
    status === 429 ||
    (status !== undefined && status >= 500) ||
    (status === undefined && failure.isRetryable);
  if (!retryable) return undefined;
  const asked = retryAfterMs(failure.responseHeaders);
  if (asked !== undefined) return asked <= policy.maxDelayMs ? asked : undefined;
  return Math.min(policy.initialDelayMs * 2 ** attempt, policy.maxDelayMs);
}

function sleep(milliseconds: number, abortSignal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (abortSignal?.aborted) return reject(abortSignal.reason);
    const timer = setTimeout(() => {
      abortSignal?.removeEventListener('abort', onAbort);
      resolve();
    }, milliseconds);
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortSignal?.reason);
    };
    abortSignal?.addEventListener('abort', onAbort, { once: true });
  });
}

async function retrying<T>(
  policy: RetryPolicy,
  abortSignal: AbortSignal | undefined,
  call: () => Promise<T>,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      const delay = attempt < policy.maxRetries ? retryDelay(error, attempt, policy) : undefined;
      if (delay === undefined || abortSignal?.aborted) throw error;
      // Aborted while waiting: the next try fails at once with the abort error.
      await sleep(delay, abortSignal).catch(() => undefined);
    }
  }
}

function policyOf(maxRetries: number | undefined): RetryPolicy {
  return { ...defaults, ...(maxRetries === undefined ? {} : { maxRetries }) };
}

// The components wrapped here are this package's own plain objects, so spreading keeps them whole.

/** The LLM, retried per {@link retryDelay} within `maxRetries`. */
export function retryLLM(llm: LLM, maxRetries?: number): LLM {
  const policy = policyOf(maxRetries);
  return {
    ...llm,
    generate: (options) => retrying(policy, options.abortSignal, () => llm.generate(options)),
  };
}

/** The embedder, retried per {@link retryDelay} within `maxRetries`. */
export function retryEmbedder(embedder: Embedder, maxRetries?: number): Embedder {
  const policy = policyOf(maxRetries);
  return {
    ...embedder,
    embed: (options) => retrying(policy, options.abortSignal, () => embedder.embed(options)),
  };
}

/** The reranker, retried per {@link retryDelay} within `maxRetries`. */
export function retryReranker(reranker: Reranker, maxRetries?: number): Reranker {
  const policy = policyOf(maxRetries);
  return {
    ...reranker,
    rerank: (options) => retrying(policy, options.abortSignal, () => reranker.rerank(options)),
  };
}
