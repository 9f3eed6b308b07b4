import { matchesScope, type Scope, type VectorRecord } from '@engram/core';
import fc from 'fast-check';
import { expect } from 'vitest';
import type { VectorStoreTestContext } from './harness.js';
import { listAll, makeRecord, randomSuffix, sortedIds } from './support.js';

// Look-alike ids (case, SQL LIKE wildcards, glob stars, quotes, non-Latin) so a store that
// matches scope loosely is caught.
const userNames = ['alice', 'Alice', 'bob', "o'brien", '世界', 'alice%'];
const agentNames = ['travel', 'chef', 'a_b', 'a-b'];
const runNames = ['run-1', 'run-2', 'run*'];

/** A scope with at least one field, drawn from small pools so that scopes overlap. */
const scopeArbitrary: fc.Arbitrary<Scope> = fc
  .record(
    {
      userId: fc.constantFrom(...userNames),
      agentId: fc.constantFrom(...agentNames),
      runId: fc.constantFrom(...runNames),
    },
    { requiredKeys: [] },
  )
  .filter((scope) => Object.keys(scope).length > 0);

function tagged(scope: Scope, tag: string): Scope {
  const result: Scope = {};
  if (scope.userId !== undefined) result.userId = `${tag}${scope.userId}`;
  if (scope.agentId !== undefined) result.agentId = `${tag}${scope.agentId}`;
  if (scope.runId !== undefined) result.runId = `${tag}${scope.runId}`;
  return result;
}

export function scopeIsolationSection(context: VectorStoreTestContext) {
  const { test, store, createCollection, dimensions, harness } = context;
  test(
    'query, list, count and delete in one scope never see or touch another scope',
    async () => {
      const collection = await createCollection('scope');
      await fc.assert(
        fc.asyncProperty(
          fc.array(scopeArbitrary, { minLength: 1, maxLength: 14 }),
          fc.array(scopeArbitrary, { minLength: 1, maxLength: 3 }),
          scopeArbitrary,
          async (recordScopes, queryScopes, deleteScope) => {
            // Each run has its own id prefix, so runs never see each other's records.
            const tag = `${randomSuffix(6)}:`;
            const records: VectorRecord[] = recordScopes.map((scope, index) =>
              makeRecord(dimensions, { ...tagged(scope, tag), text: `record ${index}` }),
            );
            await store().upsert({ collection, records });

            for (const rawScope of [...queryScopes, deleteScope]) {
              const scope = tagged(rawScope, tag);
              const expected = sortedIds(records.filter((record) => matchesScope(record, scope)));
              const label = JSON.stringify(scope);
              expect(
                sortedIds(await listAll(store(), { collection, scope, limit: 5 })),
                `list ${label}`,
              ).toEqual(expected);
              expect(await store().count({ collection, scope }), `count ${label}`).toBe(
                expected.length,
              );
              const matches = await store().query({
                collection,
                vector: records[0]!.vector,
                topK: records.length + 5,
                scope,
              });
              expect(sortedIds(matches.map((match) => match.record)), `query ${label}`).toEqual(
                expected,
              );
            }

            const doomedScope = tagged(deleteScope, tag);
            const survivors = records.filter((record) => !matchesScope(record, doomedScope));
            const result = await store().delete({ collection, scope: doomedScope });
            expect(result.deleted, `delete ${JSON.stringify(doomedScope)}`).toBe(
              records.length - survivors.length,
            );
            const remaining = await store().get({
              collection,
              ids: records.map((record) => record.id),
            });
            expect(sortedIds(remaining)).toEqual(sortedIds(survivors));
            for (const record of remaining) {
              const original = records.find((candidate) => candidate.id === record.id);
              expect(record.text).toBe(original?.text);
            }

            if (survivors.length > 0) {
              await store().delete({ collection, ids: survivors.map((record) => record.id) });
            }
          },
        ),
        { numRuns: 20 },
      );
    },
    (harness.timeout ?? 30_000) * 4,
  );

  test('a scope never matches records that lack the scope field', async () => {
    const collection = await createCollection('scope_missing');
    const records = [
      makeRecord(dimensions, { userId: 'holder' }),
      makeRecord(dimensions, { agentId: 'holder' }),
      makeRecord(dimensions, { runId: 'holder' }),
      makeRecord(dimensions, { userId: 'holder', agentId: 'holder', runId: 'holder' }),
    ];
    await store().upsert({ collection, records });
    for (const scope of [{ userId: 'holder' }, { agentId: 'holder' }, { runId: 'holder' }]) {
      const expected = sortedIds(records.filter((record) => matchesScope(record, scope)));
      expect(sortedIds(await listAll(store(), { collection, scope }))).toEqual(expected);
      expect(expected).toHaveLength(2);
    }
  });
}
