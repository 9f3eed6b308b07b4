import { isRetryableNetworkError, toBackendError } from '@engram/adapter-kit';
import type { EngramError } from '@engram/core';

const source = 'azure-ai-search';

/** The HTTP status of an Azure SDK `RestError`, when the service answered. */
export function azureAiSearchErrorStatus(error: unknown): number | undefined {
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

/** Whether a failed call may succeed when repeated: lost connections, timeouts, 408, 429, 5xx. */
export function isRetryableAzureAiSearchError(error: unknown): boolean {
  const status = azureAiSearchErrorStatus(error);
  if ((error as { code?: unknown } | null)?.code === 'REQUEST_SEND_ERROR') return true;
  return isRetryableNetworkError(error, status);
}

/**
 * Turns anything the Azure client throws into an Engram error: a missing index into
 * `NotFoundError`, everything else into `AdapterCallError`.
 */
export function toAzureAiSearchError(error: unknown, action: string): EngramError {
  const status = azureAiSearchErrorStatus(error);
  return toBackendError(error, {
    source,
    action,
    ...(status === 404
      ? { notFound: 'the Azure AI Search index does not exist; call ensureCollection first.' }
      : {}),
    ...(status === undefined ? {} : { httpStatus: status }),
    isRetryable: isRetryableAzureAiSearchError(error),
  });
}
