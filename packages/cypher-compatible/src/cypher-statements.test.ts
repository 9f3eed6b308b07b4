import { cosineSimilarity } from '@engram/core';
import { describe, expect, it } from 'vitest';
import type { CypherDialect } from './cypher-dialect.js';
import * as cypher from './cypher-statements.js';

const hostile = "alice' OR 1=1 //";
const bolt: CypherDialect = { flavour: 'bolt', similarity: 'vector-function' };
const neptune: CypherDialect = { flavour: 'neptune', similarity: 'client' };

const cases: {
  name: string;
  statement: cypher.CypherStatement;
  text: RegExp[];
  parameters: object;
}[] = [
  {
    name: 'scope condition: one field',
    statement: cypher.scopeCondition('n', { userId: 'alice' }),
    text: [/^n\.userId = \$userId$/],
    parameters: { userId: 'alice' },
  },
  {
    name: 'scope condition: every field, values never spliced',
    statement: cypher.scopeCondition('edge', { userId: hostile, agentId: 'a', runId: 'r' }),
    text: [/^edge\.userId = \$userId AND edge\.agentId = \$agentId AND edge\.runId = \$runId$/],
    parameters: { userId: hostile, agentId: 'a', runId: 'r' },
  },
  {
    name: 'place condition: the namespace first, then the scope',
    statement: cypher.placeCondition('n', { namespace: hostile, scope: { userId: 'alice' } }),
    text: [/^n\.namespace = \$namespace AND n\.userId = \$userId$/],
    parameters: { namespace: hostile, userId: 'alice' },
  },
  {
    name: 'legacy nodes get the default namespace',
    statement: cypher.legacyNamespaceStatements('memories')[0]!,
    text: [/^MATCH \(n:EngramEntity\) WHERE n\.namespace IS NULL SET n\.namespace = \$namespace/],
    parameters: { namespace: 'memories' },
  },
  {
    name: 'legacy edges get the default namespace',
    statement: cypher.legacyNamespaceStatements('memories')[1]!,
    text: [
      /^MATCH \(\)-\[edge:RELATES\]->\(\) WHERE edge\.namespace IS NULL SET edge\.namespace = \$namespace/,
    ],
    parameters: { namespace: 'memories' },
  },
  {
    name: 'bolt: upsert entities replaces the property map by id',
    statement: cypher.upsertEntitiesStatement([{ id: 'e1', name: hostile }], bolt),
    text: [
      /^UNWIND \$entities AS entity MERGE \(n:EngramEntity \{id: entity\.id\}\) SET n = entity, n\.mentions = toInteger\(entity\.mentions\)$/,
    ],
    parameters: { entities: [{ id: 'e1', name: hostile }] },
  },
  {
    name: 'neptune: upsert entities sets every property by name',
    statement: cypher.upsertEntitiesStatement([{ id: 'e1' }], neptune),
    text: [
      /^UNWIND \$entities AS entity MERGE \(n:EngramEntity \{id: entity\.id\}\) SET n\.name = entity\.name, n\.type = entity\.type, n\.embedding = entity\.embedding, n\.namespace = entity\.namespace, n\.userId = entity\.userId, n\.agentId = entity\.agentId, n\.runId = entity\.runId, n\.mentions = entity\.mentions, n\.metadata = entity\.metadata, n\.createdAt = entity\.createdAt, n\.updatedAt = entity\.updatedAt$/,
    ],
    parameters: { entities: [{ id: 'e1' }] },
  },
  {
    name: 'missing endpoints: only ids travel',
    statement: cypher.missingEndpointsStatement([
      { id: 'r1', sourceId: 's', destinationId: 'd', extra: 1 } as never,
    ]),
    text: [/WHERE source IS NULL OR destination IS NULL RETURN relation\.id AS missing$/],
    parameters: { relations: [{ id: 'r1', sourceId: 's', destinationId: 'd' }] },
  },
  {
    name: 'vector function: exact cosine within the scope, mapped from (1 + cos) / 2',
    statement: cypher.similarEntitiesStatement(
      {
        namespace: 'p_a',
        scope: { userId: 'alice', runId: 'r1' },
        embedding: [1, 0],
        topK: 3,
        threshold: 0.5,
      },
      'vector-function',
    ),
    text: [
      /^MATCH \(n:EngramEntity\) WHERE n\.namespace = \$namespace AND n\.userId = \$userId AND n\.runId = \$runId AND size\(n\.embedding\) = size\(\$embedding\)/,
      /2 \* vector\.similarity\.cosine\(n\.embedding, \$embedding\) - 1/,
      /any\(value IN n\.embedding WHERE value <> 0\)/,
      /WHERE score >= \$threshold/,
      /ORDER BY score DESC, n\.id ASC LIMIT \$topK$/,
    ],
    parameters: {
      namespace: 'p_a',
      userId: 'alice',
      runId: 'r1',
      embedding: [1, 0],
      topK: 3,
      threshold: 0.5,
    },
  },
  {
    name: 'vector function: an all-zero query scores 0 without calling cosine',
    statement: cypher.similarEntitiesStatement(
      { namespace: 'p_a', scope: { agentId: 'a' }, embedding: [0, 0], topK: 2 },
      'vector-function',
    ),
    text: [/WITH n, 0\.0 AS score RETURN/, /n\.agentId = \$agentId/],
    parameters: { namespace: 'p_a', agentId: 'a', embedding: [0, 0], topK: 2 },
  },
  {
    name: 'arithmetic: cosine in Cypher within the scope, threshold before LIMIT',
    statement: cypher.similarEntitiesStatement(
      {
        namespace: 'p_a',
        scope: { userId: 'alice', agentId: 'a' },
        embedding: [3, 4],
        topK: 3,
        threshold: 0.5,
      },
      'arithmetic',
    ),
    text: [
      /^MATCH \(n:EngramEntity\) WHERE n\.namespace = \$namespace AND n\.userId = \$userId AND n\.agentId = \$agentId AND size\(n\.embedding\) = size\(\$embedding\)/,
      /reduce\(dot = 0\.0, i IN range\(0, size\(\$embedding\) - 1\) \| dot \+ n\.embedding\[i\] \* \$embedding\[i\]\)/,
      /CASE WHEN norm = 0 OR \$queryNormSquared = 0 THEN 0\.0 ELSE dot \/ sqrt\(norm \* \$queryNormSquared\) END/,
      /WHERE score >= \$threshold RETURN/,
      /ORDER BY score DESC, n\.id ASC LIMIT \$topK$/,
    ],
    parameters: {
      namespace: 'p_a',
      userId: 'alice',
      agentId: 'a',
      embedding: [3, 4],
      queryNormSquared: 25,
      topK: 3,
      threshold: 0.5,
    },
  },
  {
    name: 'indexed similarity filters by the scope after the index',
    statement: cypher.indexedSimilarEntitiesStatement({
      namespace: 'p_a',
      scope: { userId: 'u' },
      embedding: [1],
      topK: 2,
      candidates: 200,
    }),
    text: [
      /^CALL db\.index\.vector\.queryNodes\(\$index, \$candidates, \$embedding\)/,
      /2 \* indexScore - 1 AS score WHERE n\.namespace = \$namespace AND n\.userId = \$userId RETURN/,
    ],
    parameters: {
      namespace: 'p_a',
      userId: 'u',
      index: 'engram_entity_embedding',
      candidates: 200,
      embedding: [1],
      topK: 2,
    },
  },
  {
    name: 'bolt neighbours start from the id index, valid relations of the scope only',
    statement: cypher.neighboursStatement(
      { namespace: 'p_a', scope: { userId: 'u' }, entityIds: ['e1', 'e2'], limit: 7 },
      bolt,
    ),
    text: [
      /^MATCH \(touched:EngramEntity\) WHERE touched\.id IN \$entityIds/,
      /MATCH \(touched\)-\[edge:RELATES\]-\(\) WHERE edge\.namespace = \$namespace AND edge\.userId = \$userId AND edge\.invalidatedAt IS NULL/,
      /WITH DISTINCT edge RETURN properties\(edge\) AS relation, properties\(startNode\(edge\)\) AS source/,
      /ORDER BY edge\.id ASC LIMIT \$limit$/,
    ],
    parameters: { namespace: 'p_a', userId: 'u', entityIds: ['e1', 'e2'], limit: 7 },
  },
  {
    name: 'neptune neighbours: valid relations of the scope, both directions',
    statement: cypher.neighboursStatement(
      { namespace: 'p_a', scope: { userId: 'u' }, entityIds: ['e1'], limit: 10 },
      neptune,
    ),
    text: [
      /WHERE edge\.namespace = \$namespace AND edge\.userId = \$userId AND edge\.invalidatedAt IS NULL/,
      /\(source\.id IN \$entityIds OR destination\.id IN \$entityIds\)/,
      /ORDER BY edge\.id ASC LIMIT \$limit$/,
    ],
    parameters: { namespace: 'p_a', userId: 'u', entityIds: ['e1'], limit: 10 },
  },
  {
    name: 'invalidate only valid relations of the scope',
    statement: cypher.invalidateStatement({
      namespace: 'p_a',
      scope: { userId: 'u' },
      relationIds: ['r1'],
      at: 't',
    }),
    text: [
      /edge\.id IN \$relationIds AND edge\.namespace = \$namespace AND edge\.userId = \$userId AND edge\.invalidatedAt IS NULL/,
      /SET edge\.invalidatedAt = \$at, edge\.updatedAt = \$at$/,
    ],
    parameters: { namespace: 'p_a', userId: 'u', relationIds: ['r1'], at: 't' },
  },
  {
    name: 'list: first page asks for one more row',
    statement: cypher.listStatement({ namespace: 'p_a', scope: { userId: 'u' }, limit: 5 }),
    text: [
      /WHERE edge\.namespace = \$namespace AND edge\.userId = \$userId AND edge\.invalidatedAt IS NULL RETURN/,
    ],
    parameters: { namespace: 'p_a', userId: 'u', limit: 6 },
  },
  {
    name: 'list: after a cursor, with invalidated relations',
    statement: cypher.listStatement({
      namespace: 'p_a',
      scope: { userId: 'u' },
      limit: 5,
      after: 'r9',
      includeInvalidated: true,
    }),
    text: [
      /WHERE edge\.namespace = \$namespace AND edge\.userId = \$userId AND edge\.id > \$after RETURN/,
    ],
    parameters: { namespace: 'p_a', userId: 'u', after: 'r9', limit: 6 },
  },
  {
    name: 'bolt delete scope: relations, counted before deletion',
    statement: cypher.deleteScopeStatements({ namespace: 'p_a', scope: { userId: 'u' } }, bolt)
      .relations,
    text: [
      /^MATCH \(\)-\[edge:RELATES\]->\(\) WHERE edge\.namespace = \$namespace AND edge\.userId = \$userId WITH collect\(edge\) AS edges/,
      /FOREACH \(doomed IN edges \| DELETE doomed\) RETURN size\(edges\) AS deleted$/,
    ],
    parameters: { namespace: 'p_a', userId: 'u' },
  },
  {
    name: 'bolt delete scope: entities, detached',
    statement: cypher.deleteScopeStatements(
      { namespace: 'p_a', scope: { userId: 'u', runId: 'r' } },
      bolt,
    ).entities,
    text: [
      /WHERE n\.namespace = \$namespace AND n\.userId = \$userId AND n\.runId = \$runId WITH collect\(n\) AS nodes/,
      /FOREACH \(doomed IN nodes \| DETACH DELETE doomed\) RETURN size\(nodes\) AS deleted$/,
    ],
    parameters: { namespace: 'p_a', userId: 'u', runId: 'r' },
  },
  {
    name: 'neptune delete scope: relations unwound, no FOREACH',
    statement: cypher.deleteScopeStatements({ namespace: 'p_a', scope: { userId: 'u' } }, neptune)
      .relations,
    text: [
      /WITH collect\(edge\) AS edges, count\(edge\) AS deleted UNWIND edges AS doomed DELETE doomed RETURN DISTINCT deleted$/,
    ],
    parameters: { namespace: 'p_a', userId: 'u' },
  },
  {
    name: 'neptune delete scope: entities, detached',
    statement: cypher.deleteScopeStatements({ namespace: 'p_a', scope: { agentId: 'a' } }, neptune)
      .entities,
    text: [
      /^MATCH \(n:EngramEntity\) WHERE n\.namespace = \$namespace AND n\.agentId = \$agentId .*DETACH DELETE doomed/,
    ],
    parameters: { namespace: 'p_a', agentId: 'a' },
  },
];

describe('Cypher statements', () => {
  it.each(cases)('$name', ({ statement, text, parameters }) => {
    for (const pattern of text) expect(statement.text).toMatch(pattern);
    expect(statement.parameters).toEqual(parameters);
    expect(statement.text).not.toContain(hostile);
  });

  it('bolt relation writes: remove the old edge by id, then create it between the endpoints', () => {
    const relations = [{ id: 'r1', sourceId: 's', destinationId: 'd' }];
    const [remove, create] = cypher.writeRelationsStatements(relations, bolt);
    expect(remove!.text).toBe(
      'UNWIND $ids AS relationId MATCH ()-[old:RELATES]->() WHERE old.id = relationId DELETE old',
    );
    expect(remove!.parameters).toEqual({ ids: ['r1'] });
    expect(create!.text).toMatch(
      /CREATE \(source\)-\[edge:RELATES\]->\(destination\) SET edge = relation, edge\.mentions = toInteger\(relation\.mentions\)$/,
    );
    expect(create!.parameters).toEqual({ relations });
  });

  it('neptune relation writes: one query deletes and recreates, every property by name', () => {
    const relations = [{ id: 'r1', sourceId: 's', destinationId: 'd' }];
    const statements = cypher.writeRelationsStatements(relations, neptune);
    expect(statements).toHaveLength(1);
    expect(statements[0]!.text).toMatch(
      /^UNWIND \$relations AS relation OPTIONAL MATCH \(\)-\[old:RELATES \{id: relation\.id\}\]->\(\) DELETE old WITH DISTINCT relation MATCH/,
    );
    expect(statements[0]!.text).toMatch(
      /CREATE \(source\)-\[edge:RELATES \{id: relation\.id\}\]->\(destination\) SET edge\.relationship = relation\.relationship, .*edge\.invalidatedAt = relation\.invalidatedAt$/,
    );
    expect(statements[0]!.parameters).toEqual({ relations });
  });

  it('the arithmetic cosine is the reference formula (evaluated here in JavaScript)', () => {
    // Mirrors the statement's arithmetic step by step, to pin the formula to core's.
    const cypherCosine = (stored: number[], query: number[]) => {
      const queryNormSquared = query.reduce((sum, value) => sum + value * value, 0);
      const dot = stored.reduce((sum, value, index) => sum + value * query[index]!, 0);
      const norm = stored.reduce((sum, value) => sum + value * value, 0);
      return norm === 0 || queryNormSquared === 0 ? 0 : dot / Math.sqrt(norm * queryNormSquared);
    };
    for (const [stored, query] of [
      [
        [1, 0.1, 0],
        [1, 0, 0],
      ],
      [
        [0.3, -0.2, 0.9],
        [0.31, 0.5, 0.02],
      ],
      [
        [0, 0, 0],
        [1, 0, 0],
      ],
    ] as const) {
      expect(cypherCosine([...stored], [...query])).toBe(cosineSimilarity(stored, query));
    }
  });
});
