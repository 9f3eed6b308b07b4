import { scopeFields } from '@engram/core';
import { type CypherStatement, entityLabel, relationType } from '@engram/cypher-compatible';

export { entityLabel, relationType };

/** One Cypher statement and its parameters. Values only ever travel as parameters. */
export type MemgraphStatement = CypherStatement;

/**
 * Label-property indexes (id, namespace, scope fields) and the unique id constraint. Memgraph has no `IF NOT EXISTS`: creating
 * an existing index or constraint is answered with a notification, and the store also tolerates
 * an "already exists" error. They must run outside explicit transactions.
 */
export function schemaStatements(): MemgraphStatement[] {
  return [
    { text: `CREATE INDEX ON :${entityLabel}(id)`, parameters: {} },
    {
      text: `CREATE CONSTRAINT ON (n:${entityLabel}) ASSERT n.id IS UNIQUE`,
      parameters: {},
    },
    ...['namespace', ...scopeFields].map((field) => ({
      text: `CREATE INDEX ON :${entityLabel}(${field})`,
      parameters: {},
    })),
  ];
}
