import { InvalidArgumentError } from './errors.js';
import type { HistoryEvent } from './history-store.js';

/** Throws `InvalidArgumentError` unless `namespace` is a non-empty string; returns it. */
export function checkHistoryNamespace(namespace: unknown, source: string): string {
  if (typeof namespace !== 'string' || namespace.length === 0) {
    throw new InvalidArgumentError({
      source,
      message: `namespace must be a non-empty string (the collection the history belongs to), got ${JSON.stringify(namespace)}.`,
    });
  }
  return namespace;
}

/** Throws `InvalidArgumentError` unless every event carries a non-empty `namespace`. */
export function checkHistoryEventNamespaces(events: readonly HistoryEvent[], source: string): void {
  for (const event of events) {
    if (typeof event.namespace !== 'string' || event.namespace.length === 0) {
      throw new InvalidArgumentError({
        source,
        message: `History event "${event.id}" needs a namespace (the collection of its memory); set namespace on every event.`,
      });
    }
  }
}
