import { describe, expect, it } from 'vitest';
import { schemaStatements } from './memgraph-cypher.js';

describe('memgraph schema statements', () => {
  it('Memgraph index and constraint syntax (no IF NOT EXISTS, no parameters)', () => {
    expect(schemaStatements().map((statement) => statement.text)).toEqual([
      'CREATE INDEX ON :EngramEntity(id)',
      'CREATE CONSTRAINT ON (n:EngramEntity) ASSERT n.id IS UNIQUE',
      'CREATE INDEX ON :EngramEntity(namespace)',
      'CREATE INDEX ON :EngramEntity(userId)',
      'CREATE INDEX ON :EngramEntity(agentId)',
      'CREATE INDEX ON :EngramEntity(runId)',
    ]);
  });
});
