import { randomUUID } from 'node:crypto';
import {
  axisVector,
  describeGraphStore,
  graphEntity as entity,
  providedServer,
  graphRelation as relation,
} from '@engram/conformance';
import {
  AdapterCallError,
  DimensionMismatchError,
  type GraphEntity,
  InvalidArgumentError,
} from '@engram/core';
import pg from 'pg';
import { expect } from 'vitest';
import { createAgeGraphStore } from '../src/index.js';

const { url: connectionString, ...server } = providedServer();
const graphName = 'engram_conformance';
const axis = (index: number) => axisVector(8, index);
// The namespace of the conformance fixtures.
const namespace = 'conformance';

describeGraphStore({
  name: 'age',
  create: () => createAgeGraphStore({ connectionString, graphName }),
  ...server,
  additionalTests: ({ test, store }) => {
    test('values that look like Cypher or SQL are stored as given, never run', async () => {
      const hostile = 'x\' $$ }) DETACH DELETE e; SELECT 1; -- \\ " café ✓';
      const scope = { userId: `${hostile}-${randomUUID()}`, agentId: hostile };
      const a = {
        ...entity(scope, hostile, axis(0)),
        type: hostile,
        metadata: { [hostile]: hostile },
      };
      const b = entity(scope, 'b', axis(1));
      await store().upsertEntities({ entities: [a, b] });
      await store().upsertRelations({ relations: [relation(scope, a, hostile, b)] });
      const [triple] = (await store().list({ namespace, scope, limit: 10 })).triples;
      expect(triple?.relation.relationship).toBe(hostile);
      expect(triple?.source).toMatchObject({
        name: hostile,
        type: hostile,
        agentId: hostile,
        metadata: { [hostile]: hostile },
      });
      expect((await store().deleteScope({ namespace, scope })).deleted).toBe(3);
    });

    test('a relation re-upserted between other entities moves', async () => {
      const scope = { userId: `move-${randomUUID()}` };
      const [a, b, c] = [0, 1, 2].map((index) => entity(scope, `n${index}`, axis(index))) as [
        GraphEntity,
        GraphEntity,
        GraphEntity,
      ];
      const edge = relation(scope, a, 'likes', b);
      await store().upsertEntities({ entities: [a, b, c] });
      await store().upsertRelations({ relations: [edge] });
      await store().upsertRelations({ relations: [{ ...edge, destinationId: c.id, mentions: 2 }] });
      const page = await store().list({ namespace, scope, limit: 10 });
      expect(
        page.triples.map((triple) => [
          triple.relation.id,
          triple.destination.id,
          triple.relation.mentions,
        ]),
      ).toEqual([[edge.id, c.id, 2]]);
    });

    test('a relation whose entities are missing is refused and nothing of the batch is written', async () => {
      const scope = { userId: `orphan-${randomUUID()}` };
      const a = entity(scope, 'a', axis(0));
      const b = entity(scope, 'b', axis(1));
      await store().upsertEntities({ entities: [a, b] });
      const good = relation(scope, a, 'knows', b);
      const orphan = relation(scope, a, 'knows', entity(scope, 'ghost', axis(2)));
      const error = await store()
        .upsertRelations({ relations: [good, orphan] })
        .catch((caught: unknown) => caught);
      expect(InvalidArgumentError.isInstance(error)).toBe(true);
      expect((await store().list({ namespace, scope, limit: 10 })).triples).toEqual([]);
    });

    test('two stores writing the same entity at once leave one vertex', async () => {
      const other = createAgeGraphStore({ connectionString, graphName });
      try {
        const scope = { userId: `race-${randomUUID()}` };
        const shared = entity(scope, 'shared', axis(0));
        await Promise.all(
          Array.from({ length: 10 }, (_, index) =>
            (index % 2 === 0 ? store() : other).upsertEntities({
              entities: [{ ...shared, mentions: index + 1 }],
            }),
          ),
        );
        const found = await store().findSimilarEntities({
          namespace,
          scope,
          embedding: axis(0),
          topK: 10,
        });
        expect(found).toHaveLength(1);
      } finally {
        await other.close();
      }
    });

    test('a query embedding of another length is a DimensionMismatchError', async () => {
      const error = await store()
        .findSimilarEntities({
          namespace,
          scope: { userId: 'dims' },
          embedding: [1, 0],
          topK: 1,
        })
        .catch((caught: unknown) => caught);
      expect(DimensionMismatchError.isInstance(error)).toBe(true);
    });

    test('a new graph name creates its graph, labels and indexes on first use', async () => {
      const name = `engram_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
      const own = createAgeGraphStore({ connectionString, graphName: name });
      const client = new pg.Client({ connectionString });
      await client.connect();
      try {
        expect(await own.list({ namespace, scope: { userId: 'nobody' }, limit: 5 })).toEqual({
          triples: [],
        });
        const labels = await client.query(
          'SELECT l.name FROM ag_catalog.ag_label l JOIN ag_catalog.ag_graph g ON g.graphid = l.graph WHERE g.name = $1 ORDER BY 1',
          [name],
        );
        expect(labels.rows.map((row) => row.name)).toEqual(
          expect.arrayContaining(['Entity', 'RELATES']),
        );
        const indexes = await client.query(
          'SELECT indexname FROM pg_indexes WHERE schemaname = $1 ORDER BY 1',
          [name],
        );
        expect(indexes.rows.map((row) => row.indexname)).toEqual(
          expect.arrayContaining([`${name}_entity_properties`, `${name}_relates_properties`]),
        );
      } finally {
        await own.close();
        await client.query('SELECT ag_catalog.drop_graph($1, true)', [name]).catch(() => {});
        await client.end();
      }
    });

    test('an unreachable server is a retryable AdapterCallError', async () => {
      const own = createAgeGraphStore({
        connectionString: 'postgres://postgres@127.0.0.1:1/postgres',
        connectionTimeoutMs: 2_000,
      });
      const error = await own
        .list({ namespace, scope: { userId: 'x' }, limit: 1 })
        .catch((caught: unknown) => caught);
      expect(AdapterCallError.isInstance(error)).toBe(true);
      expect((error as AdapterCallError).isRetryable).toBe(true);
      expect((error as AdapterCallError).source).toBe('age');
      await own.close();
    });

    test('opening a graph from before namespaces gives it the default collection', async () => {
      const name = `engram_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
      const client = new pg.Client({ connectionString });
      await client.connect();
      const legacy = (text: string) =>
        client.query(
          `SELECT * FROM ag_catalog.cypher('${name}', $$ ${text} $$) AS (result ag_catalog.agtype)`,
        );
      const upgraded = createAgeGraphStore({ connectionString, graphName: name });
      try {
        await client.query("LOAD 'age'");
        await client.query('SELECT ag_catalog.create_graph($1)', [name]);
        // The shape this store wrote before vertices and edges carried a namespace.
        await legacy(
          "CREATE (a:Entity {id: 'a', name: 'alice', type: 'person', embedding: [1.0, 0.0], userId: 'alice', mentions: 1, createdAt: 't', updatedAt: 't'})-[r:RELATES {id: 'r', relationship: 'works_at', userId: 'alice', mentions: 1, createdAt: 't', updatedAt: 't'}]->(b:Entity {id: 'b', name: 'acme', type: 'company', embedding: [0.0, 1.0], userId: 'alice', mentions: 1, createdAt: 't', updatedAt: 't'}) RETURN r",
        );
        const scope = { userId: 'alice' };
        const listed = await upgraded.list({ namespace: 'memories', scope, limit: 10 });
        expect(listed.triples.map((triple) => triple.relation.id)).toEqual(['r']);
        expect(listed.triples[0]!.relation.namespace).toBe('memories');
        expect(listed.triples[0]!.destination.namespace).toBe('memories');
        expect((await upgraded.list({ namespace: 'p_b', scope, limit: 10 })).triples).toEqual([]);
        expect(await upgraded.deleteScope({ namespace: 'memories', scope })).toEqual({
          deleted: 3,
        });
      } finally {
        await upgraded.close();
        await client.query('SELECT ag_catalog.drop_graph($1, true)', [name]).catch(() => {});
        await client.end();
      }
    });
  },
});
