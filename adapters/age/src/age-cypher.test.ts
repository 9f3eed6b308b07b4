import { sampleGraphEntity, sampleGraphRelation } from '@engram/core/testing';
import { describe, expect, it } from 'vitest';
import {
  type AgeQuery,
  createEntityQuery,
  createRelationQuery,
  cypherSql,
  deleteRelationQuery,
  deleteScopeQueries,
  invalidateRelationsQuery,
  legacyNamespaceQueries,
  listQuery,
  neighboursQuery,
  parseAgtype,
  placePattern,
  scopeEntitiesQuery,
  scopePattern,
  updateEntityQuery,
  updateRelationQuery,
} from './age-cypher.js';

const entity = sampleGraphEntity();
const relation = sampleGraphRelation();

describe('the Cypher the AGE store sends', () => {
  const cases: [string, AgeQuery, RegExp, Record<string, unknown>][] = [
    [
      'a new entity (absent fields left out of the map)',
      createEntityQuery(entity),
      /^CREATE \(e:Entity \{id: \$id, name: \$name, type: \$type, embedding: \$embedding, namespace: \$namespace, userId: \$userId, mentions: \$mentions, metadata: \$metadata, createdAt: \$createdAt, updatedAt: \$updatedAt\}\) RETURN e\.id$/,
      {
        id: 'e1',
        embedding: [1, 0.5, 0],
        namespace: 'memories',
        metadata: '{"note":"café","nested":{"n":1}}',
      },
    ],
    [
      'an entity update (absent fields set to null, which removes them)',
      updateEntityQuery(entity),
      /^MATCH \(e:Entity \{id: \$id\}\) SET e\.name = \$name, .*e\.agentId = \$agentId, e\.runId = \$runId, .* RETURN e\.id$/,
      { id: 'e1', agentId: null, runId: null, mentions: 2 },
    ],
    [
      'a new relation between stored entities',
      createRelationQuery(relation),
      /^MATCH \(a:Entity \{id: \$sourceId\}\), \(b:Entity \{id: \$destinationId\}\) CREATE \(a\)-\[r:RELATES \{id: \$id, relationship: \$relationship, namespace: \$namespace, userId: \$userId, agentId: \$agentId, mentions: \$mentions, createdAt: \$createdAt, updatedAt: \$updatedAt\}\]->\(b\) RETURN r\.id$/,
      { sourceId: 'e1', destinationId: 'e2', namespace: 'memories', agentId: 'travel' },
    ],
    [
      'a relation update',
      updateRelationQuery(relation),
      /^MATCH \(\)-\[r:RELATES \{id: \$id\}\]->\(\) SET r\.relationship = \$relationship, .*r\.invalidatedAt = \$invalidatedAt RETURN r\.id$/,
      { invalidatedAt: null, runId: null },
    ],
    [
      'deleting a relation that moves',
      deleteRelationQuery('r1'),
      /^MATCH \(\)-\[r:RELATES \{id: \$id\}\]->\(\) DELETE r$/,
      { id: 'r1' },
    ],
    [
      'the scope’s entities',
      scopeEntitiesQuery({ namespace: 'p_a', scope: { userId: 'u', runId: 'r' } }),
      /^MATCH \(e:Entity \{namespace: \$scope_namespace, userId: \$scope_userId, runId: \$scope_runId\}\) RETURN properties\(e\)$/,
      { scope_namespace: 'p_a', scope_userId: 'u', scope_runId: 'r' },
    ],
    [
      'neighbours',
      neighboursQuery({ namespace: 'p_a', scope: { userId: 'u' }, entityIds: ['e1'], limit: 10 }),
      /^MATCH \(a:Entity\)-\[r:RELATES \{namespace: \$scope_namespace, userId: \$scope_userId\}\]->\(b:Entity\) WHERE r\.invalidatedAt IS NULL AND \(a\.id IN \$entityIds OR b\.id IN \$entityIds\) RETURN properties\(r\), properties\(a\), properties\(b\) ORDER BY r\.id LIMIT \$limit$/,
      { entityIds: ['e1'], limit: 10 },
    ],
    [
      'an invalidation',
      invalidateRelationsQuery({
        namespace: 'p_a',
        scope: { agentId: 'a' },
        relationIds: ['r1'],
        at: 'now',
      }),
      /^MATCH \(\)-\[r:RELATES \{namespace: \$scope_namespace, agentId: \$scope_agentId\}\]->\(\) WHERE r\.id IN \$relationIds AND r\.invalidatedAt IS NULL SET r\.invalidatedAt = \$at, r\.updatedAt = \$at RETURN r\.id$/,
      { relationIds: ['r1'], at: 'now' },
    ],
    [
      'a first page of valid relations',
      listQuery({ namespace: 'p_a', scope: { userId: 'u' }, limit: 5 }),
      /\{namespace: \$scope_namespace, userId: \$scope_userId\}\]->\(b:Entity\) WHERE r\.invalidatedAt IS NULL RETURN .* ORDER BY r\.id LIMIT \$limit$/,
      { limit: 6 },
    ],
    [
      'a later page with invalidated relations',
      listQuery({
        namespace: 'p_a',
        scope: { userId: 'u' },
        limit: 5,
        after: 'r9',
        includeInvalidated: true,
      }),
      /->\(b:Entity\) WHERE r\.id > \$after RETURN/,
      { limit: 6, after: 'r9' },
    ],
    [
      'deleting a scope’s entities',
      deleteScopeQueries({ namespace: 'p_a', scope: { userId: 'u' } }).deleteEntities,
      /^MATCH \(e:Entity \{namespace: \$scope_namespace, userId: \$scope_userId\}\) WITH e, e\.id AS id DETACH DELETE e RETURN count\(id\)$/,
      { scope_namespace: 'p_a', scope_userId: 'u' },
    ],
    [
      'the place pattern: the namespace, then the scope',
      { ...placePattern({ namespace: 'p_a', scope: { agentId: 'a' } }), columns: [] },
      /^\{namespace: \$scope_namespace, agentId: \$scope_agentId\}$/,
      { scope_namespace: 'p_a', scope_agentId: 'a' },
    ],
    [
      'legacy vertices get the default namespace',
      legacyNamespaceQueries('memories')[0]!,
      /^MATCH \(e:Entity\) WHERE e\.namespace IS NULL SET e\.namespace = \$namespace RETURN count\(e\)$/,
      { namespace: 'memories' },
    ],
    [
      'legacy edges get the default namespace',
      legacyNamespaceQueries('memories')[1]!,
      /^MATCH \(\)-\[r:RELATES\]->\(\) WHERE r\.namespace IS NULL SET r\.namespace = \$namespace RETURN count\(r\)$/,
      { namespace: 'memories' },
    ],
  ];

  it.each(cases)('%s', (_, query, text, parameters) => {
    expect(query.text).toMatch(text);
    expect(query.parameters).toMatchObject(parameters);
    for (const name of Object.keys(query.parameters)) expect(query.text).toContain(`$${name}`);
  });

  it('wraps Cypher in one SQL statement whose only parameter is the agtype map', () => {
    const query = scopeEntitiesQuery({ namespace: 'p_a', scope: { userId: 'u' } });
    expect(cypherSql('engram', query)).toBe(
      "SELECT * FROM ag_catalog.cypher('engram', $$ MATCH (e:Entity {namespace: $scope_namespace, userId: $scope_userId}) RETURN properties(e) $$, $1) AS (entity ag_catalog.agtype)",
    );
    expect(() => cypherSql("x'); DROP TABLE y; --", query)).toThrow();
  });

  it('never splices a value into the text', () => {
    const hostile = "x' $$ }) DETACH DELETE e //";
    const queries = [
      createEntityQuery({ ...entity, id: hostile, name: hostile, userId: hostile }),
      updateEntityQuery({ ...entity, metadata: { [hostile]: hostile } }),
      createRelationQuery({ ...relation, relationship: hostile }),
      listQuery({ namespace: hostile, scope: { userId: hostile }, limit: 1, after: hostile }),
      scopePattern({ userId: hostile, agentId: hostile, runId: hostile }),
    ];
    for (const query of queries) expect(query.text).not.toContain(hostile);
  });

  it('parses agtype text', () => {
    expect(parseAgtype('"a"')).toBe('a');
    expect(parseAgtype('12')).toBe(12);
    expect(parseAgtype(null)).toBeNull();
    expect(parseAgtype('{"id": "x::vertex", "list": [1, 0.5]}')).toEqual({
      id: 'x::vertex',
      list: [1, 0.5],
    });
    expect(parseAgtype('{"id": 1, "label": "Entity", "properties": {}}::vertex')).toMatchObject({
      label: 'Entity',
    });
  });
});
