import { cosineSimilarity } from '@engram/core';
import { describe, expect, it } from 'vitest';
import {
  deleteScopeStatements,
  invalidateStatement,
  listStatement,
  type MemgraphStatement,
  neighboursStatement,
  schemaStatements,
  scopeCondition,
  similarEntitiesStatement,
  upsertEntitiesStatement,
  upsertRelationsStatements,
} from './memgraph-cypher.js';

const hostile = "alice' OR 1=1 //";

const cases: { name: string; statement: MemgraphStatement; text: RegExp[]; parameters: object }[] =
  [
    {
      name: 'scope condition: every field, values never spliced',
      statement: scopeCondition('edge', { userId: hostile, agentId: 'a', runId: 'r' }),
      text: [/^edge\.userId = \$userId AND edge\.agentId = \$agentId AND edge\.runId = \$runId$/],
      parameters: { userId: hostile, agentId: 'a', runId: 'r' },
    },
    {
      name: 'upsert entities replaces the property map by id',
      statement: upsertEntitiesStatement([{ id: 'e1', name: hostile }]),
      text: [
        /^UNWIND \$entities AS entity MERGE \(n:EngramEntity \{id: entity\.id\}\) SET n = entity/,
      ],
      parameters: { entities: [{ id: 'e1', name: hostile }] },
    },
    {
      name: 'similarity: cosine in Cypher arithmetic within the scope, threshold before LIMIT',
      statement: similarEntitiesStatement({
        scope: { userId: 'alice', agentId: 'a' },
        embedding: [3, 4],
        topK: 3,
        threshold: 0.5,
      }),
      text: [
        /^MATCH \(n:EngramEntity\) WHERE n\.userId = \$userId AND n\.agentId = \$agentId AND size\(n\.embedding\) = size\(\$embedding\)/,
        /reduce\(dot = 0\.0, i IN range\(0, size\(\$embedding\) - 1\) \| dot \+ n\.embedding\[i\] \* \$embedding\[i\]\)/,
        /CASE WHEN norm = 0 OR \$queryNormSquared = 0 THEN 0\.0 ELSE dot \/ sqrt\(norm \* \$queryNormSquared\) END/,
        /WHERE score >= \$threshold RETURN/,
        /ORDER BY score DESC, n\.id ASC LIMIT \$topK$/,
      ],
      parameters: {
        userId: 'alice',
        agentId: 'a',
        embedding: [3, 4],
        queryNormSquared: 25,
        topK: 3,
        threshold: 0.5,
      },
    },
    {
      name: 'similarity without threshold',
      statement: similarEntitiesStatement({ scope: { runId: 'r' }, embedding: [0, 0], topK: 1 }),
      text: [/n\.runId = \$runId/, /END AS score RETURN properties\(n\) AS entity/],
      parameters: { runId: 'r', embedding: [0, 0], queryNormSquared: 0, topK: 1 },
    },
    {
      name: 'neighbours start from the id index, valid relations of the scope only',
      statement: neighboursStatement({ scope: { userId: 'u' }, entityIds: ['e1', 'e2'], limit: 7 }),
      text: [
        /^MATCH \(touched:EngramEntity\) WHERE touched\.id IN \$entityIds/,
        /MATCH \(touched\)-\[edge:RELATES\]-\(\) WHERE edge\.userId = \$userId AND edge\.invalidatedAt IS NULL/,
        /WITH DISTINCT edge RETURN properties\(edge\) AS relation, properties\(startNode\(edge\)\) AS source/,
        /ORDER BY edge\.id ASC LIMIT \$limit$/,
      ],
      parameters: { userId: 'u', entityIds: ['e1', 'e2'], limit: 7 },
    },
    {
      name: 'invalidate only valid relations of the scope',
      statement: invalidateStatement({ scope: { agentId: 'a' }, relationIds: ['r1'], at: 't' }),
      text: [
        /edge\.id IN \$relationIds AND edge\.agentId = \$agentId AND edge\.invalidatedAt IS NULL/,
        /SET edge\.invalidatedAt = \$at, edge\.updatedAt = \$at$/,
      ],
      parameters: { agentId: 'a', relationIds: ['r1'], at: 't' },
    },
    {
      name: 'list: first page asks for one more row',
      statement: listStatement({ scope: { userId: 'u' }, limit: 5 }),
      text: [/WHERE edge\.userId = \$userId AND edge\.invalidatedAt IS NULL RETURN/],
      parameters: { userId: 'u', limit: 6 },
    },
    {
      name: 'list: after a cursor, with invalidated relations',
      statement: listStatement({
        scope: { userId: 'u' },
        limit: 2,
        after: 'r9',
        includeInvalidated: true,
      }),
      text: [/WHERE edge\.userId = \$userId AND edge\.id > \$after RETURN/],
      parameters: { userId: 'u', after: 'r9', limit: 3 },
    },
    {
      name: 'delete scope: relations, counted before deletion',
      statement: deleteScopeStatements({ userId: 'u' }).relations,
      text: [
        /^MATCH \(\)-\[edge:RELATES\]->\(\) WHERE edge\.userId = \$userId WITH collect\(edge\) AS edges/,
        /FOREACH \(doomed IN edges \| DELETE doomed\) RETURN size\(edges\) AS deleted$/,
      ],
      parameters: { userId: 'u' },
    },
    {
      name: 'delete scope: entities, detached',
      statement: deleteScopeStatements({ userId: 'u', runId: 'r' }).entities,
      text: [
        /WHERE n\.userId = \$userId AND n\.runId = \$runId WITH collect\(n\) AS nodes/,
        /DETACH DELETE doomed/,
      ],
      parameters: { userId: 'u', runId: 'r' },
    },
  ];

describe('memgraph Cypher statements', () => {
  it.each(cases)('$name', ({ statement, text, parameters }) => {
    for (const pattern of text) expect(statement.text).toMatch(pattern);
    expect(statement.parameters).toEqual(parameters);
    expect(statement.text).not.toContain(hostile);
  });

  it('relation upsert: finds missing endpoints, removes the old edge, creates the new one', () => {
    const relations = [{ id: 'r1', sourceId: 's', destinationId: 'd', properties: { id: 'r1' } }];
    const { missing, remove, create } = upsertRelationsStatements(relations);
    expect(missing.text).toMatch(
      /WHERE source IS NULL OR destination IS NULL RETURN relation\.id AS missing$/,
    );
    expect(missing.parameters).toEqual({ relations });
    expect(remove.text).toBe(
      'UNWIND $ids AS relationId MATCH ()-[old:RELATES]->() WHERE old.id = relationId DELETE old',
    );
    expect(remove.parameters).toEqual({ ids: ['r1'] });
    expect(create.text).toMatch(
      /CREATE \(source\)-\[edge:RELATES\]->\(destination\) SET edge = relation\.properties/,
    );
    expect(create.parameters).toEqual({ relations });
  });

  it('schema: Memgraph index and constraint syntax (no IF NOT EXISTS, no parameters)', () => {
    expect(schemaStatements().map((statement) => statement.text)).toEqual([
      'CREATE INDEX ON :EngramEntity(id)',
      'CREATE CONSTRAINT ON (n:EngramEntity) ASSERT n.id IS UNIQUE',
      'CREATE INDEX ON :EngramEntity(userId)',
      'CREATE INDEX ON :EngramEntity(agentId)',
      'CREATE INDEX ON :EngramEntity(runId)',
    ]);
  });

  it('the Cypher cosine is the reference formula (evaluated here in JavaScript)', () => {
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
