import { createHashEmbedder, createInMemoryStore, Memory, type VectorStore } from '@engram/core';
import { createSqliteStore } from '@engram/sqlite';
import { BaseStore } from '@langchain/langgraph-checkpoint';
import { describe, expect, it } from 'vitest';
import { EngramStore, translateStoreFilter } from './langgraph-store.js';

const stores: [string, () => VectorStore][] = [
  ['in-memory store', () => createInMemoryStore()],
  ['SQLite store', () => createSqliteStore({ path: ':memory:' })],
];

describe.each(stores)('EngramStore on the %s', (_name, createVectorStore) => {
  function createMemory() {
    return new Memory({
      vectorStore: createVectorStore(),
      embedder: createHashEmbedder(),
      llm: null,
      graphStore: null,
    });
  }

  it('is a LangGraph BaseStore: put, get, replace, delete', async () => {
    const store = new EngramStore({ memory: createMemory() });
    expect(store).toBeInstanceOf(BaseStore);
    expect(await store.get(['memories', 'alice'], 'diet')).toBeNull();

    await store.put(['memories', 'alice'], 'diet', { text: 'Alice is vegetarian', level: 1 });
    const first = await store.get(['memories', 'alice'], 'diet');
    expect(first).toMatchObject({
      namespace: ['memories', 'alice'],
      key: 'diet',
      value: { text: 'Alice is vegetarian', level: 1 },
    });
    expect(first?.createdAt).toBeInstanceOf(Date);

    await store.put(['memories', 'alice'], 'diet', { text: 'Alice is vegan', level: 2 });
    const second = await store.get(['memories', 'alice'], 'diet');
    expect(second?.value).toEqual({ text: 'Alice is vegan', level: 2 });
    expect(second?.createdAt.getTime()).toBe(first?.createdAt.getTime());
    expect(await store.get(['memories', 'bob'], 'diet')).toBeNull();
    expect(await store.get(['memories', 'alice'], 'other')).toBeNull();

    await store.delete(['memories', 'alice'], 'diet');
    expect(await store.get(['memories', 'alice'], 'diet')).toBeNull();
    await store.delete(['memories', 'alice'], 'diet');
  });

  it('searches under a namespace prefix, by query, filter, limit and offset', async () => {
    const store = new EngramStore({ memory: createMemory() });
    await store.put(['memories', 'alice'], 'a', {
      text: 'Alice loves hiking',
      kind: 'hobby',
      n: 1,
    });
    await store.put(['memories', 'alice'], 'b', { text: 'Alice eats no meat', kind: 'diet', n: 2 });
    await store.put(['memories', 'alice', 'work'], 'c', { text: 'Alice is a nurse', n: 3 });
    await store.put(['memories', 'bob'], 'a', { text: 'Bob loves hiking', kind: 'hobby', n: 4 });
    await store.put(['memoriesX'], 'z', { text: 'not under memories', n: 5 });

    const alice = await store.search(['memories', 'alice']);
    expect(alice.map((item) => item.key).sort()).toEqual(['a', 'b', 'c']);
    const all = await store.search(['memories']);
    expect(all).toHaveLength(4);
    expect(await store.search([])).toHaveLength(5);

    const hiking = await store.search(['memories'], { query: 'hiking', limit: 2 });
    expect(hiking.map((item) => item.value.text).sort()).toEqual([
      'Alice loves hiking',
      'Bob loves hiking',
    ]);
    expect(hiking[0]?.score).toBeGreaterThan(0);

    const hobbies = await store.search(['memories'], { filter: { kind: 'hobby' } });
    expect(hobbies.map((item) => item.namespace[1]).sort()).toEqual(['alice', 'bob']);
    const large = await store.search([], { filter: { n: { $gte: 3 }, kind: { $ne: 'hobby' } } });
    expect(large.map((item) => item.value.n).sort()).toEqual([3, 5]);

    const firstPage = await store.search(['memories'], { limit: 2 });
    const secondPage = await store.search(['memories'], { limit: 2, offset: 2 });
    const keys = [...firstPage, ...secondPage].map((item) => item.namespace.join('/') + item.key);
    expect(new Set(keys).size).toBe(4);
  });

  it('indexes the given fields, and leaves out items put with index false from queries', async () => {
    const store = new EngramStore({ memory: createMemory() });
    await store.put(
      ['docs'],
      'r1',
      { title: 'Quarterly report', body: { summary: 'revenue grew' } },
      ['body.summary'],
    );
    await store.put(['docs'], 'r2', { text: 'revenue secret numbers' }, false);
    const found = await store.search(['docs'], { query: 'revenue' });
    expect(found.map((item) => item.key)).toEqual(['r1']);
    expect(await store.search(['docs'])).toHaveLength(2);
  });

  it('maps a namespace label to the Engram userId', async () => {
    const memory = createMemory();
    const store = new EngramStore({ memory, userIdIndex: 1 });
    await store.put(['memories', 'alice'], 'diet', { content: 'Alice is vegetarian' });
    await store.put(['memories', 'bob'], 'diet', { content: 'Bob eats everything' });

    const aliceMemories = await memory.list({ userId: 'alice' });
    expect(aliceMemories.results.map((item) => item.memory)).toEqual(['Alice is vegetarian']);
    expect(aliceMemories.results[0]).toMatchObject({ userId: 'alice', agentId: 'langgraph' });
    const found = await memory.search('vegetarian', { userId: 'alice' });
    expect(found.results[0]?.memory).toBe('Alice is vegetarian');

    expect(await store.search(['memories', 'alice'])).toHaveLength(1);
    expect(await store.search(['memories'])).toHaveLength(2);
    await memory.deleteAll({ userId: 'alice' });
    expect(await store.get(['memories', 'alice'], 'diet')).toBeNull();
    expect(await store.get(['memories', 'bob'], 'diet')).not.toBeNull();
  });

  it('keeps stores of different scopes apart', async () => {
    const memory = createMemory();
    const one = new EngramStore({ memory, scope: { agentId: 'one' } });
    const two = new EngramStore({ memory, scope: { agentId: 'two' } });
    await one.put(['ns'], 'k', { text: 'from one' });
    expect(await two.get(['ns'], 'k')).toBeNull();
    expect(await two.search(['ns'])).toHaveLength(0);
  });

  it('lists namespaces by prefix, suffix, wildcard and depth', async () => {
    const store = new EngramStore({ memory: createMemory() });
    await store.put(['users', 'alice', 'prefs'], 'k', { text: 'a' });
    await store.put(['users', 'alice', 'notes'], 'k', { text: 'b' });
    await store.put(['users', 'bob', 'prefs'], 'k', { text: 'c' });
    await store.put(['docs', 'v1'], 'k', { text: 'd' });

    expect(await store.listNamespaces()).toEqual([
      ['docs', 'v1'],
      ['users', 'alice', 'notes'],
      ['users', 'alice', 'prefs'],
      ['users', 'bob', 'prefs'],
    ]);
    expect(await store.listNamespaces({ prefix: ['users', 'alice'] })).toHaveLength(2);
    expect(await store.listNamespaces({ suffix: ['prefs'] })).toEqual([
      ['users', 'alice', 'prefs'],
      ['users', 'bob', 'prefs'],
    ]);
    expect(await store.listNamespaces({ prefix: ['users', '*', 'prefs'] })).toHaveLength(2);
    expect(await store.listNamespaces({ maxDepth: 2 })).toEqual([
      ['docs', 'v1'],
      ['users', 'alice'],
      ['users', 'bob'],
    ]);
    expect(await store.listNamespaces({ limit: 1, offset: 1 })).toEqual([
      ['users', 'alice', 'notes'],
    ]);
  });

  it('runs a batch of mixed operations in order', async () => {
    const store = new EngramStore({ memory: createMemory() });
    const results = await store.batch([
      { namespace: ['a'], key: '1', value: { text: 'one' } },
      { namespace: ['a'], key: '1' },
      { namespacePrefix: ['a'], limit: 10, offset: 0 },
      { namespace: ['a'], key: '1', value: null },
      { namespace: ['a'], key: '1' },
      { limit: 10, offset: 0 },
    ]);
    expect(results[0]).toBeUndefined();
    expect(results[1]).toMatchObject({ key: '1', value: { text: 'one' } });
    expect(results[2]).toHaveLength(1);
    expect(results[4]).toBeNull();
    expect(results[5]).toEqual([]);
  });

  it('refuses bad input with messages that say what to do', async () => {
    const store = new EngramStore({ memory: createMemory() });
    await expect(store.put([], 'k', { text: 'x' })).rejects.toThrow();
    await expect(store.get(['a', ''], 'k')).rejects.toThrow();
    await expect(store.batch([{ namespace: ['a', ''], key: 'k' }])).rejects.toThrow(
      'non-empty strings',
    );
    await expect(store.search(['a'], { filter: { n: { $in: [1] } } })).rejects.toThrow(
      'use $eq, $ne',
    );
    expect(() => new EngramStore({ memory: createMemory(), userIdIndex: -1 })).toThrow(
      'non-negative integer',
    );
  });
});

describe('translateStoreFilter', () => {
  it('maps exact values and comparison operators onto the stored value', () => {
    expect(translateStoreFilter({ status: 'active', score: { $gt: 4.5, $lte: 9 } })).toEqual([
      { op: 'eq', field: 'langgraph.value.status', value: 'active' },
      { op: 'gt', field: 'langgraph.value.score', value: 4.5 },
      { op: 'lte', field: 'langgraph.value.score', value: 9 },
    ]);
  });
});
