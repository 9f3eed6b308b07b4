import { ClosedError, InvalidArgumentError, throwIfAborted } from './errors.js';
import { checkHistoryEventNamespaces, checkHistoryNamespace } from './history-namespace.js';
import type { EraseTextsOptions, HistoryEvent, HistoryStore } from './history-store.js';
import { decodeCursor, encodeCursor } from './pagination.js';
import { matchesScope, normalizeScope } from './scope.js';
import type { CallOptions } from './vector-store.js';

/**
 * The events `eraseTexts` selects, as a predicate: the reference semantics the adapters' queries
 * follow. Throws `InvalidArgumentError` without a namespace, when nothing selects, or when a
 * field is malformed.
 */
export function eraseSelection(
  options: EraseTextsOptions,
  source: string,
): (event: HistoryEvent) => boolean {
  const { memoryIds, scope, before } = options;
  const namespace = checkHistoryNamespace(options.namespace, source);
  const refuse = (message: string): never => {
    throw new InvalidArgumentError({ source, message });
  };
  if (
    memoryIds !== undefined &&
    (!Array.isArray(memoryIds) || memoryIds.some((id) => typeof id !== 'string'))
  ) {
    refuse('memoryIds must be an array of memory ids.');
  }
  const normalized = scope === undefined ? undefined : normalizeScope(scope, { source });
  if (normalized && Object.keys(normalized).length === 0) {
    refuse(
      'eraseTexts needs a non-empty scope; leave scope out to select by memoryIds or before only.',
    );
  }
  const beforeTime = before === undefined ? undefined : Date.parse(before);
  if (beforeTime !== undefined && Number.isNaN(beforeTime)) {
    refuse(`before must be an ISO-8601 time, got ${JSON.stringify(before)}.`);
  }
  if (memoryIds === undefined && normalized === undefined && beforeTime === undefined) {
    refuse('eraseTexts needs memoryIds, a scope or a before time; it never erases every event.');
  }
  const ids = memoryIds === undefined ? undefined : new Set(memoryIds);
  return (event) =>
    event.namespace === namespace &&
    (ids === undefined || (event.memoryId !== null && ids.has(event.memoryId))) &&
    (normalized === undefined || matchesScope(event, normalized)) &&
    (beforeTime === undefined || Date.parse(event.createdAt) < beforeTime);
}

/**
 * History kept in process memory: the reference `HistoryStore`. It lasts as long as the process,
 * so it suits tests and short-lived applications, not an audit trail.
 */
export function createInMemoryHistoryStore(): HistoryStore {
  let events: (HistoryEvent & { sequence: number })[] = [];
  let sequence = 0;
  let closed = false;

  function open(options: CallOptions): void {
    if (closed)
      throw new ClosedError({
        source: 'memory',
        message: 'The history store was closed; create a new one.',
      });
    throwIfAborted(options.abortSignal, 'memory');
  }

  return {
    specificationVersion: 'v1',
    provider: 'memory',
    async append(options) {
      open(options);
      const added = options.events;
      checkHistoryEventNamespaces(added, 'memory');
      for (const event of added) events.push({ ...structuredClone(event), sequence: ++sequence });
    },
    async byMemory(options) {
      open(options);
      const { memoryId } = options;
      const namespace = checkHistoryNamespace(options.namespace, 'memory');
      return events
        .filter((event) => event.namespace === namespace && event.memoryId === memoryId)
        .map(({ sequence: _, ...event }) => event);
    },
    async byScope(options) {
      open(options);
      const { scope, limit, cursor } = options;
      const namespace = checkHistoryNamespace(options.namespace, 'memory');
      const normalized = normalizeScope(scope, { required: true, source: 'memory' });
      const after = Number(decodeCursor(cursor, 'memory') ?? 0);
      if (!Number.isInteger(after)) {
        throw new InvalidArgumentError({
          source: 'memory',
          message: 'cursor is not valid; pass the nextCursor of a previous page unchanged.',
        });
      }
      const matching = events.filter(
        (event) =>
          event.sequence > after &&
          event.namespace === namespace &&
          matchesScope(event, normalized),
      );
      const page = matching.slice(0, limit);
      const last = page.at(-1);
      return {
        events: page.map(({ sequence: _, ...event }) => event),
        ...(matching.length > limit && last
          ? { nextCursor: encodeCursor(String(last.sequence)) }
          : {}),
      };
    },
    async deleteScope(options) {
      open(options);
      const { scope } = options;
      const namespace = checkHistoryNamespace(options.namespace, 'memory');
      const normalized = normalizeScope(scope, { source: 'memory' });
      if (Object.keys(normalized).length === 0) {
        throw new InvalidArgumentError({
          source: 'memory',
          message: 'deleteScope needs a non-empty scope.',
        });
      }
      const before = events.length;
      events = events.filter(
        (event) => event.namespace !== namespace || !matchesScope(event, normalized),
      );
      return { deleted: before - events.length };
    },
    async listTexts(options) {
      open(options);
      const { limit, cursor } = options;
      const namespace = checkHistoryNamespace(options.namespace, 'memory');
      const beforeTime = Date.parse(options.before);
      const after = Number(decodeCursor(cursor, 'memory') ?? 0);
      if (!Number.isInteger(after) || Number.isNaN(beforeTime)) {
        throw new InvalidArgumentError({
          source: 'memory',
          message:
            'listTexts needs an ISO-8601 before time and the nextCursor of a previous page unchanged.',
        });
      }
      const matching = events.filter(
        (event) =>
          event.sequence > after &&
          event.namespace === namespace &&
          Date.parse(event.createdAt) < beforeTime &&
          (event.previousText !== null || event.newText !== null),
      );
      const page = matching.slice(0, limit);
      const last = page.at(-1);
      return {
        events: page.map(({ sequence: _, ...event }) => structuredClone(event)),
        ...(matching.length > limit && last
          ? { nextCursor: encodeCursor(String(last.sequence)) }
          : {}),
      };
    },
    async eraseTexts(options) {
      open(options);
      const select = eraseSelection(options, 'memory');
      let erased = 0;
      for (const event of events) {
        if (!select(event)) continue;
        if (event.previousText !== null || event.newText !== null) erased++;
        event.previousText = null;
        event.newText = null;
      }
      return { erased };
    },
    async close() {
      closed = true;
    },
    async [Symbol.asyncDispose]() {
      closed = true;
    },
  };
}
