import {
  type GraphEntity,
  type GraphRelation,
  type GraphStore,
  type GraphTriple,
  InvalidArgumentError,
  matchesScope,
  type Scope,
} from '@engram/core';
import fc from 'fast-check';
import { expect } from 'vitest';
import { graphEntity, graphRelation } from './graph-fixtures.js';
import type { TestBody } from './harness.js';
import { caught, randomSuffix } from './support.js';

/** What the namespace sections need from the graph suite. */
export interface GraphNamespaceContext {
  store: () => GraphStore;
  test: (name: string, body: TestBody, timeout?: number) => void;
  dimensions: number;
  timeout: number;
}

/** One relation with its two entities, all in one namespace and scope. */
interface Edge {
  scope: Scope;
  source: GraphEntity;
  destination: GraphEntity;
  relation: GraphRelation;
}

type Operation =
  | { kind: 'add'; scope: Scope }
  | { kind: 'invalidate'; pick: number }
  | { kind: 'deleteScope'; scope: Scope };

/** Scopes from small pools, so that the two namespaces share every scope id. */
const scopeArbitrary: fc.Arbitrary<Scope> = fc.record(
  { userId: fc.constantFrom('alice', 'Alice', 'bob'), agentId: fc.constantFrom('chef', 'travel') },
  { requiredKeys: ['userId'] },
);

const operationArbitrary: fc.Arbitrary<Operation> = fc.oneof(
  { weight: 3, arbitrary: scopeArbitrary.map((scope) => ({ kind: 'add' as const, scope })) },
  { weight: 2, arbitrary: fc.nat().map((pick) => ({ kind: 'invalidate' as const, pick })) },
  {
    weight: 1,
    arbitrary: fc
      .record({ userId: fc.constantFrom('alice', 'Alice', 'bob') })
      .chain((base) =>
        fc.oneof(
          fc.constant(base),
          fc.constantFrom('chef', 'travel').map((agentId) => ({ ...base, agentId })),
        ),
      )
      .map((scope) => ({ kind: 'deleteScope' as const, scope })),
  },
);

function axis(dimensions: number, index: number): number[] {
  const vector = new Array<number>(dimensions).fill(0);
  vector[index % dimensions] = 1;
  return vector;
}

function byRelationId(triples: GraphTriple[]): GraphTriple[] {
  return [...triples].sort((left, right) => (left.relation.id < right.relation.id ? -1 : 1));
}

/**
 * Property-based isolation of namespaces: two namespaces use the same scope ids; random upserts,
 * invalidations and deleteScope calls in one leave every read of the other unchanged, and the
 * first one's own reads follow a model that knows nothing of the other.
 */
export function namespaceIsolationSection(context: GraphNamespaceContext): void {
  const { store, test, dimensions, timeout } = context;

  test(
    'no call in one namespace reads or touches another namespace with the same scope ids (property-based)',
    async () => {
      const suffix = randomSuffix(6);
      // One namespace is a prefix of the other, so a store that matches loosely is caught.
      const active = `ns_${suffix}`;
      const bystander = `ns_${suffix}_b`;
      await fc.assert(
        fc.asyncProperty(
          fc.array(scopeArbitrary, { minLength: 1, maxLength: 4 }),
          fc.array(operationArbitrary, { minLength: 1, maxLength: 8 }),
          async (seedScopes, operations) => {
            const run = randomSuffix(6);
            const tag = (scope: Scope): Scope => ({
              userId: `${scope.userId}-${run}`,
              ...(scope.agentId ? { agentId: `${scope.agentId}-${run}` } : {}),
            });
            const edge = (namespace: string, scope: Scope, index: number): Edge => {
              const tagged = tag(scope);
              const fields = { namespace };
              // Both namespaces get the same names and embeddings, so similarity cannot tell them apart.
              const source = graphEntity(tagged, `s${index}`, axis(dimensions, index), fields);
              const destination = graphEntity(
                tagged,
                `d${index}`,
                axis(dimensions, index + 1),
                fields,
              );
              const relation = graphRelation(tagged, source, 'r', destination);
              return { scope: tagged, source, destination, relation };
            };
            const write = async (edges: Edge[]) => {
              await store().upsertEntities({
                entities: edges.flatMap((item) => [item.source, item.destination]),
              });
              await store().upsertRelations({ relations: edges.map((item) => item.relation) });
            };

            const theirs = seedScopes.map((scope, index) => edge(bystander, scope, index));
            await write(theirs);
            await store().invalidateRelations({
              namespace: bystander,
              scope: theirs[0]!.scope,
              relationIds: [theirs[0]!.relation.id],
              at: '2024-06-01T00:00:00.000Z',
            });
            const probes = [
              ...new Map(
                [...seedScopes, ...operations.flatMap((op) => ('scope' in op ? [op.scope] : []))]
                  .flatMap((scope) => [tag(scope), tag({ userId: scope.userId! })])
                  .map((scope) => [JSON.stringify(scope), scope]),
              ).values(),
            ];
            const read = async (namespace: string, entityIds: string[]) =>
              Promise.all(
                probes.map(async (scope) => ({
                  listed: byRelationId(
                    (
                      await store().list({
                        namespace,
                        scope,
                        limit: 100,
                        includeInvalidated: true,
                      })
                    ).triples,
                  ),
                  similar: (
                    await store().findSimilarEntities({
                      namespace,
                      scope,
                      embedding: axis(dimensions, 0),
                      topK: 100,
                    })
                  ).map((match) => match.entity.id),
                  neighbours: byRelationId(
                    await store().neighbours({ namespace, scope, entityIds, limit: 100 }),
                  ).map((triple) => triple.relation.id),
                })),
              );
            const theirIds = theirs.flatMap((item) => [item.source.id, item.destination.id]);
            const before = await read(bystander, theirIds);

            const mine: Edge[] = [];
            const invalidated = new Set<string>();
            for (const [index, operation] of operations.entries()) {
              if (operation.kind === 'add') {
                const added = edge(active, operation.scope, index);
                await write([added]);
                mine.push(added);
              } else if (operation.kind === 'invalidate') {
                // Half of the picks name the other namespace's relations.
                const candidates = [...mine, ...theirs];
                const target = candidates[operation.pick % candidates.length]!;
                await store().invalidateRelations({
                  namespace: active,
                  scope: target.scope,
                  relationIds: [target.relation.id],
                  at: '2024-07-01T00:00:00.000Z',
                });
                if (mine.includes(target)) invalidated.add(target.relation.id);
              } else {
                const scope = tag(operation.scope);
                const doomed = mine.filter((item) => matchesScope(item.scope, scope));
                const result = await store().deleteScope({ namespace: active, scope });
                expect(result.deleted, `deleteScope ${JSON.stringify(scope)}`).toBe(
                  doomed.length * 3,
                );
                for (const item of doomed) mine.splice(mine.indexOf(item), 1);
              }
            }

            const myIds = mine.flatMap((item) => [item.source.id, item.destination.id]);
            expect(await read(bystander, [...theirIds, ...myIds])).toEqual(before);
            for (const scope of probes) {
              const listed = await store().list({
                namespace: active,
                scope,
                limit: 100,
                includeInvalidated: true,
              });
              const expected = mine.filter((item) => matchesScope(item.scope, scope));
              expect(
                byRelationId(listed.triples).map((triple) => [
                  triple.relation.id,
                  triple.relation.namespace,
                  triple.source.namespace,
                  triple.relation.invalidatedAt !== null,
                ]),
                `list ${JSON.stringify(scope)} in ${active}`,
              ).toEqual(
                expected
                  .map((item) => item.relation.id)
                  .sort()
                  .map((id) => [id, active, active, invalidated.has(id)]),
              );
            }

            for (const namespace of [active, bystander]) {
              for (const scope of probes) await store().deleteScope({ namespace, scope });
            }
          },
        ),
        { numRuns: 10 },
      );
    },
    timeout * 8,
  );

  test('deleteScope in one namespace leaves the same scope of another whole', async () => {
    const scope: Scope = { userId: `alice-${randomSuffix(8)}` };
    const [first, second] = [`p_${randomSuffix(6)}`, `p_${randomSuffix(6)}`];
    const edges = [first, second].map((namespace) => {
      const source = graphEntity(scope, 'alice', axis(dimensions, 0), { namespace });
      const destination = graphEntity(scope, 'acme', axis(dimensions, 1), { namespace });
      return {
        source,
        destination,
        relation: graphRelation(scope, source, 'works_at', destination),
      };
    });
    await store().upsertEntities({
      entities: edges.flatMap((item) => [item.source, item.destination]),
    });
    await store().upsertRelations({ relations: edges.map((item) => item.relation) });
    expect(await store().deleteScope({ namespace: first, scope })).toEqual({ deleted: 3 });
    expect((await store().list({ namespace: first, scope, limit: 10 })).triples).toEqual([]);
    const kept = await store().list({ namespace: second, scope, limit: 10 });
    expect(kept.triples.map((triple) => triple.relation.id)).toEqual([edges[1]!.relation.id]);
    expect(kept.triples[0]!.relation.namespace).toBe(second);
    expect(kept.triples[0]!.source.namespace).toBe(second);
    const found = await store().findSimilarEntities({
      namespace: second,
      scope,
      embedding: axis(dimensions, 0),
      topK: 10,
    });
    expect(found.map((match) => match.entity.id)).toEqual([
      edges[1]!.source.id,
      edges[1]!.destination.id,
    ]);
    await store().deleteScope({ namespace: second, scope });
  });

  test('calls with an empty namespace are refused with InvalidArgumentError', async () => {
    const scope = { userId: `empty-${randomSuffix(8)}` };
    for (const namespace of ['', '   ']) {
      const calls = [
        () => store().list({ namespace, scope, limit: 1 }),
        () => store().deleteScope({ namespace, scope }),
        () => store().neighbours({ namespace, scope, entityIds: ['x'], limit: 1 }),
        () => store().invalidateRelations({ namespace, scope, relationIds: ['x'], at: '' }),
        () =>
          store().findSimilarEntities({
            namespace,
            scope,
            embedding: axis(dimensions, 0),
            topK: 1,
          }),
      ];
      for (const call of calls) {
        const error = await caught(call);
        expect(InvalidArgumentError.isInstance(error), String(error)).toBe(true);
      }
      const orphan = graphEntity(scope, 'orphan', axis(dimensions, 0), { namespace });
      const error = await caught(() => store().upsertEntities({ entities: [orphan] }));
      expect(InvalidArgumentError.isInstance(error), String(error)).toBe(true);
    }
  });
}
