import { type Scope, scopeFields } from '@engram/core';

/** One Cypher statement and its parameters. Values only ever travel as parameters. */
export interface Neo4jStatement {
  text: string;
  parameters: Record<string, unknown>;
}

/** Label of entity nodes. */
export const entityLabel = 'EngramEntity';
/** Type of every relation edge; the relationship's name is its `relationship` property. */
export const relationType = 'RELATES';
/** Name of the optional vector index on `EngramEntity.embedding`. */
export const vectorIndexName = 'engram_entity_embedding';

/**
 * `variable.userId = $userId AND ...` for every field of the scope (never empty: callers check
 * the scope first). Field names come from core's fixed list; values are parameters.
 */
export function scopeCondition(variable: string, scope: Scope): Neo4jStatement {
  const fields = scopeFields.filter((field) => scope[field] !== undefined);
  return {
    text: fields.map((field) => `${variable}.${field} = $${field}`).join(' AND '),
    parameters: Object.fromEntries(fields.map((field) => [field, scope[field]])),
  };
}

/** Constraints and indexes; each statement is idempotent (`IF NOT EXISTS`). */
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
    ...scopeFields.flatMap((field) => [
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

/** Inserts or replaces entities by id; `entities` are property maps (see neo4j-records). */
export function upsertEntitiesStatement(entities: Record<string, unknown>[]): Neo4jStatement {
  return {
    text:
      `UNWIND $entities AS entity MERGE (n:${entityLabel} {id: entity.id}) ` +
      'SET n = entity, n.mentions = toInteger(entity.mentions)',
    parameters: { entities },
  };
}

/**
 * Inserts or replaces relations by id. An edge cannot move to other endpoints, so an existing
 * edge with the id is deleted first, then created between the (existing) endpoint nodes; the
 * ids of relations whose endpoints are missing come back so the caller can report them.
 */
export function upsertRelationsStatements(
  relations: { id: string; sourceId: string; destinationId: string; properties: object }[],
): { remove: Neo4jStatement; create: Neo4jStatement } {
  return {
    remove: {
      text: `UNWIND $ids AS id MATCH ()-[old:${relationType} {id: id}]->() DELETE old`,
      parameters: { ids: relations.map((relation) => relation.id) },
    },
    create: {
      text:
        'UNWIND $relations AS relation ' +
        `OPTIONAL MATCH (source:${entityLabel} {id: relation.sourceId}) ` +
        `OPTIONAL MATCH (destination:${entityLabel} {id: relation.destinationId}) ` +
        'FOREACH (ignored IN CASE WHEN source IS NULL OR destination IS NULL THEN [] ELSE [1] END | ' +
        `CREATE (source)-[edge:${relationType}]->(destination) ` +
        'SET edge = relation.properties, edge.mentions = toInteger(relation.properties.mentions)) ' +
        'WITH relation, source, destination WHERE source IS NULL OR destination IS NULL ' +
        'RETURN relation.id AS missing',
      parameters: { relations },
    },
  };
}

const tripleReturn =
  'RETURN properties(edge) AS relation, properties(source) AS source, ' +
  'properties(destination) AS destination';

/**
 * Exact cosine similarity within the scope. Neo4j's `vector.similarity.cosine` answers
 * (1 + cosine) / 2 and rejects all-zero vectors, so the score is mapped back to the cosine and
 * an all-zero embedding scores 0, as in core's reference.
 */
export function similarEntitiesStatement(options: {
  scope: Scope;
  embedding: number[];
  topK: number;
  threshold?: number;
}): Neo4jStatement {
  const scope = scopeCondition('n', options.scope);
  const queryIsZero = options.embedding.every((value) => value === 0);
  const score = queryIsZero
    ? '0.0'
    : 'CASE WHEN any(value IN n.embedding WHERE value <> 0) ' +
      'THEN 2 * vector.similarity.cosine(n.embedding, $embedding) - 1 ELSE 0.0 END';
  return {
    text:
      `MATCH (n:${entityLabel}) WHERE ${scope.text} AND size(n.embedding) = size($embedding) ` +
      `WITH n, ${score} AS score ` +
      (options.threshold === undefined ? '' : 'WHERE score >= $threshold ') +
      'RETURN properties(n) AS entity, score ORDER BY score DESC, n.id ASC LIMIT $topK',
    parameters: {
      ...scope.parameters,
      embedding: options.embedding,
      topK: options.topK,
      ...(options.threshold === undefined ? {} : { threshold: options.threshold }),
    },
  };
}

/** Number of entities in the scope (decides between exact scan and the vector index). */
export function countEntitiesStatement(scope: Scope): Neo4jStatement {
  const condition = scopeCondition('n', scope);
  return {
    text: `MATCH (n:${entityLabel}) WHERE ${condition.text} RETURN count(n) AS count`,
    parameters: condition.parameters,
  };
}

/**
 * Approximate lookup through the vector index: `candidates` nearest entities of every scope,
 * then the scope filter. Used only for scopes larger than `approximateSearchAbove`.
 */
export function indexedSimilarEntitiesStatement(options: {
  scope: Scope;
  embedding: number[];
  topK: number;
  candidates: number;
  threshold?: number;
}): Neo4jStatement {
  const scope = scopeCondition('n', options.scope);
  return {
    text:
      'CALL db.index.vector.queryNodes($index, $candidates, $embedding) YIELD node AS n, score AS indexScore ' +
      `WITH n, 2 * indexScore - 1 AS score WHERE ${scope.text} ` +
      (options.threshold === undefined ? '' : 'AND score >= $threshold ') +
      'RETURN properties(n) AS entity, score ORDER BY score DESC, n.id ASC LIMIT $topK',
    parameters: {
      ...scope.parameters,
      index: vectorIndexName,
      candidates: options.candidates,
      embedding: options.embedding,
      topK: options.topK,
      ...(options.threshold === undefined ? {} : { threshold: options.threshold }),
    },
  };
}

/** Valid relations of the scope touching any of the entities, ordered by relation id. */
export function neighboursStatement(options: {
  scope: Scope;
  entityIds: string[];
  limit: number;
}): Neo4jStatement {
  const scope = scopeCondition('edge', options.scope);
  return {
    text:
      `MATCH (source:${entityLabel})-[edge:${relationType}]->(destination:${entityLabel}) ` +
      `WHERE ${scope.text} AND edge.invalidatedAt IS NULL ` +
      'AND (source.id IN $entityIds OR destination.id IN $entityIds) ' +
      `${tripleReturn} ORDER BY edge.id ASC LIMIT $limit`,
    parameters: { ...scope.parameters, entityIds: options.entityIds, limit: options.limit },
  };
}

/** Marks the scope's still-valid relations with these ids invalid. */
export function invalidateStatement(options: {
  scope: Scope;
  relationIds: string[];
  at: string;
}): Neo4jStatement {
  const scope = scopeCondition('edge', options.scope);
  return {
    text:
      `MATCH ()-[edge:${relationType}]->() WHERE edge.id IN $relationIds AND ${scope.text} ` +
      'AND edge.invalidatedAt IS NULL SET edge.invalidatedAt = $at, edge.updatedAt = $at',
    parameters: { ...scope.parameters, relationIds: options.relationIds, at: options.at },
  };
}

/** One page of the scope's relations after the cursor id; asks for one more to detect a next page. */
export function listStatement(options: {
  scope: Scope;
  limit: number;
  after?: string;
  includeInvalidated?: boolean;
}): Neo4jStatement {
  const scope = scopeCondition('edge', options.scope);
  const conditions = [scope.text];
  if (!options.includeInvalidated) conditions.push('edge.invalidatedAt IS NULL');
  if (options.after !== undefined) conditions.push('edge.id > $after');
  return {
    text:
      `MATCH (source:${entityLabel})-[edge:${relationType}]->(destination:${entityLabel}) ` +
      `WHERE ${conditions.join(' AND ')} ${tripleReturn} ORDER BY edge.id ASC LIMIT $limit`,
    parameters: {
      ...scope.parameters,
      ...(options.after === undefined ? {} : { after: options.after }),
      limit: options.limit + 1,
    },
  };
}

/** Deletes the scope's relations, then its entities (with any edge still attached to them). */
export function deleteScopeStatements(scope: Scope): {
  relations: Neo4jStatement;
  entities: Neo4jStatement;
} {
  const edge = scopeCondition('edge', scope);
  const node = scopeCondition('n', scope);
  return {
    relations: {
      text: `MATCH ()-[edge:${relationType}]->() WHERE ${edge.text} DELETE edge RETURN count(edge) AS deleted`,
      parameters: edge.parameters,
    },
    entities: {
      text: `MATCH (n:${entityLabel}) WHERE ${node.text} DETACH DELETE n RETURN count(n) AS deleted`,
      parameters: node.parameters,
    },
  };
}
