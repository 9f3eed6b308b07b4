import { describe, expect, it } from 'vitest';
import {
  deleteScopeStatements,
  indexedSimilarEntitiesStatement,
  invalidateStatement,
  listStatement,
  type Neo4jStatement,
  neighboursStatement,
  schemaStatements,
  scopeCondition,
  similarEntitiesStatement,
  upsertEntitiesStatement,
  upsertRelationsStatements,
} from './neo4j-cypher.js';

const hostile = "alice' OR 1=1 //";

const cases: { name: string; statement: Neo4jStatement; text: RegExp[]; parameters: object }[] = [
  {
    name: 'scope condition: one field',
    statement: scopeCondition('n', { userId: 'alice' }),
    text: [/^n\.userId = \$userId$/],
    parameters: { userId: 'alice' },
  },
  {
    name: 'scope condition: every field, values never spliced',
    statement: scopeCondition('edge', { userId: hostile, agentId: 'a', runId: 'r' }),
    text: [/^edge\.userId = \$userId AND edge\.agentId = \$agentId AND edge\.runId = \$runId$/],
    parameters: { userId: hostile, agentId: 'a', runId: 'r' },
  },
  {
    name: 'upsert entities replaces the property map by id',
    statement: upsertEntitiesStatement([{ id: 'e1', name: 'alice' }]),
    text: [
      /UNWIND \$entities AS entity MERGE \(n:EngramEntity \{id: entity\.id\}\)/,
      /SET n = entity/,
    ],
    parameters: { entities: [{ id: 'e1', name: 'alice' }] },
  },
  {
    name: 'similarity: exact cosine within the scope, mapped from (1 + cos) / 2',
    statement: similarEntitiesStatement({
      scope: { userId: 'alice', runId: 'r1' },
      embedding: [1, 0],
      topK: 3,
      threshold: 0.5,
    }),
    text: [
      /^MATCH \(n:EngramEntity\) WHERE n\.userId = \$userId AND n\.runId = \$runId AND size\(n\.embedding\) = size\(\$embedding\)/,
      /2 \* vector\.similarity\.cosine\(n\.embedding, \$embedding\) - 1/,
      /any\(value IN n\.embedding WHERE value <> 0\)/,
      /WHERE score >= \$threshold/,
      /ORDER BY score DESC, n\.id ASC LIMIT \$topK$/,
    ],
    parameters: { userId: 'alice', runId: 'r1', embedding: [1, 0], topK: 3, threshold: 0.5 },
  },
  {
    name: 'similarity without threshold, all-zero query scores 0 without calling cosine',
    statement: similarEntitiesStatement({ scope: { agentId: 'a' }, embedding: [0, 0], topK: 2 }),
    text: [/WITH n, 0\.0 AS score RETURN/, /n\.agentId = \$agentId/],
    parameters: { agentId: 'a', embedding: [0, 0], topK: 2 },
  },
  {
    name: 'indexed similarity filters by the scope after the index',
    statement: indexedSimilarEntitiesStatement({
      scope: { userId: 'u' },
      embedding: [1],
      topK: 2,
      candidates: 200,
    }),
    text: [
      /^CALL db\.index\.vector\.queryNodes\(\$index, \$candidates, \$embedding\)/,
      /2 \* indexScore - 1 AS score WHERE n\.userId = \$userId/,
    ],
    parameters: {
      userId: 'u',
      index: 'engram_entity_embedding',
      candidates: 200,
      embedding: [1],
      topK: 2,
    },
  },
  {
    name: 'neighbours: valid relations of the scope, both directions',
    statement: neighboursStatement({ scope: { userId: 'u' }, entityIds: ['e1'], limit: 10 }),
    text: [
      /WHERE edge\.userId = \$userId AND edge\.invalidatedAt IS NULL/,
      /\(source\.id IN \$entityIds OR destination\.id IN \$entityIds\)/,
      /ORDER BY edge\.id ASC LIMIT \$limit$/,
    ],
    parameters: { userId: 'u', entityIds: ['e1'], limit: 10 },
  },
  {
    name: 'invalidate only valid relations of the scope',
    statement: invalidateStatement({ scope: { userId: 'u' }, relationIds: ['r1'], at: 't' }),
    text: [
      /edge\.id IN \$relationIds AND edge\.userId = \$userId AND edge\.invalidatedAt IS NULL/,
      /SET edge\.invalidatedAt = \$at, edge\.updatedAt = \$at$/,
    ],
    parameters: { userId: 'u', relationIds: ['r1'], at: 't' },
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
      limit: 5,
      after: 'r9',
      includeInvalidated: true,
    }),
    text: [/WHERE edge\.userId = \$userId AND edge\.id > \$after RETURN/],
    parameters: { userId: 'u', after: 'r9', limit: 6 },
  },
  {
    name: 'delete scope: relations',
    statement: deleteScopeStatements({ userId: 'u' }).relations,
    text: [/^MATCH \(\)-\[edge:RELATES\]->\(\) WHERE edge\.userId = \$userId DELETE edge/],
    parameters: { userId: 'u' },
  },
  {
    name: 'delete scope: entities',
    statement: deleteScopeStatements({ userId: 'u', agentId: 'a' }).entities,
    text: [/WHERE n\.userId = \$userId AND n\.agentId = \$agentId DETACH DELETE n/],
    parameters: { userId: 'u', agentId: 'a' },
  },
];

describe('neo4j Cypher statements', () => {
  it.each(cases)('$name', ({ statement, text, parameters }) => {
    for (const pattern of text) expect(statement.text).toMatch(pattern);
    expect(statement.parameters).toEqual(parameters);
    expect(statement.text).not.toContain(hostile);
  });

  it('relation upsert deletes the old edge by id, then creates it between existing nodes', () => {
    const { remove, create } = upsertRelationsStatements([
      { id: 'r1', sourceId: 's', destinationId: 'd', properties: { id: 'r1' } },
    ]);
    expect(remove.text).toBe('UNWIND $ids AS id MATCH ()-[old:RELATES {id: id}]->() DELETE old');
    expect(remove.parameters).toEqual({ ids: ['r1'] });
    expect(create.text).toMatch(/CREATE \(source\)-\[edge:RELATES\]->\(destination\)/);
    expect(create.text).toMatch(/RETURN relation\.id AS missing$/);
  });

  it('schema: unique ids, scope indexes on nodes and edges, vector index only when asked', () => {
    const plain = schemaStatements().map((statement) => statement.text);
    expect(plain).toContain(
      'CREATE CONSTRAINT engram_entity_id IF NOT EXISTS FOR (n:EngramEntity) REQUIRE n.id IS UNIQUE',
    );
    expect(plain).toContain(
      'CREATE CONSTRAINT engram_relation_id IF NOT EXISTS FOR ()-[r:RELATES]-() REQUIRE r.id IS UNIQUE',
    );
    for (const field of ['userId', 'agentId', 'runId']) {
      expect(plain.some((text) => text.includes(`ON (n.${field})`))).toBe(true);
      expect(plain.some((text) => text.includes(`ON (r.${field})`))).toBe(true);
    }
    expect(plain.some((text) => text.includes('VECTOR INDEX'))).toBe(false);
    const withIndex = schemaStatements({ dimensions: 384 }).at(-1)!;
    expect(withIndex.text).toMatch(/^CREATE VECTOR INDEX engram_entity_embedding IF NOT EXISTS/);
    expect(withIndex.parameters).toEqual({ dimensions: 384, similarity: 'cosine' });
  });
});
