import { describeGraphStore, providedServer } from '@engram/conformance';
import { expect } from 'vitest';
import { createNeo4jGraphStore } from '../src/index.js';

const { url, ...server } = providedServer();

describeGraphStore({
  name: 'neo4j',
  create: () => createNeo4jGraphStore({ url }),
  ...server,
  // The first queries of a fresh JVM compile Cypher runtimes; on a loaded 2-core machine that
  // alone has taken 20 s.
  timeout: 120_000,
  additionalTests: ({ test, store }) => {
    test('an all-zero embedding scores 0 instead of failing the lookup', async () => {
      const scope = { userId: `zero-${Date.now()}-${Math.random().toString(36).slice(2)}` };
      const time = new Date().toISOString();
      const base = { type: 'thing', ...scope, mentions: 1, createdAt: time, updatedAt: time };
      await store().upsertEntities({
        entities: [
          { ...base, id: crypto.randomUUID(), name: 'zero', embedding: new Array(8).fill(0) },
          { ...base, id: crypto.randomUUID(), name: 'one', embedding: [1, 0, 0, 0, 0, 0, 0, 0] },
        ],
      });
      const found = await store().findSimilarEntities({
        scope,
        embedding: [1, 0, 0, 0, 0, 0, 0, 0],
        topK: 5,
      });
      expect(found.map((match) => match.entity.name)).toEqual(['one', 'zero']);
      expect(found[0]!.score).toBeCloseTo(1, 5);
      expect(found[1]!.score).toBe(0);
      const fromZero = await store().findSimilarEntities({
        scope,
        embedding: new Array(8).fill(0),
        topK: 5,
      });
      expect(fromZero.map((match) => match.score)).toEqual([0, 0]);
      await store().deleteScope({ scope });
    });

    test('approximate search through the vector index above the limit, exact below it', async () => {
      const indexed = createNeo4jGraphStore({ url, approximateSearchAbove: 3 });
      try {
        expect(indexed.capabilities.nativeVectorIndex).toBe(true);
        await indexed.ensureSchema({ dimensions: 8 });
        const scope = { userId: `index-${Date.now()}-${Math.random().toString(36).slice(2)}` };
        const time = new Date().toISOString();
        const entities = Array.from({ length: 6 }, (_, index) => ({
          id: crypto.randomUUID(),
          name: `n${index}`,
          type: 'thing',
          embedding: Array.from({ length: 8 }, (_, axis) => (axis === index ? 1 : 0.1)),
          ...scope,
          mentions: 1,
          createdAt: time,
          updatedAt: time,
        }));
        await indexed.upsertEntities({ entities });
        const query = entities[2]!.embedding;
        const found = await indexed.findSimilarEntities({ scope, embedding: query, topK: 2 });
        expect(found[0]!.entity.id).toBe(entities[2]!.id);
        expect(found[0]!.score).toBeCloseTo(1, 3);
        await indexed.deleteScope({ scope });
      } finally {
        await indexed.close();
      }
    });
  },
});
