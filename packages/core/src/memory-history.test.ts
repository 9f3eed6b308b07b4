import { describe, expect, it } from 'vitest';
import { createHashEmbedder } from './hash-embedder.js';
import { createInMemoryHistoryStore } from './in-memory-history-store.js';
import { createInMemoryStore } from './in-memory-vector-store.js';
import { Memory } from './memory.js';

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
      expect(await acme.history(sharedId)).toEqual([]);
      expect((await globex.history(sharedId)).map((event) => event.newText)).toEqual([
        'Globex: likes coffee',
      ]);
      expect(await globex.get(sharedId)).toMatchObject({ memory: 'Globex: likes coffee' });
    });
  }
});
