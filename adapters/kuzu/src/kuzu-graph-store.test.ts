import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ClosedError,
  createInMemoryStore,
  createMemoryFromEnvironment,
  InvalidArgumentError,
} from '@engram/core';
import { describe, expect, it } from 'vitest';
import * as kuzuPackage from './index.js';
import { createKuzuGraphStore } from './kuzu-graph-store.js';

const time = '2024-01-01T00:00:00.000Z';

describe('createKuzuGraphStore', () => {
  it('does no I/O until the first call', () => {
    const store = createKuzuGraphStore({ path: '/nonexistent/folder/that/is/never/created' });
    expect(store.provider).toBe('kuzu');
    expect(store.capabilities).toEqual({ nativeVectorIndex: false });
  });

  it('needs a path or a database', () => {
    expect(() => createKuzuGraphStore({})).toThrow(InvalidArgumentError);
  });

  it('refuses an empty scope or namespace before touching the database', async () => {
    const store = createKuzuGraphStore({ path: '/nonexistent/never' });
    for (const call of [
      () => store.deleteScope({ namespace: 'p_a', scope: {} }),
      () => store.deleteScope({ namespace: '', scope: { userId: 'u' } }),
      () => store.list({ namespace: 'p_a', scope: {}, limit: 1 }),
      () => store.list({ namespace: ' ', scope: { userId: 'u' }, limit: 1 }),
      () => store.findSimilarEntities({ namespace: 'p_a', scope: {}, embedding: [1], topK: 1 }),
      () =>
        store.neighbours({ namespace: 'p_a', scope: { userId: '' }, entityIds: ['a'], limit: 1 }),
    ]) {
      await expect(call()).rejects.toSatisfy((error) => InvalidArgumentError.isInstance(error));
    }
  });

  it('works in memory, and rejects calls with ClosedError after close', async () => {
    const store = createKuzuGraphStore({ path: ':memory:' });
    await store.ensureSchema({ dimensions: 2 });
    const scope = { userId: 'alice' };
    const namespace = 'p_a';
    const base = {
      type: 'person',
      namespace,
      ...scope,
      mentions: 1,
      createdAt: time,
      updatedAt: time,
    };
    await store.upsertEntities({
      entities: [
        { ...base, id: 'a', name: 'alice', embedding: [1, 0] },
        { ...base, id: 'b', name: 'bob', embedding: [0, 1] },
      ],
    });
    await store.upsertRelations({
      relations: [
        {
          id: 'r',
          sourceId: 'a',
          relationship: 'knows',
          destinationId: 'b',
          namespace,
          ...scope,
          mentions: 1,
          createdAt: time,
          updatedAt: time,
          invalidatedAt: null,
        },
      ],
    });
    const page = await store.list({ namespace, scope, limit: 10 });
    expect(page.triples.map((triple) => triple.relation.relationship)).toEqual(['knows']);
    expect(await store.deleteScope({ namespace, scope })).toEqual({ deleted: 3 });
    await store.close();
    await store.close();
    await expect(store.list({ namespace, scope, limit: 1 })).rejects.toSatisfy((error) =>
      ClosedError.isInstance(error),
    );
  });

  it('is what ENGRAM_GRAPH=kuzu opens, under the data directory', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'engram-kuzu-home-'));
    try {
      const memory = await createMemoryFromEnvironment(
        { ENGRAM_GRAPH: 'kuzu' },
        {
          vectorStore: createInMemoryStore(),
          llm: null,
          dataDir,
          importModule: async (specifier: string) => {
            expect(specifier).toBe('@engram/kuzu');
            return kuzuPackage as Record<string, unknown>;
          },
        },
      );
      await memory.add('I like tea', { userId: 'carol' });
      expect((await memory.list({ userId: 'carol' })).relations).toEqual([]);
      expect(existsSync(join(dataDir, 'kuzu-graph'))).toBe(true);
      await memory.close();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
