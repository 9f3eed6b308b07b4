import {
  type GraphEntity,
  type GraphRelation,
  InvalidArgumentError,
  type JsonValue,
  scopeFields,
} from '@engram/core';
import neo4j from 'neo4j-driver';

const source = 'neo4j';

/** Node properties of an entity: scope fields only when set, metadata as a JSON string. */
export function entityProperties(entity: GraphEntity): Record<string, unknown> {
  if (
    !Array.isArray(entity.embedding) ||
    entity.embedding.some((value) => !Number.isFinite(value))
  ) {
    throw new InvalidArgumentError({
      source,
      message: `Entity ${entity.id} needs an embedding of finite numbers.`,
    });
  }
  const properties: Record<string, unknown> = {
    id: entity.id,
    name: entity.name,
    type: entity.type,
    embedding: entity.embedding,
    mentions: entity.mentions,
    createdAt: entity.createdAt,
    updatedAt: entity.updatedAt,
  };
  for (const field of scopeFields) {
    if (entity[field] !== undefined) properties[field] = entity[field];
  }
  if (entity.metadata !== undefined) properties.metadata = JSON.stringify(entity.metadata);
  return properties;
}

/** Edge properties of a relation: scope fields only when set, `invalidatedAt` only when set. */
export function relationProperties(relation: GraphRelation): Record<string, unknown> {
  const properties: Record<string, unknown> = {
    id: relation.id,
    relationship: relation.relationship,
    sourceId: relation.sourceId,
    destinationId: relation.destinationId,
    mentions: relation.mentions,
    createdAt: relation.createdAt,
    updatedAt: relation.updatedAt,
  };
  for (const field of scopeFields) {
    if (relation[field] !== undefined) properties[field] = relation[field];
  }
  if (relation.invalidatedAt !== null) properties.invalidatedAt = relation.invalidatedAt;
  return properties;
}

/** A number from a driver value (Neo4j integers arrive as `Integer` objects). */
export function numberFromNeo4j(value: unknown): number {
  if (neo4j.isInt(value)) return (value as { toNumber(): number }).toNumber();
  return Number(value);
}

function scopeOf(
  properties: Record<string, unknown>,
): Pick<GraphEntity, 'userId' | 'agentId' | 'runId'> {
  const scope: Pick<GraphEntity, 'userId' | 'agentId' | 'runId'> = {};
  for (const field of scopeFields) {
    const value = properties[field];
    if (typeof value === 'string') scope[field] = value;
  }
  return scope;
}

/** An entity from the node properties the queries return. */
export function entityFromProperties(properties: Record<string, unknown>): GraphEntity {
  const entity: GraphEntity = {
    id: String(properties.id),
    name: String(properties.name),
    type: String(properties.type),
    embedding: Array.isArray(properties.embedding) ? properties.embedding.map(numberFromNeo4j) : [],
    ...scopeOf(properties),
    mentions: numberFromNeo4j(properties.mentions),
    createdAt: String(properties.createdAt),
    updatedAt: String(properties.updatedAt),
  };
  if (typeof properties.metadata === 'string') {
    entity.metadata = JSON.parse(properties.metadata) as Record<string, JsonValue>;
  }
  return entity;
}

/** A relation from the edge properties the queries return. */
export function relationFromProperties(properties: Record<string, unknown>): GraphRelation {
  return {
    id: String(properties.id),
    sourceId: String(properties.sourceId),
    relationship: String(properties.relationship),
    destinationId: String(properties.destinationId),
    ...scopeOf(properties),
    mentions: numberFromNeo4j(properties.mentions),
    createdAt: String(properties.createdAt),
    updatedAt: String(properties.updatedAt),
    invalidatedAt: typeof properties.invalidatedAt === 'string' ? properties.invalidatedAt : null,
  };
}
