import {
  type HistoryEvent,
  type HistoryStore,
  InvalidArgumentError,
  matchesScope,
  type Scope,
} from '@engram/core';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import type { HistoryStoreHarness, HistoryStoreTestContext } from './harness.js';
import { historyNamespaceSection } from './history-store-namespaces.js';
import {
  caught,
  defaultTimeout,
  newId,
  randomSuffix,
  storeHolder,
  suiteTitle,
  testRegistrar,
} from './support.js';

let clock = Date.parse('2024-03-01T00:00:00.000Z');

/** A distinct, increasing time for each event, so "oldest first" is unambiguous. */
function nextTime(): string {
  clock += 1_000;
  return new Date(clock).toISOString();
}

/** Namespace of the suite's events; the isolation tests use namespaces of their own. */
const suiteNamespace = `history-${randomSuffix(8)}`;

function event(fields: Partial<HistoryEvent> & Pick<HistoryEvent, 'event'>): HistoryEvent {
  return {
    id: newId(),
    namespace: suiteNamespace,
    memoryId: newId(),
    previousText: null,
    newText: null,
    createdAt: nextTime(),
    ...fields,
  };
}

async function byScopeAll(
  store: HistoryStore,
  scope: Scope,
  limit: number,
  namespace = suiteNamespace,
): Promise<{ events: HistoryEvent[]; pages: number }> {
  const events: HistoryEvent[] = [];
  let cursor: string | undefined;
  for (let pages = 1; pages < 10_000; pages++) {
    const page = await store.byScope({ namespace, scope, limit, ...(cursor ? { cursor } : {}) });
    expect(page.events.length).toBeLessThanOrEqual(limit);
    events.push(...page.events);
    if (!page.nextCursor) return { events, pages };
    expect(page.events.length, 'a page with a nextCursor holds events').toBeGreaterThan(0);
    cursor = page.nextCursor;
  }
  throw new Error('byScope kept returning a nextCursor after 10,000 pages.');
}

/**
 * Registers the shared `HistoryStore` conformance suite for one adapter. One store is created for
 * the file; every test uses scope and memory ids of its own, so suites can share a server.
 */
export function describeHistoryStore(harness: HistoryStoreHarness): void {
  const timeout = harness.timeout ?? defaultTimeout;
  const test = testRegistrar(harness.skip, timeout);
  const store = storeHolder<HistoryStore>();
  const context: HistoryStoreTestContext = {
    harness,
    store: store.current,
    uniqueId: (label) => `${label}-${randomSuffix(8)}`,
    test,
  };
  const { uniqueId } = context;

  describe(suiteTitle('HistoryStore', harness), () => {
    if (harness.skip === undefined) {
      beforeAll(async () => {
        store.set(await harness.create());
      }, timeout);
      afterAll(async () => {
        await store.created?.close();
      }, timeout);
    }

    describe('append and byMemory', () => {
      test('byMemory returns one memory’s events oldest first with every field', async () => {
        const memoryId = newId();
        const otherMemoryId = newId();
        const userId = uniqueId('history-user');
        const added = event({
          memoryId,
          event: 'ADD',
          newText: 'Likes 🍣 and 日本語',
          userId,
          agentId: 'agent/planner',
          runId: 'run:1',
          actor: 'engine',
          detail: 'extracted from "conversation" #1',
        });
        const other = event({ memoryId: otherMemoryId, event: 'ADD', newText: 'other', userId });
        const updated = event({
          memoryId,
          event: 'UPDATE',
          previousText: 'Likes 🍣 and 日本語',
          newText: 'Likes sushi',
          userId,
          actor: 'user',
        });
        const deleted = event({
          memoryId,
          event: 'DELETE',
          previousText: 'Likes sushi',
          userId,
          createdAt: updated.createdAt,
        });
        await store.current().append({ events: [added, other] });
        await store.current().append({ events: [updated, deleted] });
        expect(await store.current().byMemory({ namespace: suiteNamespace, memoryId })).toEqual([
          added,
          updated,
          deleted,
        ]);
        expect(
          await store.current().byMemory({ namespace: suiteNamespace, memoryId: otherMemoryId }),
        ).toEqual([other]);
        const [stored] = await store
          .current()
          .byMemory({ namespace: suiteNamespace, memoryId: otherMemoryId });
        for (const field of ['agentId', 'runId', 'actor', 'detail'] as const) {
          expect(stored?.[field], `${field} of an event without one`).toBeUndefined();
        }
      });

      test('byMemory of an unknown memory returns nothing', async () => {
        expect(
          await store.current().byMemory({ namespace: suiteNamespace, memoryId: newId() }),
        ).toEqual([]);
      });

      test('INFERENCE_FAILED events without a memory are kept and found by scope', async () => {
        const userId = uniqueId('history-failed');
        const failed = event({
          memoryId: null,
          event: 'INFERENCE_FAILED',
          newText: 'raw input the model could not process',
          detail: 'LLM output was not valid JSON',
          userId,
        });
        await store.current().append({ events: [failed] });
        const page = await store.current().byScope({
          namespace: suiteNamespace,
          scope: { userId },
          limit: 10,
        });
        expect(page.events).toEqual([failed]);
        expect(page.nextCursor).toBeUndefined();
      });
    });

    describe('byScope', () => {
      test('byScope pages through a scope oldest first with nextCursor', async () => {
        const userId = uniqueId('history-pages');
        const events = Array.from({ length: 23 }, (_, index) =>
          event({ event: 'ADD', newText: `fact ${index}`, userId }),
        );
        for (let start = 0; start < events.length; start += 6) {
          await store.current().append({ events: events.slice(start, start + 6) });
        }
        const { events: read, pages } = await byScopeAll(store.current(), { userId }, 5);
        expect(read).toEqual(events);
        expect(pages).toBe(5);
        const error = await caught(() =>
          store.current().byScope({
            namespace: suiteNamespace,
            scope: { userId },
            limit: 5,
            cursor: '%%%not-a-cursor%%%',
          }),
        );
        expect(InvalidArgumentError.isInstance(error), String(error)).toBe(true);
      });

      test('byScope respects the scope exactly', async () => {
        const user = uniqueId('history-scope');
        const otherUser = `${user}-other`;
        const lookAlike = user.toUpperCase();
        const agent = uniqueId('agent');
        const run = uniqueId('run');
        const scopes: Scope[] = [
          { userId: user },
          { userId: user, agentId: agent },
          { userId: user, agentId: `${agent}-b`, runId: run },
          { userId: otherUser, agentId: agent },
          { userId: lookAlike },
          { agentId: agent },
          { runId: run },
        ];
        const events = scopes.flatMap((scope, index) => [
          event({ event: 'ADD', newText: `a${index}`, ...scope }),
          event({ event: 'UPDATE', newText: `b${index}`, previousText: `a${index}`, ...scope }),
        ]);
        await store.current().append({ events });
        const queries: Scope[] = [
          { userId: user },
          { userId: user, agentId: agent },
          { agentId: agent },
          { runId: run },
          { userId: user, runId: run },
          { userId: otherUser },
          { userId: lookAlike },
          { userId: user, agentId: agent, runId: run },
        ];
        for (const scope of queries) {
          const expected = events.filter((candidate) => matchesScope(candidate, scope));
          const { events: read } = await byScopeAll(store.current(), scope, 4);
          expect(read, `byScope ${JSON.stringify(scope)}`).toEqual(expected);
        }
      });
    });

    describe('deleteScope', () => {
      test('deleteScope deletes only that scope’s events and returns the count', async () => {
        const user = uniqueId('history-delete');
        const kept = uniqueId('history-kept');
        const agent = uniqueId('agent');
        const doomed = [
          event({ event: 'ADD', userId: user, newText: 'one' }),
          event({ event: 'ADD', userId: user, agentId: agent, newText: 'two' }),
        ];
        const survivors = [
          event({ event: 'ADD', userId: kept, newText: 'three' }),
          event({ event: 'ADD', userId: kept, agentId: agent, newText: 'four' }),
          event({ event: 'ADD', agentId: agent, newText: 'five' }),
        ];
        await store.current().append({
          events: [doomed[0]!, survivors[0]!, doomed[1]!, ...survivors.slice(1)],
        });
        expect(
          await store.current().deleteScope({ namespace: suiteNamespace, scope: { userId: user } }),
        ).toEqual({
          deleted: 2,
        });
        expect((await byScopeAll(store.current(), { userId: user }, 10)).events).toEqual([]);
        for (const doomedEvent of doomed) {
          expect(
            await store
              .current()
              .byMemory({ namespace: suiteNamespace, memoryId: doomedEvent.memoryId! }),
          ).toEqual([]);
        }
        expect((await byScopeAll(store.current(), { agentId: agent }, 10)).events).toEqual(
          survivors.slice(1),
        );
        expect((await byScopeAll(store.current(), { userId: kept }, 10)).events).toEqual(
          survivors.slice(0, 2),
        );
        expect(
          await store.current().deleteScope({ namespace: suiteNamespace, scope: { userId: user } }),
        ).toEqual({
          deleted: 0,
        });
      });

      test('deleteScope with an empty scope throws InvalidArgumentError and deletes nothing', async () => {
        const userId = uniqueId('history-empty');
        const kept = event({ event: 'ADD', userId, newText: 'kept' });
        await store.current().append({ events: [kept] });
        for (const scope of [{}, { userId: undefined }] as Scope[]) {
          const error = await caught(() =>
            store.current().deleteScope({ namespace: suiteNamespace, scope }),
          );
          expect(InvalidArgumentError.isInstance(error), String(error)).toBe(true);
        }
        expect((await byScopeAll(store.current(), { userId }, 10)).events).toEqual([kept]);
      });
    });

    describe('namespaces', () => historyNamespaceSection(context));

    if (harness.additionalTests) {
      const additionalTests = harness.additionalTests;
      describe('additional', () => additionalTests(context));
    }
  });
}
