import { sampleGraphEntity, sampleGraphRelation } from '@engram/core/testing';
import { describe, expect, it } from 'vitest';
import {
  addNamespaceColumnStatement,
  deleteScopeStatements,
  embeddingLiteral,
  entityTableStatement,
  invalidateRelationsStatement,
  type KuzuStatement,
  listStatement,
  neighboursStatement,
  placeCondition,
  scopeCondition,
  similarEntitiesStatement,
  upsertEntityStatement,
  upsertRelationStatement,
} from './kuzu-cypher.js';

// -0 checks that the embedding literal keeps the sign of zero.
const entity = sampleGraphEntity({ embedding: [1, 0.5, -0] });
const relation = sampleGraphRelation();

describe('the Cypher the Kuzu store sends', () => {
  const cases: [string, KuzuStatement, RegExp, Record<string, unknown>][] = [
    [
      'a one-field scope',
      scopeCondition('e', { userId: 'alice' }),
      /^e\.userId = \$scope_userId$/,
      { scope_userId: 'alice' },
    ],
    [
      'a three-field scope',
      scopeCondition('r', { userId: 'u', agentId: 'a', runId: 'r' }),
      /^r\.userId = \$scope_userId AND r\.agentId = \$scope_agentId AND r\.runId = \$scope_runId$/,
      { scope_userId: 'u', scope_agentId: 'a', scope_runId: 'r' },
    ],
    [
      'a namespace and scope',
      placeCondition('e', { namespace: 'p_a', scope: { userId: 'alice' } }),
      /^e\.namespace = \$scope_namespace AND e\.userId = \$scope_userId$/,
      { scope_namespace: 'p_a', scope_userId: 'alice' },
    ],
    [
      'the namespace column for a database from before namespaces',
      addNamespaceColumnStatement('Entity', 'memories'),
      /^ALTER TABLE Entity ADD namespace STRING DEFAULT 'memories'$/,
      {},
    ],
    [
      'the entity table',
      entityTableStatement(384),
      /CREATE NODE TABLE IF NOT EXISTS Entity\(.*embedding DOUBLE\[384\], namespace STRING, .*PRIMARY KEY \(id\)\)/,
      {},
    ],
    [
      'an entity upsert',
      upsertEntityStatement(entity, 3),
      /^MERGE \(e:Entity \{id: \$id\}\) SET .*e\.embedding = CAST\(\$embedding AS DOUBLE\[3\]\)/,
      {
        id: 'e1',
        embedding: '[1,0.5,-0]',
        namespace: 'memories',
        userId: 'alice',
        agentId: null,
        runId: null,
        metadata: '{"note":"café","nested":{"n":1}}',
        mentions: 2,
      },
    ],
    [
      'a relation upsert',
      upsertRelationStatement(relation),
      /MATCH \(a:Entity \{id: \$sourceId\}\), \(b:Entity \{id: \$destinationId\}\) MERGE \(a\)-\[r:RELATES \{id: \$id\}\]->\(b\)/,
      {
        id: 'r1',
        sourceId: 'e1',
        destinationId: 'e2',
        namespace: 'memories',
        agentId: 'travel',
        runId: null,
        invalidatedAt: null,
      },
    ],
    [
      'a similarity lookup with a threshold',
      similarEntitiesStatement({
        namespace: 'p_a',
        scope: { userId: 'alice' },
        embedding: [0.25, 1],
        topK: 5,
        threshold: 0.7,
        dimensions: 2,
      }),
      /^MATCH \(e:Entity\) WHERE e\.namespace = \$scope_namespace AND e\.userId = \$scope_userId WITH e, array_cosine_similarity\(e\.embedding, CAST\(\$embedding AS DOUBLE\[2\]\)\) AS score WHERE score >= \$threshold RETURN e, score ORDER BY score DESC, e\.id LIMIT \$topK$/,
      {
        scope_namespace: 'p_a',
        scope_userId: 'alice',
        embedding: '[0.25,1]',
        threshold: 0.7,
        topK: 5,
      },
    ],
    [
      'a similarity lookup with an all-zero query',
      similarEntitiesStatement({
        namespace: 'p_a',
        scope: { runId: 'r' },
        embedding: [0, 0],
        topK: 3,
        dimensions: 2,
      }),
      /WITH e, CAST\(0 AS DOUBLE\) AS score RETURN/,
      { scope_runId: 'r', topK: 3 },
    ],
    [
      'neighbours',
      neighboursStatement({
        namespace: 'p_a',
        scope: { userId: 'alice' },
        entityIds: ['e1'],
        limit: 10,
      }),
      /WHERE r\.namespace = \$scope_namespace AND r\.userId = \$scope_userId AND r\.invalidatedAt IS NULL AND \(a\.id IN CAST\(\$entityIds AS STRING\[\]\) OR b\.id IN CAST\(\$entityIds AS STRING\[\]\)\) RETURN r, a, b ORDER BY r\.id LIMIT \$limit$/,
      { entityIds: ['e1'], limit: 10 },
    ],
    [
      'an invalidation',
      invalidateRelationsStatement({
        namespace: 'p_a',
        scope: { agentId: 'a' },
        relationIds: ['r1'],
        at: 'now',
      }),
      /WHERE r\.id IN CAST\(\$relationIds AS STRING\[\]\) AND r\.namespace = \$scope_namespace AND r\.agentId = \$scope_agentId AND r\.invalidatedAt IS NULL SET r\.invalidatedAt = \$at, r\.updatedAt = \$at$/,
      { relationIds: ['r1'], at: 'now', scope_agentId: 'a' },
    ],
    [
      'a first page of valid relations',
      listStatement({ namespace: 'p_a', scope: { userId: 'u' }, limit: 5 }),
      /WHERE r\.namespace = \$scope_namespace AND r\.userId = \$scope_userId AND r\.invalidatedAt IS NULL RETURN r, a, b ORDER BY r\.id LIMIT \$limit$/,
      { limit: 6 },
    ],
    [
      'a later page with invalidated relations',
      listStatement({
        namespace: 'p_a',
        scope: { userId: 'u' },
        limit: 5,
        after: 'r9',
        includeInvalidated: true,
      }),
      /WHERE r\.namespace = \$scope_namespace AND r\.userId = \$scope_userId AND r\.id > \$after RETURN/,
      { limit: 6, after: 'r9' },
    ],
    [
      'deleting a scope’s entities',
      deleteScopeStatements({ namespace: 'p_a', scope: { userId: 'u' } }).deleteEntities,
      /^MATCH \(e:Entity\) WHERE e\.namespace = \$scope_namespace AND e\.userId = \$scope_userId DETACH DELETE e$/,
      { scope_namespace: 'p_a', scope_userId: 'u' },
    ],
  ];

  it.each(cases)('%s', (_, statement, text, parameters) => {
    expect(statement.text).toMatch(text);
    expect(statement.parameters).toMatchObject(parameters);
    // Every parameter the statement binds is used in its text (Kuzu refuses unused ones).
    for (const name of Object.keys(statement.parameters)) {
      expect(statement.text).toContain(`$${name}`);
    }
  });

  it('never splices a value into the text', () => {
    const hostile = "x' }) DETACH DELETE e //";
    const statements = [
      upsertEntityStatement({ ...entity, id: hostile, name: hostile, userId: hostile }, 3),
      upsertRelationStatement({ ...relation, relationship: hostile }),
      listStatement({ namespace: hostile, scope: { userId: hostile }, limit: 1, after: hostile }),
    ];
    for (const statement of statements) expect(statement.text).not.toContain(hostile);
  });

  it('writes embeddings as literals that keep every value, -0 included', () => {
    expect(embeddingLiteral([1, 0.1, -0, 1e-310, 1e21])).toBe('[1,0.1,-0,1e-310,1e+21]');
  });
});
