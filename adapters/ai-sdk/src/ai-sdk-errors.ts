import { toAdapterCallError } from '@engram/adapter-kit';
import { AbortedError, EngramError, InvalidArgumentError, type JSONSchema } from '@engram/core';
import { APICallError, LoadAPIKeyError, RetryError } from 'ai';

/** The `source` of every error this package throws. */
export const aiSDKSource = 'ai-sdk';

function isAbort(error: unknown, abortSignal: AbortSignal | undefined): boolean {
  if (abortSignal?.aborted) return true;
  return error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError');
}

/**
 * Turns whatever the AI SDK threw into an Engram error. Retry exhaustion is unwrapped so the
 * retryable flag reflects the last HTTP failure, which is what a caller's own retry policy needs.
 */
export function toAISDKError(
  error: unknown,
  action: string,
  abortSignal: AbortSignal | undefined,
): EngramError {
  if (EngramError.isInstance(error)) return error;
  if (isAbort(error, abortSignal)) {
    return new AbortedError({
      message: `${action} was aborted.`,
      source: aiSDKSource,
      cause: error,
    });
  }
  const last = RetryError.isInstance(error) ? error.lastError : error;
  if (LoadAPIKeyError.isInstance(last)) {
    return new InvalidArgumentError({
      message: `${action} failed: ${last.message}`,
      source: aiSDKSource,
      cause: error,
    });
  }
  if (APICallError.isInstance(last)) {
    return toAdapterCallError(error, {
      source: aiSDKSource,
      action,
      detail: last.message,
      ...(last.statusCode === undefined ? {} : { status: `HTTP ${last.statusCode}` }),
      isRetryable: last.isRetryable,
    });
  }
  return toAdapterCallError(error, { source: aiSDKSource, action });
}

/**
 * Whether OpenAI's strict structured-output mode accepts the schema: every object closes its
 * properties (`additionalProperties: false`) and requires all of them. Strict mode rejects other
 * schemas with a 400, so they are sent non-strict instead.
 */
export function isStrictCompatibleSchema(schema: unknown): boolean {
  if (Array.isArray(schema)) return schema.every(isStrictCompatibleSchema);
  if (schema == null || typeof schema !== 'object') return true;
  const node = schema as JSONSchema;
  const properties = node.properties;
  const isObject =
    node.type === 'object' || (Array.isArray(node.type) && node.type.includes('object'));
  if (isObject || (properties != null && typeof properties === 'object')) {
    if (node.additionalProperties !== false) return false;
    const keys =
      properties != null && typeof properties === 'object' ? Object.keys(properties) : [];
    const required = Array.isArray(node.required) ? node.required : [];
    if (!keys.every((key) => required.includes(key))) return false;
  }
  for (const key of ['properties', '$defs', 'definitions'] as const) {
    const record = node[key];
    if (record != null && typeof record === 'object') {
      if (!Object.values(record).every(isStrictCompatibleSchema)) return false;
    }
  }
  for (const key of ['items', 'anyOf', 'allOf', 'oneOf'] as const) {
    if (node[key] !== undefined && !isStrictCompatibleSchema(node[key])) return false;
  }
  return true;
}
