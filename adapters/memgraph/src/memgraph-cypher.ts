import { type Scope, scopeFields } from '@engram/core';

/** One Cypher statement and its parameters. Values only ever travel as parameters. */
export interface MemgraphStatement {
  text: string;
  parameters: Record<string, unknown>;
}

/** Label of entity nodes. */
export const entityLabel = 'EngramEntity';
/** Type of every relation edge; the relationship's name is its `relationship` property. */
export const relationType = 'RELATES';

/**
 * `variable.userId = $userId AND ...` for every field of the scope (never empty: callers check
 * the scope first). Field names come from core's fixed list; values are parameters.
 */
export function scopeCondition(variable: string, scope: Scope): MemgraphStatement {
  const fields = scopeFields.filter((field) => scope[field] !== undefined);
  return {
    text: fields.map((field) => `${variable}.${field} = $${field}`).join(' AND '),
    parameters: Object.fromEntries(fields.map((field) => [field, scope[field]])),
  };
}

/**
 * Label-property indexes and the unique id constraint. Memgraph has no `IF NOT EXISTS`: creating
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
    ...scopeFields.map((field) => ({
      text: `CREATE INDEX ON :${entityLabel}(${field})`,
      parameters: {},
    })),
  ];
}

/** Inserts or replaces entities by id; `entities` are property maps (see memgraph-records). */
export function upsertEntitiesStatement(entities: Record<string, unknown>[]): MemgraphStatement {
  return {
    text:
      `UNWIND $entities AS entity MERGE (n:${entityLabel} {id: entity.id}) ` +
      'SET n = entity, n.mentions = toInteger(entity.mentions)',
    parameters: { entities },
  };
}

/**
 * Inserts or replaces relations by id, in one transaction: the ids whose endpoints are missing
 * (the caller then aborts), the removal of any edge with the id (an edge cannot move to other
 * endpoints), and the creation between the endpoint nodes.
 */
export function upsertRelationsStatements(
  relations: { id: string; sourceId: string; destinationId: string; properties: object }[],
): { missing: MemgraphStatement; remove: MemgraphStatement; create: MemgraphStatement } {
  return {
    missing: {
      text:
        'UNWIND $relations AS relation ' +
        `OPTIONAL MATCH (source:${entityLabel} {id: relation.sourceId}) ` +
        `OPTIONAL MATCH (destination:${entityLabel} {id: relation.destinationId}) ` +
        'WITH relation, source, destination WHERE source IS NULL OR destination IS NULL ' +
        'RETURN relation.id AS missing',
      parameters: { relations },
    },
    remove: {
      text: `UNWIND $ids AS relationId MATCH ()-[old:${relationType}]->() WHERE old.id = relationId DELETE old`,
      parameters: { ids: relations.map((relation) => relation.id) },
    },
    create: {
      text:
        'UNWIND $relations AS relation ' +
        `MATCH (source:${entityLabel} {id: relation.sourceId}) ` +
        `MATCH (destination:${entityLabel} {id: relation.destinationId}) ` +
        `CREATE (source)-[edge:${relationType}]->(destination) ` +
        'SET edge = relation.properties, edge.mentions = toInteger(relation.properties.mentions)',
      parameters: { relations },
    },
  };
}

const tripleReturn =
  'RETURN properties(edge) AS relation, properties(source) AS source, ' +
  'properties(destination) AS destination';

/**
 * Exact cosine similarity within the scope, in Cypher arithmetic (Memgraph has no
 * `vector.similarity.cosine`, and its vector search needs MAGE and cannot prefilter by scope).
 * Same formula and summation order as core's `cosineSimilarity`, in 64-bit floats; an all-zero
 * vector scores 0. The query's squared norm is computed once, by the caller.
 */
export function similarEntitiesStatement(options: {
  scope: Scope;
  embedding: number[];
  topK: number;
  threshold?: number;
}): MemgraphStatement {
  const scope = scopeCondition('n', options.scope);
  const queryNormSquared = options.embedding.reduce((sum, value) => sum + value * value, 0);
  return {
    text:
      `MATCH (n:${entityLabel}) WHERE ${scope.text} AND size(n.embedding) = size($embedding) ` +
      'WITH n, reduce(dot = 0.0, i IN range(0, size($embedding) - 1) | dot + n.embedding[i] * $embedding[i]) AS dot, ' +
      'reduce(norm = 0.0, value IN n.embedding | norm + value * value) AS norm ' +
      'WITH n, CASE WHEN norm = 0 OR $queryNormSquared = 0 THEN 0.0 ' +
      'ELSE dot / sqrt(norm * $queryNormSquared) END AS score ' +
      (options.threshold === undefined ? '' : 'WHERE score >= $threshold ') +
      'RETURN properties(n) AS entity, score ORDER BY score DESC, n.id ASC LIMIT $topK',
    parameters: {
      ...scope.parameters,
      embedding: options.embedding,
      queryNormSquared,
      topK: options.topK,
      ...(options.threshold === undefined ? {} : { threshold: options.threshold }),
    },
  };
}

/** Valid relations of the scope touching any of the entities (found through the id index). */
export function neighboursStatement(options: {
  scope: Scope;
  entityIds: string[];
  limit: number;
}): MemgraphStatement {
  const scope = scopeCondition('edge', options.scope);
  return {
    text:
      `MATCH (touched:${entityLabel}) WHERE touched.id IN $entityIds ` +
      `MATCH (touched)-[edge:${relationType}]-() ` +
      `WHERE ${scope.text} AND edge.invalidatedAt IS NULL ` +
      'WITH DISTINCT edge ' +
      'RETURN properties(edge) AS relation, properties(startNode(edge)) AS source, ' +
      'properties(endNode(edge)) AS destination ORDER BY edge.id ASC LIMIT $limit',
    parameters: { ...scope.parameters, entityIds: options.entityIds, limit: options.limit },
  };
}

/** Marks the scope's still-valid relations with these ids invalid. */
export function invalidateStatement(options: {
  scope: Scope;
  relationIds: string[];
  at: string;
}): MemgraphStatement {
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
}): MemgraphStatement {
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

/**
 * Deletes the scope's relations, then its entities (with any edge still attached). Collected
 * first and counted with `size`, since Memgraph forbids reading a deleted object afterwards.
 */
export function deleteScopeStatements(scope: Scope): {
  relations: MemgraphStatement;
  entities: MemgraphStatement;
} {
  const edge = scopeCondition('edge', scope);
  const node = scopeCondition('n', scope);
  return {
    relations: {
      text:
        `MATCH ()-[edge:${relationType}]->() WHERE ${edge.text} ` +
        'WITH collect(edge) AS edges FOREACH (doomed IN edges | DELETE doomed) ' +
        'RETURN size(edges) AS deleted',
      parameters: edge.parameters,
    },
    entities: {
      text:
        `MATCH (n:${entityLabel}) WHERE ${node.text} ` +
        'WITH collect(n) AS nodes FOREACH (doomed IN nodes | DETACH DELETE doomed) ' +
        'RETURN size(nodes) AS deleted',
      parameters: node.parameters,
    },
  };
}
