import type { GraphEntity, GraphRelation, Scope } from '@engram/core';
import {
  type GraphPlace,
  placeClauses,
  type RelationPageOptions,
  relationPageConditions,
  scopeClauses,
  storedEntityProperties,
  storedRelationProperties,
} from '@engram/cypher-compatible';

/** A value bound to a `$name` parameter of a Kuzu statement. */
export type KuzuParameter = string | number | boolean | null | string[];

/** One parameterized Cypher statement. Values never appear in `text`. */
export interface KuzuStatement {
  text: string;
  parameters: Record<string, KuzuParameter>;
}

/** Name of the node table of entities. */
export const entityTable = 'Entity';
/** Name of the relationship table of relations. */
export const relationTable = 'RELATES';

const entityColumns = `id STRING, name STRING, type STRING, embedding DOUBLE[%d], namespace STRING, userId STRING, agentId STRING, runId STRING, mentions INT64, metadata STRING, createdAt STRING, updatedAt STRING, PRIMARY KEY (id)`;
const relationColumns = `FROM ${entityTable} TO ${entityTable}, id STRING, relationship STRING, namespace STRING, userId STRING, agentId STRING, runId STRING, mentions INT64, createdAt STRING, updatedAt STRING, invalidatedAt STRING`;

/**
 * The node table of entities. Embeddings are a fixed-size `DOUBLE[N]` array, which
 * `array_cosine_similarity` takes, and which keeps the embedding exactly as given.
 */
export function entityTableStatement(dimensions: number): KuzuStatement {
  return {
    text: `CREATE NODE TABLE IF NOT EXISTS ${entityTable}(${entityColumns.replace('%d', String(dimensions))})`,
    parameters: {},
  };
}

/** The relationship table of relations (entity to entity). */
export function relationTableStatement(): KuzuStatement {
  return {
    text: `CREATE REL TABLE IF NOT EXISTS ${relationTable}(${relationColumns})`,
    parameters: {},
  };
}

/** Reads the columns of the entity table, to learn the embedding length of an existing database. */
export function entityTableInfoStatement(): KuzuStatement {
  return { text: `CALL table_info('${entityTable}') RETURN *`, parameters: {} };
}

/** Reads the columns of the relation table, to learn whether it has the namespace column yet. */
export function relationTableInfoStatement(): KuzuStatement {
  return { text: `CALL table_info('${relationTable}') RETURN *`, parameters: {} };
}

/**
 * Adds the namespace column to a table created before graph stores kept namespaces; every
 * existing node or edge gets `namespace` (core's default collection). `namespace` must be a
 * collection name (letters, digits, `_`, `-`): Kuzu takes no parameter in a DEFAULT.
 */
export function addNamespaceColumnStatement(table: string, namespace: string): KuzuStatement {
  if (!/^[A-Za-z][A-Za-z0-9_-]*$/.test(namespace))
    throw new Error(`invalid namespace ${namespace}`);
  return {
    text: `ALTER TABLE ${table} ADD namespace STRING DEFAULT '${namespace}'`,
    parameters: {},
  };
}

/** Lists the tables of the database. */
export function showTablesStatement(): KuzuStatement {
  return { text: 'CALL show_tables() RETURN *', parameters: {} };
}

/**
 * The condition "every field of the scope matches exactly" on the node or relationship bound to
 * `variable`. The scope is expected to be non-empty and normalized.
 */
export function scopeCondition(variable: string, scope: Scope): KuzuStatement {
  const { clauses, parameters } = scopeClauses(
    scope,
    (field, parameter) => `${variable}.${field} = ${parameter}`,
  );
  return { text: clauses.join(' AND '), parameters };
}

/**
 * The condition "in the namespace, and every field of the scope matches exactly" on the node or
 * relationship bound to `variable`. The scope is expected to be non-empty and normalized.
 */
export function placeCondition(variable: string, place: GraphPlace): KuzuStatement {
  const { clauses, parameters } = placeClauses(
    place.namespace,
    place.scope,
    (field, parameter) => `${variable}.${field} = ${parameter}`,
  );
  return { text: clauses.join(' AND '), parameters };
}

/**
 * A list of numbers as a string that Kuzu casts to `DOUBLE[N]`. Passing the array itself would
 * type the whole list after its first element (an integer such as `1` makes it `INT64[]`, and
 * the doubles after it are misread); a string cast keeps every value exactly.
 */
export function embeddingLiteral(embedding: readonly number[]): string {
  return `[${embedding.map((value) => (Object.is(value, -0) ? '-0' : String(value))).join(',')}]`;
}

/** Inserts or replaces one entity by id. */
export function upsertEntityStatement(entity: GraphEntity, dimensions: number): KuzuStatement {
  return {
    text:
      `MERGE (e:${entityTable} {id: $id}) SET e.name = $name, e.type = $type, ` +
      `e.embedding = CAST($embedding AS DOUBLE[${dimensions}]), e.namespace = $namespace, ` +
      'e.userId = $userId, ' +
      'e.agentId = $agentId, e.runId = $runId, e.mentions = CAST($mentions AS INT64), ' +
      'e.metadata = $metadata, e.createdAt = $createdAt, e.updatedAt = $updatedAt',
    parameters: {
      ...storedEntityProperties(entity),
      embedding: embeddingLiteral(entity.embedding),
    },
  };
}

/** The endpoints of the stored relations with these ids (ids must be non-empty). */
export function relationEndpointsStatement(ids: string[]): KuzuStatement {
  return {
    text:
      `MATCH (a:${entityTable})-[r:${relationTable}]->(b:${entityTable}) ` +
      'WHERE r.id IN CAST($ids AS STRING[]) RETURN r.id AS id, a.id AS sourceId, b.id AS destinationId',
    parameters: { ids },
  };
}

/** Deletes the stored copy of a relation that now joins other entities. */
export function deleteRelationBetweenStatement(
  id: string,
  sourceId: string,
  destinationId: string,
): KuzuStatement {
  return {
    text:
      `MATCH (a:${entityTable} {id: $sourceId})-[r:${relationTable}]->(b:${entityTable} {id: $destinationId}) ` +
      'WHERE r.id = $id DELETE r',
    parameters: { id, sourceId, destinationId },
  };
}

/** Inserts or replaces one relation by id; returns its id when both endpoints exist. */
export function upsertRelationStatement(relation: GraphRelation): KuzuStatement {
  return {
    text:
      `MATCH (a:${entityTable} {id: $sourceId}), (b:${entityTable} {id: $destinationId}) ` +
      `MERGE (a)-[r:${relationTable} {id: $id}]->(b) SET r.relationship = $relationship, ` +
      'r.namespace = $namespace, r.userId = $userId, r.agentId = $agentId, r.runId = $runId, ' +
      'r.mentions = CAST($mentions AS INT64), r.createdAt = $createdAt, r.updatedAt = $updatedAt, ' +
      'r.invalidatedAt = $invalidatedAt RETURN r.id AS id',
    parameters: {
      ...storedRelationProperties(relation),
      sourceId: relation.sourceId,
      destinationId: relation.destinationId,
    },
  };
}

/**
 * The place's entities most similar to the embedding by exact cosine similarity, best first,
 * ties by id. An all-zero query scores 0 against everything (as core's `cosineSimilarity` says).
 */
export function similarEntitiesStatement(
  options: GraphPlace & {
    embedding: readonly number[];
    topK: number;
    threshold?: number | undefined;
    dimensions: number;
  },
): KuzuStatement {
  const scope = placeCondition('e', options);
  const zero = options.embedding.every((value) => value === 0);
  const score = zero
    ? 'CAST(0 AS DOUBLE)'
    : `array_cosine_similarity(e.embedding, CAST($embedding AS DOUBLE[${options.dimensions}]))`;
  const parameters: Record<string, KuzuParameter> = { ...scope.parameters, topK: options.topK };
  if (!zero) parameters.embedding = embeddingLiteral(options.embedding);
  if (options.threshold !== undefined) parameters.threshold = options.threshold;
  return {
    text:
      `MATCH (e:${entityTable}) WHERE ${scope.text} WITH e, ${score} AS score ` +
      (options.threshold === undefined ? '' : 'WHERE score >= $threshold ') +
      'RETURN e, score ORDER BY score DESC, e.id LIMIT $topK',
    parameters,
  };
}

const triple = 'RETURN r, a, b ORDER BY r.id';

/** Valid relations of the place touching any of the entities (ids must be non-empty). */
export function neighboursStatement(
  options: GraphPlace & { entityIds: string[]; limit: number },
): KuzuStatement {
  const scope = placeCondition('r', options);
  return {
    text:
      `MATCH (a:${entityTable})-[r:${relationTable}]->(b:${entityTable}) WHERE ${scope.text} ` +
      'AND r.invalidatedAt IS NULL AND (a.id IN CAST($entityIds AS STRING[]) OR b.id IN CAST($entityIds AS STRING[])) ' +
      `${triple} LIMIT $limit`,
    parameters: { ...scope.parameters, entityIds: options.entityIds, limit: options.limit },
  };
}

/** Marks the place's valid relations with these ids invalid (ids must be non-empty). */
export function invalidateRelationsStatement(
  options: GraphPlace & { relationIds: string[]; at: string },
): KuzuStatement {
  const scope = placeCondition('r', options);
  return {
    text:
      `MATCH ()-[r:${relationTable}]->() WHERE r.id IN CAST($relationIds AS STRING[]) AND ${scope.text} ` +
      'AND r.invalidatedAt IS NULL SET r.invalidatedAt = $at, r.updatedAt = $at',
    parameters: { ...scope.parameters, relationIds: options.relationIds, at: options.at },
  };
}

/** One page of the place's relations by id, one row more than the page to tell if more follow. */
export function listStatement(options: RelationPageOptions & GraphPlace): KuzuStatement {
  const scope = placeCondition('r', options);
  const page = relationPageConditions(options);
  const conditions = [scope.text, ...page.conditions].join(' AND ');
  return {
    text: `MATCH (a:${entityTable})-[r:${relationTable}]->(b:${entityTable}) WHERE ${conditions} ${triple} LIMIT $limit`,
    parameters: { ...scope.parameters, ...page.parameters },
  };
}

/** Counts, then deletes, the place's relations and entities (in this order). */
export function deleteScopeStatements(place: GraphPlace): {
  countRelations: KuzuStatement;
  deleteRelations: KuzuStatement;
  countEntities: KuzuStatement;
  deleteEntities: KuzuStatement;
} {
  const onRelation = placeCondition('r', place);
  const onEntity = placeCondition('e', place);
  const relations = `MATCH ()-[r:${relationTable}]->() WHERE ${onRelation.text}`;
  const entities = `MATCH (e:${entityTable}) WHERE ${onEntity.text}`;
  return {
    countRelations: {
      text: `${relations} RETURN count(r) AS count`,
      parameters: onRelation.parameters,
    },
    deleteRelations: { text: `${relations} DELETE r`, parameters: onRelation.parameters },
    countEntities: {
      text: `${entities} RETURN count(e) AS count`,
      parameters: onEntity.parameters,
    },
    // DETACH also removes relations of another scope (of the same namespace: relations join
    // entities of one namespace) that still point at the entity, which would otherwise block
    // the delete.
    deleteEntities: { text: `${entities} DETACH DELETE e`, parameters: onEntity.parameters },
  };
}
