import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from './errors.js';
import { createHashEmbedder } from './hash-embedder.js';
import type { HistoryEvent } from './history-store.js';
import { createInMemoryStore } from './in-memory-vector-store.js';
import { Memory } from './memory.js';
import { createScriptedLLM } from './testing/index.js';

/** Every component given, so that nothing is read from the environment. */
const offline = { embedder: createHashEmbedder(), graphStore: null };

const day = 24 * 60 * 60 * 1000;

/** The collection of a Memory given none: the namespace of its history. */
const namespace = 'memories';

/** A Memory whose model never answers usably: every add keeps its input as INFERENCE_FAILED. */
const withFailingModel = (store: ReturnType<typeof createInMemoryStore>) =>
  new Memory({
    vectorStore: store,
    llm: createScriptedLLM({ fallback: 'not json at all' }),
    ...offline,
  });

/** What erasure must keep of an event: everything but the texts. */
const withoutTexts = (event: HistoryEvent) => ({ ...event, previousText: null, newText: null });

async function scopeEvents(store: ReturnType<typeof createInMemoryStore>, userId: string) {
  const events: HistoryEvent[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.byScope({
      namespace,
      scope: { userId },
      limit: 500,
      ...(cursor ? { cursor } : {}),
    });
    events.push(...page.events);
    cursor = page.nextCursor;
  } while (cursor);
  return events;
}

describe('erasure', () => {
  it('delete with erase removes the texts of every event of the memory, keeping the rest', async () => {
    const memory = new Memory({ vectorStore: createInMemoryStore(), llm: null, ...offline });
    const [kept] = (await memory.add('Alice likes tea', { userId: 'alice' })).results;
    const [secret] = (await memory.add('Alice lives at 12 Rue X', { userId: 'alice' })).results;
    await memory.update(secret!.id, { text: 'Alice lives at 3 Rue Y' });
    const before = await memory.history(secret!.id);

    expect(await memory.delete(secret!.id, { erase: true })).toEqual({
      id: secret!.id,
      deleted: true,
    });
    expect(await memory.get(secret!.id)).toBeNull();
    const after = await memory.history(secret!.id);
    expect(after.slice(0, 2)).toEqual(before.map(withoutTexts));
    expect(after[2]).toMatchObject({
      event: 'DELETE',
      memoryId: secret!.id,
      userId: 'alice',
      actor: 'engine',
      previousText: null,
      newText: null,
    });
    expect(JSON.stringify(after)).not.toContain('Rue');
    expect((await memory.history(kept!.id))[0]!.newText).toBe('Alice likes tea');
  });

  it('delete without erase keeps the deleted text in the history', async () => {
    const memory = new Memory({ vectorStore: createInMemoryStore(), llm: null, ...offline });
    const [added] = (await memory.add('Alice likes tea', { userId: 'alice' })).results;
    await memory.delete(added!.id);
    expect((await memory.history(added!.id)).at(-1)!.previousText).toBe('Alice likes tea');
  });

  it('deleteAll with erase erases the scope’s texts, INFERENCE_FAILED inputs included, and nothing else', async () => {
    const store = createInMemoryStore();
    const failing = withFailingModel(store);
    await failing.add('My passport number ends in 1234', { userId: 'alice' });
    const memory = new Memory({ vectorStore: store, llm: null, ...offline });
    const [early] = (await memory.add('Alice was deleted before', { userId: 'alice' })).results;
    await memory.delete(early!.id);
    await memory.import([
      ...Array.from({ length: 700 }, (_, index) => ({ userId: 'alice', text: `alice ${index}` })),
      { userId: 'alice', agentId: 'travel', text: 'alice travels' },
      { userId: 'bob', text: 'bob fact' },
      { agentId: 'alice', text: 'an agent called alice' },
    ]);
    const untouched = [
      ...(await scopeEvents(store, 'bob')),
      ...(await store.byScope({ namespace, scope: { agentId: 'alice' }, limit: 10 })).events,
    ];
    const before = await scopeEvents(store, 'alice');

    expect(await memory.deleteAll({ userId: 'alice', erase: true })).toEqual({ deleted: 701 });
    const after = await scopeEvents(store, 'alice');
    expect(after.slice(0, before.length)).toEqual(before.map(withoutTexts));
    expect(after.filter((event) => event.event === 'DELETE')).toHaveLength(702);
    expect(after.every((event) => event.previousText === null && event.newText === null)).toBe(
      true,
    );
    expect(after.find((event) => event.event === 'INFERENCE_FAILED')).toMatchObject({
      memoryId: null,
      newText: null,
      detail: expect.any(String),
    });
    expect([
      ...(await scopeEvents(store, 'bob')),
      ...(await store.byScope({ namespace, scope: { agentId: 'alice' }, limit: 10 })).events,
    ]).toEqual(untouched);
  });

  it('erases in its own collection only, when collections share one history', async () => {
    const store = createInMemoryStore();
    const mine = new Memory({ vectorStore: store, llm: null, collection: 'mine', ...offline });
    const theirs = new Memory({ vectorStore: store, llm: null, collection: 'theirs', ...offline });
    const [kept] = (await theirs.add('Their alice fact', { userId: 'alice' })).results;
    const [erased] = (await mine.add('My alice fact', { userId: 'alice' })).results;
    await mine.deleteAll({ userId: 'alice', erase: true });
    await mine.pruneHistory({ olderThan: '0s' });
    expect(
      (await mine.history(erased!.id)).map((event) => event.previousText ?? event.newText),
    ).toEqual([null, null]);
    expect((await theirs.history(kept!.id))[0]!.newText).toBe('Their alice fact');
  });

  it('reset removes the scope’s INFERENCE_FAILED events with the rest of its history', async () => {
    const store = createInMemoryStore();
    const failing = withFailingModel(store);
    await failing.add('My passport number ends in 1234', { userId: 'alice' });
    await failing.add('Bob input', { userId: 'bob' });
    await failing.reset({ userId: 'alice' });
    expect(await scopeEvents(store, 'alice')).toEqual([]);
    expect(await scopeEvents(store, 'bob')).toHaveLength(1);
  });
});

describe('history text retention', () => {
  function clocked(options: { historyTextRetention?: string | number } = {}) {
    let time = Date.parse('2025-01-01T00:00:00.000Z');
    const store = createInMemoryStore();
    const memory = new Memory({
      vectorStore: store,
      llm: null,
      ...offline,
      ...options,
      now: () => new Date(time),
    });
    return {
      memory,
      store,
      advance: (days: number) => {
        time += days * day;
      },
    };
  }

  it('erases the texts of events older than the retention, with an injected clock', async () => {
    const { memory, store, advance } = clocked({ historyTextRetention: '90d' });
    const [old] = (await memory.add('old fact', { userId: 'alice' })).results;
    advance(50);
    const [middle] = (await memory.add('middle fact', { userId: 'alice' })).results;
    await memory.update(old!.id, { text: 'old fact, edited' });
    advance(45);
    expect(await memory.pruneHistory()).toEqual({ erased: 1 });
    const events = await scopeEvents(store, 'alice');
    expect(events.map((event) => event.newText)).toEqual([null, 'middle fact', 'old fact, edited']);
    expect(events[0]).toMatchObject({ event: 'ADD', memoryId: old!.id, userId: 'alice' });
    expect((await memory.get(old!.id))!.memory).toBe('old fact, edited');
    advance(44);
    expect(await memory.pruneHistory()).toEqual({ erased: 0 });
    advance(2);
    expect(await memory.pruneHistory()).toEqual({ erased: 2 });
    expect((await memory.history(middle!.id))[0]!.newText).toBeNull();
  });

  it('takes the age per call, and refuses to prune without one', async () => {
    const { memory, advance } = clocked();
    const [added] = (await memory.add('fact', { userId: 'alice' })).results;
    advance(2);
    const error = await memory.pruneHistory().catch((caught: unknown) => caught);
    expect(InvalidArgumentError.isInstance(error), String(error)).toBe(true);
    expect(String(error)).toContain('historyTextRetention');
    expect(await memory.pruneHistory({ olderThan: '3d' })).toEqual({ erased: 0 });
    expect(await memory.pruneHistory({ olderThan: '36h' })).toEqual({ erased: 1 });
    expect((await memory.history(added!.id))[0]!.newText).toBeNull();
  });

  it('refuses a retention that is not a duration', () => {
    for (const historyTextRetention of ['90', 'ninety days', '-1d', 'd', Number.NaN]) {
      expect(
        () =>
          new Memory({
            vectorStore: createInMemoryStore(),
            llm: null,
            historyTextRetention,
            ...offline,
          }),
        String(historyTextRetention),
      ).toThrow(/historyTextRetention/);
    }
  });
});
