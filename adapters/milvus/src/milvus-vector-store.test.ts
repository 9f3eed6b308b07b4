import {
  ClosedError,
  InvalidArgumentError,
  UnsupportedFunctionalityError,
  type VectorStore,
} from '@engram/core';
import type { MilvusClient } from '@zilliz/milvus2-sdk-node';
import { describe, expect, it } from 'vitest';
import { createMilvusVectorStore } from './milvus-vector-store.js';

/** A client that fails the test on any use: these checks must happen before any call to Milvus. */
function untouchableClient(): { client: MilvusClient; used: string[] } {
  const used: string[] = [];
  const client = new Proxy(
    {},
    {
      get(_, property) {
        used.push(String(property));
        return () => {
          throw new Error(`unexpected call to ${String(property)}`);
        };
      },
    },
  ) as MilvusClient;
  return { client, used };
}

async function rejection(action: () => Promise<unknown>): Promise<unknown> {
  try {
    await action();
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

const collection = 'memories';
const vector = [1, 0, 0, 0];

describe('createMilvusVectorStore without a server', () => {
  it('does no I/O when created and declares its capabilities', () => {
    const { client, used } = untouchableClient();
    const store = createMilvusVectorStore({ client });
    expect(store.provider).toBe('milvus');
    expect(store.specificationVersion).toBe('v1');
    expect(store.capabilities).toMatchObject({
      keywordSearch: false,
      metric: 'cosine',
      atomicHistory: false,
      maxBatchSize: 1000,
    });
    expect(store.capabilities.filterOperators).not.toContain('contains');
    expect(store.commit).toBeUndefined();
    expect(used).toEqual([]);
  });

  it('does not connect when created from an address either', () => {
    // Port 9 (discard) is never a Milvus server: creating the store must not try it.
    const store = createMilvusVectorStore({ address: '127.0.0.1:9' });
    expect(store.provider).toBe('milvus');
  });

  it('rejects unsupported filters, keyword queries, bad cursors and unbounded deletes before any call', async () => {
    const { client, used } = untouchableClient();
    const store = createMilvusVectorStore({ client });
    const contains = { op: 'contains', field: 'tags', value: 'red' } as const;
    const unsupported: [string, () => Promise<unknown>][] = [
      ['list', () => store.list({ collection, filter: contains, limit: 10 })],
      ['count', () => store.count({ collection, filter: contains })],
      ['query', () => store.query({ collection, filter: contains, vector, topK: 3 })],
      ['delete', () => store.delete({ collection, filter: contains })],
      ['keyword query', () => store.query({ collection, text: 'words', topK: 3 })],
    ];
    for (const [name, action] of unsupported) {
      const error = await rejection(action);
      expect(UnsupportedFunctionalityError.isInstance(error), `${name}: ${String(error)}`).toBe(
        true,
      );
    }
    const invalid: [string, () => Promise<unknown>][] = [
      ['cursor', () => store.list({ collection, limit: 1, cursor: '%%%not-a-cursor%%%' })],
      ['delete everything', () => store.delete({ collection })],
      ['empty scope id', () => store.count({ collection, scope: { userId: ' ' } })],
      ['collection name', () => store.count({ collection: 'no-dashes-allowed' })],
      ['topK', () => store.query({ collection, vector, topK: 20_000 })],
      ['limit', () => store.list({ collection, limit: 0 })],
      ['dimensions', () => store.ensureCollection({ collection, dimensions: 0 })],
    ];
    for (const [name, action] of invalid) {
      const error = await rejection(action);
      expect(InvalidArgumentError.isInstance(error), `${name}: ${String(error)}`).toBe(true);
    }
    expect(used).toEqual([]);
  });

  it('rejects every call with ClosedError after close(), which is idempotent', async () => {
    const { client } = untouchableClient();
    const store: VectorStore = createMilvusVectorStore({ client });
    await store.close();
    await store[Symbol.asyncDispose]();
    const calls: [string, () => Promise<unknown>][] = [
      ['ensureCollection', () => store.ensureCollection({ collection, dimensions: 4 })],
      ['upsert', () => store.upsert({ collection, records: [] })],
      ['query', () => store.query({ collection, vector, topK: 1 })],
      ['get', () => store.get({ collection, ids: ['a'] })],
      ['list', () => store.list({ collection, limit: 1 })],
      ['count', () => store.count({ collection })],
      ['delete', () => store.delete({ collection, ids: ['a'] })],
      ['dropCollection', () => store.dropCollection({ collection })],
    ];
    for (const [name, call] of calls) {
      const error = await rejection(call);
      expect(ClosedError.isInstance(error), `${name}: ${String(error)}`).toBe(true);
    }
  });
});
