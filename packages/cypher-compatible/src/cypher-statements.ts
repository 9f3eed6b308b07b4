import { type Scope, scopeFields } from '@engram/core';
import type { CypherDialect } from './cypher-dialect.js';

/** One Cypher statement and its parameters. Values only ever travel as parameters. */
export interface CypherStatement {
  /** The statement, with `$name` placeholders. */
  text: string;
  /** The values of the placeholders. */
  parameters: Record<string, unknown>;
}

/** Label of entity nodes. */
export const entityLabel = 'EngramEntity';
/** Type of every relation edge; the relationship's name is its `relationship` property. */
export const relationType = 'RELATES';
/** Name of the optional vector index on `EngramEntity.embedding` (Neo4j). */
export const vectorIndexName = 'engram_entity_embedding';

/** Every property an entity node may carry; the `neptune` flavour sets all of them on upsert. */
export const entityPropertyNames = [
  'id',
  'name',
  'type',
  'embedding',
  'namespace',
  ...scopeFields,
  'mentions',
  'metadata',
  'createdAt',
  'updatedAt',
] as const;

/** Every property a relation edge may carry. */
export const relationPropertyNames = [
  'id',
  'relationship',
  'sourceId',
  'destinationId',
  'namespace',
  ...scopeFields,
  'mentions',
  'createdAt',
  'updatedAt',
  'invalidatedAt',
] as const;

/** What a relation write needs to find its endpoints. */
export interface RelationEndpoints {
  /** The relation's id. */
  id: string;
  /** Id of the entity the relation starts at. */
  sourceId: string;
  /** Id of the entity the relation points to. */
  destinationId: string;
}

/**
 * `variable.userId = $userId AND ...` for every field of the scope (never empty: callers check
 * the scope first). Field names come from core's fixed list; values are parameters.
 */
export function scopeCondition(variable: string, scope: Scope): CypherStatement {
  const fields = scopeFields.filter((field) => scope[field] !== undefined);
  return {
    text: fields.map((field) => `${variable}.${field} = $${field}`).join(' AND '),
    parameters: Object.fromEntries(fields.map((field) => [field, scope[field]])),
  };
}

/** Where a call reads or deletes: a namespace, and a non-empty scope within it. */
export interface GraphPlace {
  /** The namespace (a `Memory`'s collection); matched exactly. */
  namespace: string;
  /** The scope within the namespace; every field given must match. */
  scope: Scope;
}

/**
 * `variable.namespace = $namespace AND variable.userId = $userId AND ...`: the namespace first,
 * so that no statement ever matches across namespaces.
 */
export function placeCondition(variable: string, place: GraphPlace): CypherStatement {
  const scope = scopeCondition(variable, place.scope);
  return {
    text: `${variable}.namespace = $namespace AND ${scope.text}`,
    parameters: { namespace: place.namespace, ...scope.parameters },
  };
}

/**
 * Gives nodes and edges written before graph stores kept namespaces the `namespace` given (core's
 * default collection), so they stay readable from a `Memory` of that collection. Idempotent.
 */
export function legacyNamespaceStatements(namespace: string): CypherStatement[] {
  return [
    {
      text:
        `MATCH (n:${entityLabel}) WHERE n.namespace IS NULL ` +
        'SET n.namespace = $namespace RETURN count(n) AS updated',
      parameters: { namespace },
    },
    {
      text:
        `MATCH ()-[edge:${relationType}]->() WHERE edge.namespace IS NULL ` +
        'SET edge.namespace = $namespace RETURN count(edge) AS updated',
      parameters: { namespace },
    },
  ];
}

function assignments(variable: string, row: string, names: readonly string[]): string {
  return names
    .filter((name) => name !== 'id')
    .map((name) => `${variable}.${name} = ${row}.${name}`)
    .join(', ');
}

/** Inserts or replaces entities by id; `entities` are property maps (see `entityProperties`). */
export function upsertEntitiesStatement(
  entities: Record<string, unknown>[],
  dialect: CypherDialect,
): CypherStatement {
  const set =
    dialect.flavour === 'bolt'
      ? 'n = entity, n.mentions = toInteger(entity.mentions)'
      : assignments('n', 'entity', entityPropertyNames);
  return {
    text: `UNWIND $entities AS entity MERGE (n:${entityLabel} {id: entity.id}) SET ${set}`,
    parameters: { entities },
  };
}

/** Ids of relations whose endpoint entities do not exist (checked before writing). */
export function missingEndpointsStatement(relations: RelationEndpoints[]): CypherStatement {
  return {
    text:
      'UNWIND $relations AS relation ' +
      `OPTIONAL MATCH (source:${entityLabel} {id: relation.sourceId}) ` +
      `OPTIONAL MATCH (destination:${entityLabel} {id: relation.destinationId}) ` +
      'WITH relation, source, destination WHERE source IS NULL OR destination IS NULL ' +
      'RETURN relation.id AS missing',
    parameters: {
      relations: relations.map(({ id, sourceId, destinationId }) => ({
        id,
        sourceId,
        destinationId,
      })),
    },
  };
}

/**
 * Inserts or replaces relations by id, between endpoints known to exist; `relations` are
 * property maps (see `relationProperties`). An edge cannot move to other endpoints, so any edge
 * with the id is deleted first: by a statement of its own on Bolt, inside the one query (one
 * Neptune transaction) on Neptune.
 */
export function writeRelationsStatements(
  relations: Record<string, unknown>[],
  dialect: CypherDialect,
): CypherStatement[] {
  const endpoints =
    `MATCH (source:${entityLabel} {id: relation.sourceId}) ` +
    `MATCH (destination:${entityLabel} {id: relation.destinationId}) `;
  if (dialect.flavour === 'neptune') {
    return [
      {
        text:
          'UNWIND $relations AS relation ' +
          `OPTIONAL MATCH ()-[old:${relationType} {id: relation.id}]->() DELETE old ` +
          `WITH DISTINCT relation ${endpoints}` +
          `CREATE (source)-[edge:${relationType} {id: relation.id}]->(destination) ` +
          `SET ${assignments('edge', 'relation', relationPropertyNames)}`,
        parameters: { relations },
      },
    ];
  }
  return [
    {
      text: `UNWIND $ids AS relationId MATCH ()-[old:${relationType}]->() WHERE old.id = relationId DELETE old`,
      parameters: { ids: relations.map((relation) => relation.id) },
    },
    {
      text:
        `UNWIND $relations AS relation ${endpoints}` +
        `CREATE (source)-[edge:${relationType}]->(destination) ` +
        'SET edge = relation, edge.mentions = toInteger(relation.mentions)',
      parameters: { relations },
    },
  ];
}

/** What an entity lookup by similarity asks for. */
export interface SimilarEntitiesQuery extends GraphPlace {
  /** The query embedding. */
  embedding: number[];
  /** How many entities at most. */
  topK: number;
  /** Lowest cosine similarity kept. */
  threshold?: number;
}

const similarReturn =
  'RETURN properties(n) AS entity, score ORDER BY score DESC, n.id ASC LIMIT $topK';

function thresholdParameter(threshold: number | undefined) {
  return threshold === undefined ? {} : { threshold };
}

/**
 * Exact cosine similarity within the place, computed by the server; an all-zero vector scores 0,
 * as in core's reference. `vector-function`: Neo4j's `vector.similarity.cosine` answers
 * (1 + cosine) / 2 and rejects all-zero vectors, so the score is mapped back and zero vectors are
 * kept away from it. `arithmetic`: the formula and summation order of core's `cosineSimilarity`,
 * in 64-bit floats, with the query's squared norm computed once, here.
 */
export function similarEntitiesStatement(
  query: SimilarEntitiesQuery,
  similarity: 'vector-function' | 'arithmetic',
): CypherStatement {
  const scope = placeCondition('n', query);
  const queryNormSquared = query.embedding.reduce((sum, value) => sum + value * value, 0);
  const score =
    similarity === 'arithmetic'
      ? 'WITH n, reduce(dot = 0.0, i IN range(0, size($embedding) - 1) | dot + n.embedding[i] * $embedding[i]) AS dot, ' +
        'reduce(norm = 0.0, value IN n.embedding | norm + value * value) AS norm ' +
        'WITH n, CASE WHEN norm = 0 OR $queryNormSquared = 0 THEN 0.0 ' +
        'ELSE dot / sqrt(norm * $queryNormSquared) END AS score '
      : query.embedding.every((value) => value === 0)
        ? 'WITH n, 0.0 AS score '
        : 'WITH n, CASE WHEN any(value IN n.embedding WHERE value <> 0) ' +
          'THEN 2 * vector.similarity.cosine(n.embedding, $embedding) - 1 ELSE 0.0 END AS score ';
  return {
    text:
      `MATCH (n:${entityLabel}) WHERE ${scope.text} AND size(n.embedding) = size($embedding) ` +
      score +
      (query.threshold === undefined ? '' : 'WHERE score >= $threshold ') +
      similarReturn,
    parameters: {
      ...scope.parameters,
      embedding: query.embedding,
      ...(similarity === 'arithmetic' ? { queryNormSquared } : {}),
      topK: query.topK,
      ...thresholdParameter(query.threshold),
    },
  };
}

/**
 * Approximate lookup through the vector index: `candidates` nearest entities of every scope,
 * then the namespace and scope filter. Used only for scopes larger than `approximateSearchAbove`.
 */
export function indexedSimilarEntitiesStatement(
  query: SimilarEntitiesQuery & { candidates: number },
): CypherStatement {
  const scope = placeCondition('n', query);
  return {
    text:
      'CALL db.index.vector.queryNodes($index, $candidates, $embedding) YIELD node AS n, score AS indexScore ' +
      `WITH n, 2 * indexScore - 1 AS score WHERE ${scope.text} ` +
      (query.threshold === undefined ? '' : 'AND score >= $threshold ') +
      similarReturn,
    parameters: {
      ...scope.parameters,
      index: vectorIndexName,
      candidates: query.candidates,
      embedding: query.embedding,
      topK: query.topK,
      ...thresholdParameter(query.threshold),
    },
  };
}

/** Number of entities in the place (decides between exact scan and the vector index). */
export function countEntitiesStatement(place: GraphPlace): CypherStatement {
  const condition = placeCondition('n', place);
  return {
    text: `MATCH (n:${entityLabel}) WHERE ${condition.text} RETURN count(n) AS count`,
    parameters: condition.parameters,
  };
}

/** Every entity of the place with its embedding, for stores that rank them in the client. */
export function scopeEntitiesStatement(place: GraphPlace): CypherStatement {
  const condition = placeCondition('n', place);
  return {
    text: `MATCH (n:${entityLabel}) WHERE ${condition.text} RETURN properties(n) AS entity`,
    parameters: condition.parameters,
  };
}

const tripleReturn =
  'RETURN properties(edge) AS relation, properties(source) AS source, ' +
  'properties(destination) AS destination';

/**
 * Valid relations of the scope touching any of the entities (both directions), ordered by
 * relation id. On Bolt the match starts from the id index of the named entities.
 */
export function neighboursStatement(
  options: GraphPlace & { entityIds: string[]; limit: number },
  dialect: CypherDialect,
): CypherStatement {
  const scope = placeCondition('edge', options);
  const text =
    dialect.flavour === 'bolt'
      ? `MATCH (touched:${entityLabel}) WHERE touched.id IN $entityIds ` +
        `MATCH (touched)-[edge:${relationType}]-() ` +
        `WHERE ${scope.text} AND edge.invalidatedAt IS NULL ` +
        'WITH DISTINCT edge ' +
        'RETURN properties(edge) AS relation, properties(startNode(edge)) AS source, ' +
        'properties(endNode(edge)) AS destination'
      : `MATCH (source:${entityLabel})-[edge:${relationType}]->(destination:${entityLabel}) ` +
        `WHERE ${scope.text} AND edge.invalidatedAt IS NULL ` +
        `AND (source.id IN $entityIds OR destination.id IN $entityIds) ${tripleReturn}`;
  return {
    text: `${text} ORDER BY edge.id ASC LIMIT $limit`,
    parameters: { ...scope.parameters, entityIds: options.entityIds, limit: options.limit },
  };
}

/** Marks the place's still-valid relations with these ids invalid. */
export function invalidateStatement(
  options: GraphPlace & { relationIds: string[]; at: string },
): CypherStatement {
  const scope = placeCondition('edge', options);
  return {
    text:
      `MATCH ()-[edge:${relationType}]->() WHERE edge.id IN $relationIds AND ${scope.text} ` +
      'AND edge.invalidatedAt IS NULL SET edge.invalidatedAt = $at, edge.updatedAt = $at',
    parameters: { ...scope.parameters, relationIds: options.relationIds, at: options.at },
  };
}

/** One page of the place's relations after the cursor id; asks for one more to detect a next page. */
export function listStatement(
  options: GraphPlace & { limit: number; after?: string; includeInvalidated?: boolean },
): CypherStatement {
  const scope = placeCondition('edge', options);
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
 * Deletes the place's relations, then its entities (with any edge still attached), each
 * answering `deleted`. Collected and counted before deletion, since Memgraph forbids reading a
 * deleted object afterwards; Neptune has no `FOREACH`, so it unwinds the collection instead.
 */
export function deleteScopeStatements(
  place: GraphPlace,
  dialect: CypherDialect,
): { relations: CypherStatement; entities: CypherStatement } {
  const edge = placeCondition('edge', place);
  const node = placeCondition('n', place);
  const remove = (items: string, item: string, detach: string) =>
    dialect.flavour === 'bolt'
      ? `WITH collect(${item}) AS ${items} FOREACH (doomed IN ${items} | ${detach}DELETE doomed) ` +
        `RETURN size(${items}) AS deleted`
      : `WITH collect(${item}) AS ${items}, count(${item}) AS deleted ` +
        `UNWIND ${items} AS doomed ${detach}DELETE doomed RETURN DISTINCT deleted`;
  return {
    relations: {
      text: `MATCH ()-[edge:${relationType}]->() WHERE ${edge.text} ${remove('edges', 'edge', '')}`,
      parameters: edge.parameters,
    },
    entities: {
      text: `MATCH (n:${entityLabel}) WHERE ${node.text} ${remove('nodes', 'n', 'DETACH ')}`,
      parameters: node.parameters,
    },
  };
}
