import { describe, expect, it } from 'vitest';
import { schemaStatements, vectorIndexDimensionsStatement } from './neo4j-cypher.js';

describe('neo4j schema statements', () => {
  it('unique ids, namespace and scope indexes on nodes and edges, vector index only when asked', () => {
    const plain = schemaStatements().map((statement) => statement.text);
    expect(plain).toContain(
      'CREATE CONSTRAINT engram_entity_id IF NOT EXISTS FOR (n:EngramEntity) REQUIRE n.id IS UNIQUE',
    );
    expect(plain).toContain(
      'CREATE CONSTRAINT engram_relation_id IF NOT EXISTS FOR ()-[r:RELATES]-() REQUIRE r.id IS UNIQUE',
    );
    for (const field of ['namespace', 'userId', 'agentId', 'runId']) {
      expect(plain.some((text) => text.includes(`ON (n.${field})`))).toBe(true);
      expect(plain.some((text) => text.includes(`ON (r.${field})`))).toBe(true);
    }
    expect(plain.some((text) => text.includes('VECTOR INDEX'))).toBe(false);
    const withIndex = schemaStatements({ dimensions: 384 }).at(-1)!;
    expect(withIndex.text).toMatch(/^CREATE VECTOR INDEX engram_entity_embedding IF NOT EXISTS/);
    expect(withIndex.parameters).toEqual({ dimensions: 384, similarity: 'cosine' });
  });

  it('reads the length of the vector index by name', () => {
    expect(vectorIndexDimensionsStatement().parameters).toEqual({
      name: 'engram_entity_embedding',
      type: 'VECTOR',
    });
  });
});
