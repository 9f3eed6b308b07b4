import {
  ClosedError,
  type GraphStore,
  InvalidArgumentError,
  matchesScope,
  type Scope,
} from '@engram/core';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import {
  graphEntity as entity,
  fixtureNamespace as namespace,
  graphRelation as relation,
  fixtureTime as time,
} from './graph-fixtures.js';
import { namespaceIsolationSection } from './graph-store-namespaces.js';
import type { ServerOrigin, TestBody } from './harness.js';
import { defaultTimeout, randomSuffix, storeHolder, suiteTitle, testRegistrar } from './support.js';

/** What {@link describeGraphStore} needs from an adapter's test file. */
export interface GraphStoreHarness {
  /** Adapter name shown in test titles, e.g. `kuzu`. */
  name: string;
  /** Creates a fresh store. Called once per file, and once more by the `close` section. */
  create: () => Promise<GraphStore> | GraphStore;
  /** Embedding length. Default 8. */
  dimensions?: number;
  /** Why the suite cannot run here; every test is then reported as skipped with this reason. */
  skip?: string;
  /** Where the server came from, for the adapter matrix. */
  server?: ServerOrigin;
  /** Timeout of each test in milliseconds. Default 30,000. */
  timeout?: number;
  /** The adapter's own extra tests, registered inside the suite with the same skip rule. */
  additionalTests?: (context: {
    store: () => GraphStore;
    test: (name: string, body: TestBody, timeout?: number) => void;
  }) => void;
}

function unitVector(dimensions: number, axis: number, tilt = 0): number[] {
  const vector = new Array<number>(dimensions).fill(0);
  vector[axis % dimensions] = 1;
  vector[(axis + 1) % dimensions] = tilt;
  const norm = Math.hypot(...vector);
  return vector.map((value) => value / norm);
}

/**
 * Registers the shared `GraphStore` conformance suite: round trips, similarity within a scope,
 * soft invalidation, scope and namespace isolation (property-based), deleteScope, idempotent
 * re-upsert, concurrency and close. Every test uses scope ids of its own, so suites can share a
 * server.
 */
export function describeGraphStore(harness: GraphStoreHarness): void {
  const dimensions = harness.dimensions ?? 8;
  const test = testRegistrar(harness.skip, harness.timeout ?? defaultTimeout);
  const store = storeHolder<GraphStore>();
  const current = store.current;
  const user = (label: string): Scope => ({ userId: `${label}-${randomSuffix(8)}` });

  describe(suiteTitle('GraphStore', harness), () => {
    if (harness.skip === undefined) {
      beforeAll(async () => {
        await store.set(await harness.create()).ensureSchema({ dimensions });
      }, 300_000);
      afterAll(async () => {
        await store.created?.close();
      });
    }

    describe('entities and relations', () => {
      test('round-trips entities and relations, hides nothing valid', async () => {
        const scope = user('round');
        const alice = entity(scope, 'alice', unitVector(dimensions, 0), {
          metadata: { note: 'café ✓', nested: { n: 1 } },
        });
        const acme = entity(scope, 'acme', unitVector(dimensions, 2), { type: 'company' });
        const works = relation(scope, alice, 'works_at', acme);
        await current().upsertEntities({ entities: [alice, acme] });
        await current().upsertRelations({ relations: [works] });
        const page = await current().list({ namespace, scope, limit: 10 });
        expect(page.triples).toHaveLength(1);
        const [triple] = page.triples;
        expect(triple!.relation).toMatchObject({
          id: works.id,
          relationship: 'works_at',
          sourceId: alice.id,
          destinationId: acme.id,
          mentions: 1,
          invalidatedAt: null,
        });
        expect(triple!.source).toMatchObject({
          id: alice.id,
          name: 'alice',
          type: 'person',
          mentions: 1,
        });
        expect(triple!.destination).toMatchObject({ id: acme.id, name: 'acme', type: 'company' });
        const neighbours = await current().neighbours({
          namespace,
          scope,
          entityIds: [acme.id],
          limit: 10,
        });
        expect(neighbours.map((found) => found.relation.id)).toEqual([works.id]);
      });

      test('re-upserting by id replaces (idempotent), e.g. to count mentions', async () => {
        const scope = user('again');
        const alice = entity(scope, 'alice', unitVector(dimensions, 0));
        const bob = entity(scope, 'bob', unitVector(dimensions, 1));
        const knows = relation(scope, alice, 'knows', bob);
        for (let round = 0; round < 3; round++) {
          await current().upsertEntities({ entities: [alice, bob] });
          await current().upsertRelations({ relations: [knows] });
        }
        await current().upsertRelations({ relations: [{ ...knows, mentions: 4 }] });
        await current().upsertEntities({ entities: [{ ...alice, mentions: 7 }] });
        const page = await current().list({ namespace, scope, limit: 10 });
        expect(page.triples).toHaveLength(1);
        expect(page.triples[0]!.relation.mentions).toBe(4);
        expect(page.triples[0]!.source.mentions).toBe(7);
      });

      test('pages through relations with a cursor, nothing missing or repeated', async () => {
        const scope = user('pages');
        const hub = entity(scope, 'hub', unitVector(dimensions, 0));
        const others = Array.from({ length: 23 }, (_, index) =>
          entity(scope, `node ${index}`, unitVector(dimensions, index + 1)),
        );
        await current().upsertEntities({ entities: [hub, ...others] });
        const relations = others.map((other) => relation(scope, hub, 'links', other));
        await current().upsertRelations({ relations });
        const seen: string[] = [];
        let cursor: string | undefined;
        do {
          const page = await current().list({
            namespace,
            scope,
            limit: 5,
            ...(cursor ? { cursor } : {}),
          });
          seen.push(...page.triples.map((triple) => triple.relation.id));
          cursor = page.nextCursor;
        } while (cursor);
        expect(seen.sort()).toEqual(relations.map((item) => item.id).sort());
      });
    });

    describe('similarity', () => {
      test('finds the most similar entities of the scope, best first, with cosine scores', async () => {
        const scope = user('similar');
        const other = user('similar-other');
        const near = entity(scope, 'near', unitVector(dimensions, 0, 0.1));
        const far = entity(scope, 'far', unitVector(dimensions, 3));
        const foreign = entity(other, 'foreign', unitVector(dimensions, 0));
        await current().upsertEntities({ entities: [near, far, foreign] });
        const found = await current().findSimilarEntities({
          namespace,
          scope,
          embedding: unitVector(dimensions, 0),
          topK: 5,
        });
        expect(found.map((match) => match.entity.id)).toEqual([near.id, far.id]);
        expect(found[0]!.score).toBeCloseTo(1 / Math.hypot(1, 0.1), 3);
        expect(found[1]!.score).toBeCloseTo(0, 3);
        const thresholded = await current().findSimilarEntities({
          namespace,
          scope,
          embedding: unitVector(dimensions, 0),
          topK: 5,
          threshold: 0.5,
        });
        expect(thresholded.map((match) => match.entity.id)).toEqual([near.id]);
      });
    });

    describe('invalidation', () => {
      test('an invalidated relation keeps its history but leaves answers', async () => {
        const scope = user('invalid');
        const alice = entity(scope, 'alice', unitVector(dimensions, 0));
        const oslo = entity(scope, 'oslo', unitVector(dimensions, 1));
        const bergen = entity(scope, 'bergen', unitVector(dimensions, 2));
        const old = relation(scope, alice, 'lives_in', oslo);
        const now = relation(scope, alice, 'lives_in', bergen);
        await current().upsertEntities({ entities: [alice, oslo, bergen] });
        await current().upsertRelations({ relations: [old, now] });
        const at = '2024-06-01T12:00:00.000Z';
        await current().invalidateRelations({ namespace, scope, relationIds: [old.id], at });
        const valid = await current().list({ namespace, scope, limit: 10 });
        expect(valid.triples.map((triple) => triple.relation.id)).toEqual([now.id]);
        const neighbours = await current().neighbours({
          namespace,
          scope,
          entityIds: [alice.id],
          limit: 10,
        });
        expect(neighbours.map((triple) => triple.relation.id)).toEqual([now.id]);
        const everything = await current().list({
          namespace,
          scope,
          limit: 10,
          includeInvalidated: true,
        });
        const kept = everything.triples.find((triple) => triple.relation.id === old.id);
        expect(kept?.relation.invalidatedAt).toBe(at);
      });

      test('cannot invalidate another scope’s relation', async () => {
        const scope = user('mine');
        const other = user('theirs');
        const a = entity(other, 'a', unitVector(dimensions, 0));
        const b = entity(other, 'b', unitVector(dimensions, 1));
        const theirs = relation(other, a, 'knows', b);
        await current().upsertEntities({ entities: [a, b] });
        await current().upsertRelations({ relations: [theirs] });
        await current().invalidateRelations({
          namespace,
          scope,
          relationIds: [theirs.id],
          at: time,
        });
        expect((await current().list({ namespace, scope: other, limit: 10 })).triples).toHaveLength(
          1,
        );
      });
    });

    describe('scope isolation', () => {
      test('no lookup, neighbour, list or deleteScope crosses scopes (property-based)', async () => {
        const suffix = randomSuffix(6);
        const scopeArbitrary = fc.record(
          {
            userId: fc.constantFrom(`u1-${suffix}`, `u2-${suffix}`),
            agentId: fc.constantFrom(`a1-${suffix}`, `a2-${suffix}`),
          },
          { requiredKeys: ['userId'] },
        );
        await fc.assert(
          fc.asyncProperty(
            fc.array(scopeArbitrary, { minLength: 2, maxLength: 6 }),
            scopeArbitrary,
            async (scopes, probe) => {
              const run = randomSuffix(6);
              const tag = (scope: Scope): Scope => ({
                userId: `${scope.userId}-${run}`,
                ...(scope.agentId ? { agentId: `${scope.agentId}-${run}` } : {}),
              });
              const created = scopes.map((scope, index) => {
                const tagged = tag(scope);
                const source = entity(tagged, `s${index}`, unitVector(dimensions, index));
                const destination = entity(tagged, `d${index}`, unitVector(dimensions, index + 1));
                return {
                  scope: tagged,
                  source,
                  destination,
                  edge: relation(tagged, source, 'r', destination),
                };
              });
              await current().upsertEntities({
                entities: created.flatMap((item) => [item.source, item.destination]),
              });
              await current().upsertRelations({ relations: created.map((item) => item.edge) });
              const probeScope = tag(probe);
              const expected = created.filter((item) => matchesScope(item.scope, probeScope));
              const listed = await current().list({ namespace, scope: probeScope, limit: 100 });
              expect(listed.triples.map((triple) => triple.relation.id).sort()).toEqual(
                expected.map((item) => item.edge.id).sort(),
              );
              const similar = await current().findSimilarEntities({
                namespace,
                scope: probeScope,
                embedding: unitVector(dimensions, 0),
                topK: 100,
              });
              const allowed = new Set(
                expected.flatMap((item) => [item.source.id, item.destination.id]),
              );
              for (const match of similar) expect(allowed.has(match.entity.id)).toBe(true);
              const neighbours = await current().neighbours({
                namespace,
                scope: probeScope,
                entityIds: created.map((item) => item.source.id),
                limit: 100,
              });
              expect(neighbours.map((triple) => triple.relation.id).sort()).toEqual(
                expected.map((item) => item.edge.id).sort(),
              );
              await current().deleteScope({ namespace, scope: probeScope });
              for (const item of created) {
                const remaining = await current().list({
                  namespace,
                  scope: item.scope,
                  limit: 100,
                });
                const stillThere = remaining.triples.some(
                  (triple) => triple.relation.id === item.edge.id,
                );
                expect(stillThere).toBe(!matchesScope(item.scope, probeScope));
              }
              for (const item of created)
                await current().deleteScope({ namespace, scope: item.scope });
            },
          ),
          { numRuns: 12 },
        );
      }, 240_000);

      test('calls without a scope are refused with InvalidArgumentError', async () => {
        const error = await current()
          .deleteScope({ namespace, scope: {} })
          .then(
            () => undefined,
            (caught: unknown) => caught,
          );
        expect(InvalidArgumentError.isInstance(error)).toBe(true);
      });
    });

    describe('namespace isolation', () => {
      namespaceIsolationSection({
        store: current,
        test,
        dimensions,
        timeout: harness.timeout ?? defaultTimeout,
      });
    });

    describe('concurrency', () => {
      test('50 concurrent upserts and lookups', async () => {
        const scope = user('concurrent');
        await Promise.all(
          Array.from({ length: 50 }, async (_, index) => {
            const source = entity(scope, `s${index}`, unitVector(dimensions, index));
            const destination = entity(scope, `d${index}`, unitVector(dimensions, index + 2));
            await current().upsertEntities({ entities: [source, destination] });
            await current().upsertRelations({
              relations: [relation(scope, source, 'r', destination)],
            });
            await current().findSimilarEntities({
              namespace,
              scope,
              embedding: source.embedding,
              topK: 3,
            });
          }),
        );
        const listed = await current().list({ namespace, scope, limit: 200 });
        expect(listed.triples).toHaveLength(50);
      });
    });

    describe('close', () => {
      test('calls after close reject with ClosedError', async () => {
        const own = await harness.create();
        await own.ensureSchema({ dimensions });
        await own.close();
        const error = await own.list({ namespace, scope: user('closed'), limit: 1 }).then(
          () => undefined,
          (caught: unknown) => caught,
        );
        expect(ClosedError.isInstance(error)).toBe(true);
        await own.close();
      });
    });

    if (harness.additionalTests) {
      describe('additional', () => harness.additionalTests!({ store: current, test }));
    }
  });
}
