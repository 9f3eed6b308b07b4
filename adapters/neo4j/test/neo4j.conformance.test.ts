import { describeGraphStore, providedServer } from '@engram/conformance';
import neo4j from 'neo4j-driver';
import { expect } from 'vitest';
import { createNeo4jGraphStore } from '../src/index.js';

const { url, ...server } = providedServer();
const namespace = 'neo4j-extras';

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
      const base = {
        type: 'thing',
        namespace,
        ...scope,
        mentions: 1,
        createdAt: time,
        updatedAt: time,
      };
      await store().upsertEntities({
        entities: [
          { ...base, id: crypto.randomUUID(), name: 'zero', embedding: new Array(8).fill(0) },
          { ...base, id: crypto.randomUUID(), name: 'one', embedding: [1, 0, 0, 0, 0, 0, 0, 0] },
        ],
      });
      const found = await store().findSimilarEntities({
        namespace,
        scope,
        embedding: [1, 0, 0, 0, 0, 0, 0, 0],
        topK: 5,
      });
      expect(found.map((match) => match.entity.name)).toEqual(['one', 'zero']);
      expect(found[0]!.score).toBeCloseTo(1, 5);
      expect(found[1]!.score).toBe(0);
      const fromZero = await store().findSimilarEntities({
        namespace,
        scope,
        embedding: new Array(8).fill(0),
        topK: 5,
      });
      expect(fromZero.map((match) => match.score)).toEqual([0, 0]);
      await store().deleteScope({ namespace, scope });
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
          namespace,
          ...scope,
          mentions: 1,
          createdAt: time,
          updatedAt: time,
        }));
        await indexed.upsertEntities({ entities });
        const query = entities[2]!.embedding;
        const found = await indexed.findSimilarEntities({
          namespace,
          scope,
          embedding: query,
          topK: 2,
        });
        expect(found[0]!.entity.id).toBe(entities[2]!.id);
        expect(found[0]!.score).toBeCloseTo(1, 3);
        await indexed.deleteScope({ namespace, scope });
      } finally {
        await indexed.close();
      }
    });

    test('ensureSchema gives nodes and edges stored without a namespace the default one', async () => {
      const userId = `legacy-${Date.now()}-${Math.random().toString(36).slice(2)}`;
      const username = process.env.NEO4J_USERNAME;
      const driver = neo4j.driver(
        url ?? 'bolt://127.0.0.1:7687',
        username === undefined
          ? undefined
          : neo4j.auth.basic(username, process.env.NEO4J_PASSWORD ?? ''),
      );
      const time = new Date().toISOString();
      const [a, b, r] = [crypto.randomUUID(), crypto.randomUUID(), crypto.randomUUID()];
      try {
        const session = driver.session();
        // The shape this store wrote before entities and relations carried a namespace.
        await session.run(
          'CREATE (a:EngramEntity {id: $a, name: "alice", type: "person", embedding: $one, userId: $userId, mentions: 1, createdAt: $time, updatedAt: $time}) ' +
            'CREATE (b:EngramEntity {id: $b, name: "acme", type: "company", embedding: $one, userId: $userId, mentions: 1, createdAt: $time, updatedAt: $time}) ' +
            'CREATE (a)-[:RELATES {id: $r, relationship: "works_at", sourceId: $a, destinationId: $b, userId: $userId, mentions: 1, createdAt: $time, updatedAt: $time}]->(b)',
          { a, b, r, userId, time, one: [1, 0, 0, 0, 0, 0, 0, 0] },
        );
        await session.close();
        await store().ensureSchema({ dimensions: 8 });
        const scope = { userId };
        const listed = await store().list({ namespace: 'memories', scope, limit: 10 });
        expect(listed.triples.map((triple) => triple.relation.id)).toEqual([r]);
        expect(listed.triples[0]!.relation.namespace).toBe('memories');
        expect(listed.triples[0]!.source.namespace).toBe('memories');
        expect((await store().list({ namespace: 'p_other', scope, limit: 10 })).triples).toEqual(
          [],
        );
        expect(await store().deleteScope({ namespace: 'memories', scope })).toEqual({
          deleted: 3,
        });
      } finally {
        await driver.close();
      }
    });
  },
});
