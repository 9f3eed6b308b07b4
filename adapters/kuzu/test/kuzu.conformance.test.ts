import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  describeGraphStore,
  graphEntity as entity,
  graphRelation as relation,
} from '@engram/conformance';

import { DimensionMismatchError, type GraphEntity, InvalidArgumentError } from '@engram/core';
import { afterAll, expect } from 'vitest';
import { createKuzuGraphStore, isRetryableKuzuError } from '../src/index.js';

const run = promisify(execFile);
// The namespace of the conformance fixtures.
const namespace = 'conformance';
const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const directory = mkdtempSync(join(tmpdir(), 'engram-kuzu-conformance-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));
let databases = 0;
const newPath = () => join(directory, `graph-${++databases}`, 'kuzu-graph');

/** Opens the database in another Node process and counts its entities. */
async function countInAnotherProcess(path: string): Promise<number> {
  const script = `
    const kuzu = require('kuzu');
    (async () => {
      const database = new kuzu.Database(process.argv[1]);
      const connection = new kuzu.Connection(database);
      const result = await connection.query('MATCH (e:Entity) RETURN count(e) AS n');
      const [row] = await result.getAll();
      result.close();
      await connection.close();
      await database.close();
      console.log(String(row.n));
    })().catch((error) => { console.error(error.message); process.exit(1); });
  `;
  const { stdout } = await run(process.execPath, ['-e', script, path], { cwd: packageRoot });
  return Number(stdout.trim());
}

/** Writes a graph the way this store did before namespaces, from another Node process. */
async function writeLegacyGraph(path: string): Promise<void> {
  const script = `
    const kuzu = require('kuzu');
    (async () => {
      const database = new kuzu.Database(process.argv[1]);
      const connection = new kuzu.Connection(database);
      for (const text of [
        'CREATE NODE TABLE Entity(id STRING, name STRING, type STRING, embedding DOUBLE[2], userId STRING, agentId STRING, runId STRING, mentions INT64, metadata STRING, createdAt STRING, updatedAt STRING, PRIMARY KEY (id))',
        'CREATE REL TABLE RELATES(FROM Entity TO Entity, id STRING, relationship STRING, userId STRING, agentId STRING, runId STRING, mentions INT64, createdAt STRING, updatedAt STRING, invalidatedAt STRING)',
        "CREATE (:Entity {id: 'a', name: 'alice', type: 'person', embedding: [1.0, 0.0], userId: 'alice', mentions: 1, createdAt: 't', updatedAt: 't'})",
        "CREATE (:Entity {id: 'b', name: 'acme', type: 'company', embedding: [0.0, 1.0], userId: 'alice', mentions: 1, createdAt: 't', updatedAt: 't'})",
        "MATCH (a:Entity {id: 'a'}), (b:Entity {id: 'b'}) CREATE (a)-[:RELATES {id: 'r', relationship: 'works_at', userId: 'alice', mentions: 1, createdAt: 't', updatedAt: 't'}]->(b)",
      ]) (await connection.query(text)).close();
      await connection.close();
      await database.close();
    })().catch((error) => { console.error(error.message); process.exit(1); });
  `;
  await run(process.execPath, ['-e', script, path], { cwd: packageRoot });
}

describeGraphStore({
  name: 'kuzu',
  create: () => createKuzuGraphStore({ path: newPath() }),
  server: 'embedded',
  additionalTests: ({ test, store }) => {
    test('embeddings round-trip exactly, whatever mix of integers and fractions', async () => {
      const scope = { userId: `exact-${randomUUID()}` };
      const embedding = [1, 0.1, -0, 3e-310, 0.30000000000000004, -2, 1e21, 0.5];
      const stored = entity(scope, 'exact', embedding);
      await store().upsertEntities({ entities: [stored] });
      const [match] = await store().findSimilarEntities({ namespace, scope, embedding, topK: 1 });
      expect(match?.entity.embedding).toEqual(embedding);
      expect(match?.score).toBeCloseTo(1, 9);
    });

    test('an all-zero query scores 0, like core’s cosine similarity', async () => {
      const scope = { userId: `zero-${randomUUID()}` };
      const stored = entity(scope, 'zero', [0, 0, 0, 0, 0, 0, 0, 0]);
      const other = entity(scope, 'axis', [1, 0, 0, 0, 0, 0, 0, 0]);
      await store().upsertEntities({ entities: [stored, other] });
      const found = await store().findSimilarEntities({
        namespace,
        scope,
        embedding: [0, 0, 0, 0, 0, 0, 0, 0],
        topK: 5,
      });
      expect(found.map((match) => match.score)).toEqual([0, 0]);
      const axis = await store().findSimilarEntities({
        namespace,
        scope,
        embedding: other.embedding,
        topK: 5,
      });
      expect(axis.map((match) => [match.entity.id, match.score])).toEqual([
        [other.id, 1],
        [stored.id, 0],
      ]);
    });

    test('a relation re-upserted between other entities moves', async () => {
      const scope = { userId: `move-${randomUUID()}` };
      const [a, b, c] = ['a', 'b', 'c'].map((name, index) =>
        entity(scope, name, [index + 1, 1, 0, 0, 0, 0, 0, 0]),
      ) as [GraphEntity, GraphEntity, GraphEntity];
      const edge = relation(scope, a, 'likes', b);
      await store().upsertEntities({ entities: [a, b, c] });
      await store().upsertRelations({ relations: [edge] });
      await store().upsertRelations({ relations: [{ ...edge, destinationId: c.id }] });
      const page = await store().list({ namespace, scope, limit: 10 });
      expect(page.triples.map((triple) => [triple.relation.id, triple.destination.id])).toEqual([
        [edge.id, c.id],
      ]);
    });

    test('a relation whose entities are missing is refused and nothing of the batch is written', async () => {
      const scope = { userId: `orphan-${randomUUID()}` };
      const a = entity(scope, 'a', [1, 0, 0, 0, 0, 0, 0, 0]);
      const b = entity(scope, 'b', [0, 1, 0, 0, 0, 0, 0, 0]);
      await store().upsertEntities({ entities: [a, b] });
      const good = relation(scope, a, 'knows', b);
      const orphan = relation(scope, a, 'knows', entity(scope, 'ghost', a.embedding));
      await expect(store().upsertRelations({ relations: [good, orphan] })).rejects.toSatisfy(
        (error) => InvalidArgumentError.isInstance(error),
      );
      expect((await store().list({ namespace, scope, limit: 10 })).triples).toEqual([]);
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

    test('close() releases the database: another process opens it, data persisted', async () => {
      const path = newPath();
      const own = createKuzuGraphStore({ path });
      await own.ensureSchema({ dimensions: 8 });
      const scope = { userId: 'persisted' };
      await own.upsertEntities({
        entities: [
          entity(scope, 'one', [1, 0, 0, 0, 0, 0, 0, 0]),
          entity(scope, 'two', [0, 1, 0, 0, 0, 0, 0, 0]),
        ],
      });
      // While the store is open another process cannot take the database's lock.
      const locked = await countInAnotherProcess(path).catch((caught: unknown) => caught);
      expect(String((locked as Error).message)).toMatch(/lock/i);
      expect(isRetryableKuzuError(locked)).toBe(true);
      await own.close();
      expect(await countInAnotherProcess(path)).toBe(2);
      const reopened = createKuzuGraphStore({ path });
      try {
        const found = await reopened.findSimilarEntities({
          namespace,
          scope,
          embedding: [1, 0, 0, 0, 0, 0, 0, 0],
          topK: 5,
        });
        expect(found.map((match) => match.entity.name)).toEqual(['one', 'two']);
        const mismatch = await reopened
          .ensureSchema({ dimensions: 16 })
          .catch((caught: unknown) => caught);
        expect(DimensionMismatchError.isInstance(mismatch)).toBe(true);
      } finally {
        await reopened.close();
      }
    }, 60_000);

    test('a database from before namespaces gives its graph the default collection', async () => {
      const path = newPath();
      mkdirSync(dirname(path), { recursive: true });
      await writeLegacyGraph(path);
      const upgraded = createKuzuGraphStore({ path });
      try {
        await upgraded.ensureSchema({ dimensions: 2 });
        const scope = { userId: 'alice' };
        const listed = await upgraded.list({ namespace: 'memories', scope, limit: 10 });
        expect(listed.triples.map((triple) => triple.relation.id)).toEqual(['r']);
        expect(listed.triples[0]!.relation.namespace).toBe('memories');
        expect(listed.triples[0]!.source.namespace).toBe('memories');
        expect((await upgraded.list({ namespace: 'p_b', scope, limit: 10 })).triples).toEqual([]);
        const similar = await upgraded.findSimilarEntities({
          namespace: 'memories',
          scope,
          embedding: [1, 0],
          topK: 5,
        });
        expect(similar.map((match) => match.entity.id)).toEqual(['a', 'b']);
        expect(await upgraded.deleteScope({ namespace: 'memories', scope })).toEqual({
          deleted: 3,
        });
      } finally {
        await upgraded.close();
      }
    }, 60_000);
  },
});
