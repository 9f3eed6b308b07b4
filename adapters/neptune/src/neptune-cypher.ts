import { type Scope, scopeFields } from '@engram/core';

/** One openCypher query and its parameters. Values only ever travel as parameters. */
export interface NeptuneStatement {
  text: string;
  parameters: Record<string, unknown>;
}

/** Label of entity nodes. */
export const entityLabel = 'EngramEntity';
/** Type of every relation edge; the relationship's name is its `relationship` property. */
export const relationType = 'RELATES';

/** Every property an entity node may carry; each upsert sets all of them (null removes one). */
export const entityPropertyNames = [
  'id',
  'name',
  'type',
  'embedding',
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
  ...scopeFields,
  'mentions',
  'createdAt',
  'updatedAt',
  'invalidatedAt',
] as const;

/**
 * `variable.userId = $userId AND ...` for every field of the scope (never empty: callers check
 * the scope first). Field names come from core's fixed list; values are parameters.
 */
export function scopeCondition(variable: string, scope: Scope): NeptuneStatement {
  const fields = scopeFields.filter((field) => scope[field] !== undefined);
  return {
    text: fields.map((field) => `${variable}.${field} = $${field}`).join(' AND '),
    parameters: Object.fromEntries(fields.map((field) => [field, scope[field]])),
  };
}

function assignments(variable: string, row: string, names: readonly string[]): string {
  return names
    .filter((name) => name !== 'id')
    .map((name) => `${variable}.${name} = ${row}.${name}`)
    .join(', ');
}

/**
 * Inserts or replaces entities by id. Each property is set explicitly (a null removes it), which
 * Neptune supports everywhere; `embedding` and `metadata` are JSON strings, since Neptune
 * Database stores no list or map property values.
 */
export function upsertEntitiesStatement(entities: Record<string, unknown>[]): NeptuneStatement {
  return {
    text:
      `UNWIND $entities AS entity MERGE (n:${entityLabel} {id: entity.id}) ` +
      `SET ${assignments('n', 'entity', entityPropertyNames)}`,
    parameters: { entities },
  };
}

/** Ids of relations whose endpoint entities do not exist (checked before writing). */
export function missingEndpointsStatement(
  relations: { id: string; sourceId: string; destinationId: string }[],
): NeptuneStatement {
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
 * Inserts or replaces relations by id in one query (one Neptune transaction): any edge with the
 * id is deleted (an edge cannot move to other endpoints), then the edge is created between the
 * endpoint nodes with every property set.
 */
export function upsertRelationsStatement(relations: Record<string, unknown>[]): NeptuneStatement {
  return {
    text:
      'UNWIND $relations AS relation ' +
      `OPTIONAL MATCH ()-[old:${relationType} {id: relation.id}]->() DELETE old ` +
      'WITH DISTINCT relation ' +
      `MATCH (source:${entityLabel} {id: relation.sourceId}) ` +
      `MATCH (destination:${entityLabel} {id: relation.destinationId}) ` +
      `CREATE (source)-[edge:${relationType} {id: relation.id}]->(destination) ` +
      `SET ${assignments('edge', 'relation', relationPropertyNames)}`,
    parameters: { relations },
  };
}

/**
 * Every entity of the scope with its embedding. Neptune Database has no vector index, so the
 * store ranks them by exact cosine similarity itself.
 */
export function scopeEntitiesStatement(scope: Scope): NeptuneStatement {
  const condition = scopeCondition('n', scope);
  return {
    text: `MATCH (n:${entityLabel}) WHERE ${condition.text} RETURN properties(n) AS entity`,
    parameters: condition.parameters,
  };
}

const tripleReturn =
  'RETURN properties(edge) AS relation, properties(source) AS source, ' +
  'properties(destination) AS destination';

/** Valid relations of the scope touching any of the entities, ordered by relation id. */
export function neighboursStatement(options: {
  scope: Scope;
  entityIds: string[];
  limit: number;
}): NeptuneStatement {
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
}): NeptuneStatement {
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
}): NeptuneStatement {
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

/** Deletes the scope's relations, then its entities (with any edge still attached). */
export function deleteScopeStatements(scope: Scope): {
  relations: NeptuneStatement;
  entities: NeptuneStatement;
} {
  const edge = scopeCondition('edge', scope);
  const node = scopeCondition('n', scope);
  return {
    relations: {
      text:
        `MATCH ()-[edge:${relationType}]->() WHERE ${edge.text} ` +
        'WITH collect(edge) AS edges, count(edge) AS deleted ' +
        'UNWIND edges AS doomed DELETE doomed RETURN DISTINCT deleted',
      parameters: edge.parameters,
    },
    entities: {
      text:
        `MATCH (n:${entityLabel}) WHERE ${node.text} ` +
        'WITH collect(n) AS nodes, count(n) AS deleted ' +
        'UNWIND nodes AS doomed DETACH DELETE doomed RETURN DISTINCT deleted',
      parameters: node.parameters,
    },
  };
}
