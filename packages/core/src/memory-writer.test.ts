import { describe, expect, it } from 'vitest';
import { createHashEmbedder } from './hash-embedder.js';
import { createInMemoryStore } from './in-memory-vector-store.js';
import { Memory } from './memory.js';
import type { CommitOptions } from './vector-store.js';

/** The reference store, counting its commits; a commit holding the text "refused" fails. */
function countingStore() {
  const store = createInMemoryStore();
  const commits: number[] = [];
  const commit = store.commit.bind(store);
  return {
    commits,
    store: Object.assign(store, {
      async commit(options: CommitOptions) {
        commits.push(options.upsert?.length ?? 0);
        if (options.upsert?.some((record) => record.text === 'refused')) {
          throw new Error('refused by the store');
        }
        return commit(options);
      },
    }),
  };
}

describe('MemoryWriter', () => {
  it('commits the adds of different scopes written in one turn together', async () => {
    const { store, commits } = countingStore();
    const memory = new Memory({ vectorStore: store, embedder: createHashEmbedder(), llm: null });
    const users = Array.from({ length: 8 }, (_, index) => `user-${index}`);
    await Promise.all(users.map((userId) => memory.add(`fact of ${userId}`, { userId })));
    expect(commits).toEqual([8]);
    for (const userId of users) {
      const listed = await memory.list({ userId });
      expect(listed.results.map((item) => item.memory)).toEqual([`fact of ${userId}`]);
      const [item] = listed.results;
      expect((await memory.history(item!.id)).map((event) => event.event)).toEqual(['ADD']);
    }
  });

  it('fails only the change set the store refuses when a shared commit fails', async () => {
    const { store, commits } = countingStore();
    const memory = new Memory({ vectorStore: store, embedder: createHashEmbedder(), llm: null });
    const outcomes = await Promise.allSettled([
      memory.add('kept', { userId: 'alice' }),
      memory.add('refused', { userId: 'bob' }),
      memory.add('kept too', { userId: 'carol' }),
    ]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual([
      'fulfilled',
      'rejected',
      'fulfilled',
    ]);
    expect(commits).toEqual([3, 1, 1, 1]);
    expect((await memory.list({ userId: 'alice' })).results).toHaveLength(1);
    expect((await memory.list({ userId: 'bob' })).results).toHaveLength(0);
    expect((await memory.list({ userId: 'carol' })).results).toHaveLength(1);
  });

  it('commits changes of one memory in the order they were made', async () => {
    const { store } = countingStore();
    const memory = new Memory({ vectorStore: store, embedder: createHashEmbedder(), llm: null });
    const { results } = await memory.add('first', { userId: 'alice' });
    const id = results[0]!.id;
    await Promise.all([
      memory.update(id, { text: 'second' }),
      memory.update(id, { text: 'third' }),
    ]);
    expect((await memory.get(id))?.memory).toBe('third');
  });
});
