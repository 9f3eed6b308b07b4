import {
  type HistoryEvent,
  type HistoryStore,
  InvalidArgumentError,
  matchesScope,
  type Scope,
} from '@engram/core';
import fc from 'fast-check';
import { expect } from 'vitest';
import type { HistoryStoreTestContext } from './harness.js';
import { caught, newId, randomSuffix } from './support.js';

// Look-alike ids so a store that matches namespace or scope loosely is caught.
const namespaceNames = ['p_acme', 'p_Acme', 'p_acme%'] as const;
const userNames = ['alice', 'Alice', 'bob'];
const agentNames = ['travel', 'a_b'];
const memoryNames = ['m0', 'm1', 'm2'];

const scopeArbitrary: fc.Arbitrary<Scope> = fc
  .record(
    { userId: fc.constantFrom(...userNames), agentId: fc.constantFrom(...agentNames) },
    { requiredKeys: [] },
  )
  .filter((scope) => Object.keys(scope).length > 0);

/** One event to append: which of two namespaces, its scope and (shared) memory name. */
const seedArbitrary = fc.record({
  side: fc.constantFrom(0, 1),
  scope: scopeArbitrary,
  memory: fc.constantFrom(...memoryNames),
  event: fc.constantFrom('ADD', 'UPDATE', 'DELETE') as fc.Arbitrary<HistoryEvent['event']>,
});

function tagged(scope: Scope, tag: string): Scope {
  const result: Scope = {};
  if (scope.userId !== undefined) result.userId = `${tag}${scope.userId}`;
  if (scope.agentId !== undefined) result.agentId = `${tag}${scope.agentId}`;
  return result;
}

async function byScopeAll(
  store: HistoryStore,
  namespace: string,
  scope: Scope,
): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.byScope({ namespace, scope, limit: 4, ...(cursor ? { cursor } : {}) });
    events.push(...page.events);
    cursor = page.nextCursor;
  } while (cursor);
  return events;
}

/**
 * Two namespaces holding events with the same scope ids and the same memory ids, interleaved:
 * reads of one never return the other's events, and `deleteScope` in one leaves the other's.
 */
export function historyNamespaceSection(context: HistoryStoreTestContext): void {
  const { test, store, harness } = context;
  let clock = Date.parse('2024-06-01T00:00:00.000Z');

  test(
    'byMemory, byScope and deleteScope of one namespace never see or touch another namespace',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(seedArbitrary, { minLength: 1, maxLength: 16 }),
          fc.array(scopeArbitrary, { minLength: 1, maxLength: 3 }),
          scopeArbitrary,
          fc.constantFrom(0, 1),
          fc.constantFrom(...namespaceNames),
          async (seeds, queryScopes, deleteScope, deleteSide, name) => {
            // Each run has its own prefix, so runs never see each other's events.
            const tag = `${randomSuffix(6)}:`;
            const namespaces = [`${tag}${name}`, `${tag}${name}-other`] as const;
            const memoryIds = new Map(memoryNames.map((memory) => [memory, newId()]));
            const events: HistoryEvent[] = seeds.map((seed, index) => {
              clock += 1_000;
              return {
                id: newId(),
                namespace: namespaces[seed.side]!,
                memoryId: memoryIds.get(seed.memory)!,
                event: seed.event,
                previousText: seed.event === 'ADD' ? null : `before ${index}`,
                newText: seed.event === 'DELETE' ? null : `after ${index}`,
                ...tagged(seed.scope, tag),
                createdAt: new Date(clock).toISOString(),
              };
            });
            for (let start = 0; start < events.length; start += 5) {
              await store().append({ events: events.slice(start, start + 5) });
            }
            const of = (namespace: string, list = events) =>
              list.filter((event) => event.namespace === namespace);

            for (const namespace of namespaces) {
              for (const memoryId of memoryIds.values()) {
                expect(
                  await store().byMemory({ namespace, memoryId }),
                  `byMemory ${namespace} ${memoryId}`,
                ).toEqual(of(namespace).filter((event) => event.memoryId === memoryId));
              }
              for (const rawScope of [...queryScopes, deleteScope]) {
                const scope = tagged(rawScope, tag);
                expect(
                  await byScopeAll(store(), namespace, scope),
                  `byScope ${namespace} ${JSON.stringify(scope)}`,
                ).toEqual(of(namespace).filter((event) => matchesScope(event, scope)));
              }
            }

            const doomedNamespace = namespaces[deleteSide]!;
            const doomedScope = tagged(deleteScope, tag);
            const doomed = (event: HistoryEvent) =>
              event.namespace === doomedNamespace && matchesScope(event, doomedScope);
            const result = await store().deleteScope({
              namespace: doomedNamespace,
              scope: doomedScope,
            });
            expect(result.deleted, `deleteScope ${doomedNamespace}`).toBe(
              events.filter(doomed).length,
            );
            const survivors = events.filter((event) => !doomed(event));
            for (const namespace of namespaces) {
              for (const memoryId of memoryIds.values()) {
                expect(
                  await store().byMemory({ namespace, memoryId }),
                  `byMemory ${namespace} after deleteScope`,
                ).toEqual(of(namespace, survivors).filter((event) => event.memoryId === memoryId));
              }
            }
          },
        ),
        { numRuns: 15 },
      );
    },
    (harness.timeout ?? 30_000) * 4,
  );

  test('every call needs a namespace; an event without one is refused', async () => {
    const userId = context.uniqueId('history-namespace');
    const memoryId = newId();
    const unnamed = {
      id: newId(),
      memoryId,
      event: 'ADD',
      previousText: null,
      newText: 'no namespace',
      userId,
      createdAt: new Date().toISOString(),
    } as unknown as HistoryEvent;
    const calls: Array<[string, () => Promise<unknown>]> = [
      ['append without a namespace', () => store().append({ events: [unnamed] })],
      [
        'append with an empty namespace',
        () => store().append({ events: [{ ...unnamed, namespace: '' }] }),
      ],
      ['byMemory', () => store().byMemory({ namespace: '', memoryId })],
      ['byScope', () => store().byScope({ namespace: '', scope: { userId }, limit: 10 })],
      ['deleteScope', () => store().deleteScope({ namespace: '', scope: { userId } })],
    ];
    for (const [label, call] of calls) {
      const error = await caught(call);
      expect(InvalidArgumentError.isInstance(error), `${label}: ${String(error)}`).toBe(true);
    }
  });
}
