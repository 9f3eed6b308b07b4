import { scopeFields } from '@engram/core';
import {
  type CypherStatement,
  entityLabel,
  relationType,
  vectorIndexName,
} from '@engram/cypher-compatible';

export { entityLabel, relationType, vectorIndexName };

/** One Cypher statement and its parameters. Values only ever travel as parameters. */
export type Neo4jStatement = CypherStatement;

/**
 * Constraints and indexes (unique ids; the namespace and each scope field on nodes and edges);
 * each statement is idempotent (`IF NOT EXISTS`).
 */
export function schemaStatements(vectorIndex?: { dimensions: number }): Neo4jStatement[] {
  const statements: Neo4jStatement[] = [
    {
      text: `CREATE CONSTRAINT engram_entity_id IF NOT EXISTS FOR (n:${entityLabel}) REQUIRE n.id IS UNIQUE`,
      parameters: {},
    },
    {
      text: `CREATE CONSTRAINT engram_relation_id IF NOT EXISTS FOR ()-[r:${relationType}]-() REQUIRE r.id IS UNIQUE`,
      parameters: {},
    },
    ...['namespace', ...scopeFields].flatMap((field) => [
      {
        text: `CREATE INDEX engram_entity_${field} IF NOT EXISTS FOR (n:${entityLabel}) ON (n.${field})`,
        parameters: {},
      },
      {
        text: `CREATE INDEX engram_relation_${field} IF NOT EXISTS FOR ()-[r:${relationType}]-() ON (r.${field})`,
        parameters: {},
      },
    ]),
  ];
  if (vectorIndex) {
    statements.push({
      text:
        `CREATE VECTOR INDEX ${vectorIndexName} IF NOT EXISTS FOR (n:${entityLabel}) ON (n.embedding) ` +
        'OPTIONS {indexConfig: {`vector.dimensions`: $dimensions, `vector.similarity_function`: $similarity}}',
      parameters: { dimensions: vectorIndex.dimensions, similarity: 'cosine' },
    });
  }
  return statements;
}

/** Reads the configured length of the vector index, if it exists. */
export function vectorIndexDimensionsStatement(): Neo4jStatement {
  return {
    text:
      'SHOW INDEXES YIELD name, type, options WHERE name = $name AND type = $type ' +
      'RETURN options.indexConfig.`vector.dimensions` AS dimensions',
    parameters: { name: vectorIndexName, type: 'VECTOR' },
  };
}
