import { InvalidArgumentError } from './errors.js';
import type { HistoryEvent, HistoryStore } from './history-store.js';
import { decodeCursor, encodeCursor } from './pagination.js';
import { matchesScope, normalizeScope } from './scope.js';

/** History kept in process memory: the reference `HistoryStore`. */
export function createInMemoryHistoryStore(): HistoryStore {
  let events: (HistoryEvent & { sequence: number })[] = [];
  let sequence = 0;

  return {
    specificationVersion: 'v1',
    provider: 'memory',
    async append({ events: added }) {
      for (const event of added) events.push({ ...structuredClone(event), sequence: ++sequence });
    },
    async byMemory({ memoryId }) {
      return events
        .filter((event) => event.memoryId === memoryId)
        .map(({ sequence: _, ...event }) => event);
    },
    async byScope({ scope, limit, cursor }) {
      const normalized = normalizeScope(scope, { required: true, source: 'memory' });
      const after = Number(decodeCursor(cursor, 'memory') ?? 0);
      const matching = events.filter(
        (event) => event.sequence > after && matchesScope(event, normalized),
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
    async deleteScope({ scope }) {
      const normalized = normalizeScope(scope, { source: 'memory' });
      if (Object.keys(normalized).length === 0) {
        throw new InvalidArgumentError({
          source: 'memory',
          message: 'deleteScope needs a non-empty scope.',
        });
      }
      const before = events.length;
      events = events.filter((event) => !matchesScope(event, normalized));
      return { deleted: before - events.length };
    },
    async close() {},
  };
}
