import {
  type GraphEntity,
  type GraphRelation,
  InvalidArgumentError,
  type JsonValue,
  scopeFields,
} from '@engram/core';
import { entityPropertyNames, relationPropertyNames } from './neptune-cypher.js';

const source = 'neptune';

/**
 * Node properties of an entity, every name present (null where absent, which removes the
 * property); the embedding and the metadata as JSON strings.
 */
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
  const values: Record<string, unknown> = {
    id: entity.id,
    name: entity.name,
    type: entity.type,
    embedding: JSON.stringify(entity.embedding),
    mentions: entity.mentions,
    metadata: entity.metadata === undefined ? null : JSON.stringify(entity.metadata),
    createdAt: entity.createdAt,
    updatedAt: entity.updatedAt,
  };
  for (const field of scopeFields) values[field] = entity[field] ?? null;
  return Object.fromEntries(entityPropertyNames.map((name) => [name, values[name]]));
}

/** Edge properties of a relation, every name present (null where absent). */
export function relationProperties(relation: GraphRelation): Record<string, unknown> {
  const values: Record<string, unknown> = {
    id: relation.id,
    relationship: relation.relationship,
    sourceId: relation.sourceId,
    destinationId: relation.destinationId,
    mentions: relation.mentions,
    createdAt: relation.createdAt,
    updatedAt: relation.updatedAt,
    invalidatedAt: relation.invalidatedAt,
  };
  for (const field of scopeFields) values[field] = relation[field] ?? null;
  return Object.fromEntries(relationPropertyNames.map((name) => [name, values[name]]));
}

/** The property map of a value Neptune returned: a plain map, or a node/edge with `~properties`. */
export function propertiesOf(value: unknown): Record<string, unknown> {
  if (value == null || typeof value !== 'object') return {};
  const nested = (value as { '~properties'?: unknown })['~properties'];
  if (nested != null && typeof nested === 'object') return nested as Record<string, unknown>;
  return value as Record<string, unknown>;
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
export function entityFromProperties(value: unknown): GraphEntity {
  const properties = propertiesOf(value);
  const entity: GraphEntity = {
    id: String(properties.id),
    name: String(properties.name),
    type: String(properties.type),
    embedding:
      typeof properties.embedding === 'string'
        ? (JSON.parse(properties.embedding) as number[])
        : [],
    ...scopeOf(properties),
    mentions: Number(properties.mentions),
    createdAt: String(properties.createdAt),
    updatedAt: String(properties.updatedAt),
  };
  if (typeof properties.metadata === 'string') {
    entity.metadata = JSON.parse(properties.metadata) as Record<string, JsonValue>;
  }
  return entity;
}

/** A relation from the edge properties the queries return. */
export function relationFromProperties(value: unknown): GraphRelation {
  const properties = propertiesOf(value);
  return {
    id: String(properties.id),
    sourceId: String(properties.sourceId),
    relationship: String(properties.relationship),
    destinationId: String(properties.destinationId),
    ...scopeOf(properties),
    mentions: Number(properties.mentions),
    createdAt: String(properties.createdAt),
    updatedAt: String(properties.updatedAt),
    invalidatedAt: typeof properties.invalidatedAt === 'string' ? properties.invalidatedAt : null,
  };
}
