import {
  type EraseTextsOptions,
  eraseSelection,
  type HistoryEvent,
  type HistoryStore,
  InvalidArgumentError,
  matchesScope,
  type Scope,
} from '@engram/core';
import fc from 'fast-check';
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

    describe('eraseTexts', () => eraseTextsTests(context));

    if (harness.additionalTests) {
      const additionalTests = harness.additionalTests;
      describe('additional', () => additionalTests(context));
    }
  });
}

/** The event with its texts erased, every other field kept. */
const erasedCopy = (kept: HistoryEvent): HistoryEvent => ({
  ...kept,
  previousText: null,
  newText: null,
});

/** `eraseTexts`: erases exactly what it selects and keeps every other field of the events. */
function eraseTextsTests({ store, uniqueId, test }: HistoryStoreTestContext): void {
  test('listTexts pages through the older events that still hold a text, in append order', async (context) => {
    const listTexts = store().listTexts?.bind(store());
    if (!listTexts) return context.skip('the store has no listTexts (history archival)');
    const namespace = `${suiteNamespace}-list-${uniqueId('texts')}`;
    const at = (day: number) => `2021-01-${String(day).padStart(2, '0')}T00:00:00.000Z`;
    const events = [
      event({ namespace, event: 'ADD', newText: 'first', createdAt: at(3) }),
      event({ namespace, event: 'DELETE', previousText: 'gone', createdAt: at(1) }),
      event({ namespace, event: 'ADD', createdAt: at(2) }),
      event({
        namespace,
        event: 'INFERENCE_FAILED',
        memoryId: null,
        newText: 'raw',
        createdAt: at(4),
      }),
      event({ namespace, event: 'ADD', newText: 'recent', createdAt: at(20) }),
    ];
    await store().append({ events });
    await store().append({
      events: [event({ event: 'ADD', newText: 'elsewhere', createdAt: at(1) })],
    });
    const seen: HistoryEvent[] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages < 10; pages++) {
      const page = await listTexts({
        namespace,
        before: at(10),
        limit: 2,
        ...(cursor ? { cursor } : {}),
      });
      expect(page.events.length).toBeLessThanOrEqual(2);
      seen.push(...page.events);
      cursor = page.nextCursor;
      if (!cursor) break;
    }
    expect(seen).toEqual([events[0], events[1], events[3]]);
    await store().eraseTexts({ namespace, before: at(10) });
    expect((await listTexts({ namespace, before: at(10), limit: 10 })).events).toEqual([]);
  });

  test('eraseTexts by memory ids nulls their texts and keeps every other field', async () => {
    const userId = uniqueId('erase-ids');
    const memoryId = newId();
    const otherMemoryId = newId();
    const events = [
      event({ memoryId, event: 'ADD', newText: 'Lives at 12 Rue X', userId, actor: 'user' }),
      event({
        memoryId,
        event: 'UPDATE',
        previousText: 'Lives at 12 Rue X',
        newText: 'Lives at 3 Rue Y',
        userId,
        agentId: 'agent/a',
        runId: 'run:1',
        actor: 'engine',
        detail: 'reconciled',
      }),
      event({ memoryId: otherMemoryId, event: 'ADD', newText: 'Likes tea', userId }),
    ];
    await store().append({ events });
    expect(await store().eraseTexts({ namespace: suiteNamespace, memoryIds: [memoryId] })).toEqual({
      erased: 2,
    });
    expect(await store().byMemory({ namespace: suiteNamespace, memoryId })).toEqual(
      events.slice(0, 2).map(erasedCopy),
    );
    expect(await store().byMemory({ namespace: suiteNamespace, memoryId: otherMemoryId })).toEqual([
      events[2],
    ]);
    expect(
      await store().eraseTexts({ namespace: suiteNamespace, memoryIds: [memoryId] }),
      'nothing left to erase',
    ).toEqual({
      erased: 0,
    });
    expect(await store().eraseTexts({ namespace: suiteNamespace, memoryIds: [] })).toEqual({
      erased: 0,
    });
  });

  test('eraseTexts never touches another namespace, whatever it selects', async () => {
    const userId = uniqueId('erase-namespace');
    const memoryId = newId();
    const otherNamespace = `${suiteNamespace}-other`;
    const mine = event({ memoryId, event: 'ADD', newText: 'mine', userId });
    const theirs = event({
      memoryId,
      event: 'ADD',
      newText: 'theirs',
      userId,
      namespace: otherNamespace,
    });
    await store().append({ events: [theirs, mine] });
    const selections = [
      { memoryIds: [memoryId] },
      { scope: { userId } },
      { before: new Date(Date.parse(mine.createdAt) + 1).toISOString() },
    ];
    for (const selection of selections) {
      await store().eraseTexts({ namespace: suiteNamespace, ...selection });
      expect(
        await store().byMemory({ namespace: otherNamespace, memoryId }),
        JSON.stringify(selection),
      ).toEqual([theirs]);
    }
    expect(await store().byMemory({ namespace: suiteNamespace, memoryId })).toEqual([
      erasedCopy(mine),
    ]);
  });

  test('eraseTexts by scope erases that scope only, INFERENCE_FAILED included', async () => {
    const user = uniqueId('erase-scope');
    const agent = uniqueId('agent');
    const doomed = [
      event({ event: 'ADD', newText: 'one', userId: user }),
      event({ event: 'DELETE', previousText: 'two', userId: user, agentId: agent }),
      event({ memoryId: null, event: 'INFERENCE_FAILED', newText: 'raw input', userId: user }),
    ];
    const kept = [
      event({ event: 'ADD', newText: 'three', userId: `${user}-other` }),
      event({ event: 'ADD', newText: 'four', userId: user.toUpperCase() }),
      event({ event: 'ADD', newText: 'five', agentId: agent }),
    ];
    await store().append({
      events: [doomed[0]!, kept[0]!, doomed[1]!, ...kept.slice(1), doomed[2]!],
    });
    expect(
      await store().eraseTexts({ namespace: suiteNamespace, scope: { userId: user } }),
    ).toEqual({ erased: 3 });
    expect((await byScopeAll(store(), { userId: user }, 10)).events).toEqual(
      doomed.map(erasedCopy),
    );
    for (const survivor of kept) {
      expect(
        await store().byMemory({ namespace: suiteNamespace, memoryId: survivor.memoryId! }),
      ).toEqual([survivor]);
    }
  });

  test('eraseTexts with before erases only older events; with ids and scope, both must match', async () => {
    const userId = uniqueId('erase-before');
    const memoryId = newId();
    const old = event({
      memoryId,
      event: 'ADD',
      newText: 'old',
      userId,
      createdAt: '2020-01-01T00:00:00.000Z',
    });
    const recent = event({
      memoryId,
      event: 'UPDATE',
      previousText: 'old',
      newText: 'recent',
      userId,
      createdAt: '2020-03-01T00:00:00.000Z',
    });
    const otherScope = event({
      memoryId,
      event: 'DELETE',
      previousText: 'recent',
      userId: `${userId}-other`,
      createdAt: '2020-01-02T00:00:00.000Z',
    });
    await store().append({ events: [old, recent, otherScope] });
    expect(
      await store().eraseTexts({
        namespace: suiteNamespace,
        memoryIds: [memoryId],
        scope: { userId },
        before: '2020-02-01T00:00:00+00:00',
      }),
    ).toEqual({ erased: 1 });
    expect(await store().byMemory({ namespace: suiteNamespace, memoryId })).toEqual([
      erasedCopy(old),
      recent,
      otherScope,
    ]);
    const ancient = event({
      event: 'ADD',
      newText: 'ancient',
      userId,
      createdAt: '1970-01-02T00:00:00.000Z',
    });
    await store().append({ events: [ancient] });
    await store().eraseTexts({ namespace: suiteNamespace, before: '1970-01-03T00:00:00.000Z' });
    expect(
      await store().byMemory({ namespace: suiteNamespace, memoryId: ancient.memoryId! }),
    ).toEqual([erasedCopy(ancient)]);
    expect(
      await store().byMemory({ namespace: suiteNamespace, memoryId }),
      'before alone spares newer events',
    ).toEqual([erasedCopy(old), recent, otherScope]);
  });

  test('eraseTexts without a selection, with an empty scope or a bad time erases nothing', async () => {
    const userId = uniqueId('erase-refused');
    const kept = event({ event: 'ADD', newText: 'kept', userId });
    await store().append({ events: [kept] });
    const refused = [
      { namespace: suiteNamespace },
      { namespace: suiteNamespace, scope: {} },
      { namespace: suiteNamespace, scope: { userId: undefined } },
      { namespace: suiteNamespace, scope: { userId }, before: 'last tuesday' },
      { scope: { userId } },
      { namespace: '', scope: { userId } },
    ] as EraseTextsOptions[];
    for (const options of refused) {
      const error = await caught(() => store().eraseTexts(options));
      expect(InvalidArgumentError.isInstance(error), `${JSON.stringify(options)}: ${error}`).toBe(
        true,
      );
    }
    expect(await store().byMemory({ namespace: suiteNamespace, memoryId: kept.memoryId! })).toEqual(
      [kept],
    );
  });

  const scopeArbitrary = fc
    .record(
      {
        userId: fc.constantFrom('alice', 'Alice', 'bob', 'alice%'),
        agentId: fc.constantFrom('travel', 'a_b', 'a-b'),
        runId: fc.constantFrom('run-1', 'run*'),
      },
      { requiredKeys: [] },
    )
    .filter((scope) => Object.keys(scope).length > 0);

  test('eraseTexts agrees with the reference selection on random events and selections', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ scope: scopeArbitrary, memory: fc.nat(5), day: fc.nat(9) }), {
          minLength: 1,
          maxLength: 12,
        }),
        fc.record(
          {
            scope: scopeArbitrary,
            memories: fc.uniqueArray(fc.nat(5), { maxLength: 3 }),
            day: fc.nat(10),
          },
          { requiredKeys: ['scope'] },
        ),
        async (seeds, selection) => {
          // Each run tags its scopes and memory ids, so runs never see each other's events.
          const tag = `${uniqueId('erase-property')}:`;
          const tagged = (scope: Scope): Scope =>
            Object.fromEntries(Object.entries(scope).map(([field, id]) => [field, `${tag}${id}`]));
          const day = (index: number) => new Date(Date.UTC(2021, 0, 1 + index)).toISOString();
          const events = seeds.map((seed, index) =>
            event({
              memoryId: `${tag}m${seed.memory}`,
              event: 'UPDATE',
              previousText: `before ${index}`,
              newText: `after ${index}`,
              createdAt: day(seed.day),
              ...tagged(seed.scope),
            }),
          );
          await store().append({ events });
          const options: EraseTextsOptions = {
            namespace: suiteNamespace,
            scope: tagged(selection.scope),
            ...(selection.memories
              ? { memoryIds: selection.memories.map((memory) => `${tag}m${memory}`) }
              : {}),
            ...(selection.day === undefined ? {} : { before: day(selection.day) }),
          };
          const selected = eraseSelection(options, 'conformance');
          const expected = events.map((candidate) =>
            selected(candidate) ? erasedCopy(candidate) : candidate,
          );
          const { erased } = await store().eraseTexts(options);
          expect(erased, JSON.stringify(options)).toBe(events.filter(selected).length);
          for (const memory of new Set(events.map((candidate) => candidate.memoryId!))) {
            expect(await store().byMemory({ namespace: suiteNamespace, memoryId: memory })).toEqual(
              expected.filter((candidate) => candidate.memoryId === memory),
            );
          }
        },
      ),
      { numRuns: 15 },
    );
  });
}
