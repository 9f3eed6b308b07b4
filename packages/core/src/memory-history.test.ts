import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, NotFoundError } from './errors.js';
import { createHashEmbedder } from './hash-embedder.js';
import { createInMemoryHistoryStore } from './in-memory-history-store.js';
import { createInMemoryStore } from './in-memory-vector-store.js';
import { Memory } from './memory.js';
import type { VectorStore } from './vector-store.js';

/** Every component given, so that nothing is read from the environment. */
const offline = { embedder: createHashEmbedder(), graphStore: null, llm: null };
const sharedId = '7f0c7a52-3f5e-4c55-9a57-0b6a2f1c9d11';

describe('history separated by collection', () => {
  for (const [label, shared] of [
    ['the vector store keeps the history', () => ({ vectorStore: createInMemoryStore() })],
    [
      'a separate history store',
      () => ({ vectorStore: createInMemoryStore(), historyStore: createInMemoryHistoryStore() }),
    ],
  ] as const) {
    it(`history and reset of one collection never read or touch another's (${label})`, async () => {
      const components = shared();
      const projects = ['p_acme', 'p_globex'].map(
        (collection) => new Memory({ ...components, ...offline, collection }),
      );
      const [acme, globex] = projects as [Memory, Memory];
      await acme.import([{ id: sharedId, userId: 'alice', text: 'Acme: likes tea' }]);
      await globex.import([{ id: sharedId, userId: 'alice', text: 'Globex: likes coffee' }]);

      const acmeHistory = await acme.history(sharedId);
      expect(acmeHistory.map((event) => [event.namespace, event.newText])).toEqual([
        ['p_acme', 'Acme: likes tea'],
      ]);
      expect((await globex.history(sharedId)).map((event) => event.newText)).toEqual([
        'Globex: likes coffee',
      ]);

      await acme.reset({ userId: 'alice' });
      // Reset leaves neither the memory nor its events: the id is unknown to this collection.
      await expect(acme.history(sharedId)).rejects.toSatisfy(NotFoundError.isInstance);
      expect((await globex.history(sharedId)).map((event) => event.newText)).toEqual([
        'Globex: likes coffee',
      ]);
      expect(await globex.get(sharedId)).toMatchObject({ memory: 'Globex: likes coffee' });
    });
  }
});

/** The reference store seen as a vector store that keeps no history of its own. */
function storeWithoutHistory(): VectorStore {
  const { commit: _commit, byMemory: _byMemory, ...store } = createInMemoryStore();
  return { ...store, capabilities: { ...store.capabilities, atomicHistory: false } };
}

describe('where history is kept', () => {
  it('says whether the history outlives the process', async () => {
    const fallback = new Memory({ vectorStore: storeWithoutHistory(), ...offline });
    expect(await fallback.describeHistory()).toEqual({ provider: 'memory', durable: false });
    const durableStore = { ...createInMemoryHistoryStore(), provider: 'audit-log' };
    const given = new Memory({
      vectorStore: storeWithoutHistory(),
      historyStore: durableStore,
      ...offline,
    });
    expect(await given.describeHistory()).toEqual({ provider: 'audit-log', durable: true });
  });

  it('with requireDurableHistory, refuses to keep history in process memory', async () => {
    for (const options of [
      { vectorStore: storeWithoutHistory() },
      { vectorStore: storeWithoutHistory(), historyStore: createInMemoryHistoryStore() },
      { vectorStore: createInMemoryStore() },
    ]) {
      const memory = new Memory({ ...options, ...offline, requireDurableHistory: true });
      const error = await memory.add('likes tea', { userId: 'alice' }).catch((caught) => caught);
      expect(InvalidArgumentError.isInstance(error), String(error)).toBe(true);
      expect((error as Error).message).toContain('historyStore');
    }
  });
});
