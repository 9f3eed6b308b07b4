import {
  type GraphEntity,
  type GraphRelation,
  type GraphTriple,
  type JsonValue,
  type Scope,
  scopeFields,
} from '@engram/core';

/**
 * The stored properties of an entity node. Absent scope fields and metadata are `null`; metadata
 * is a JSON string, which keeps it exactly as given (a graph's own maps may reorder keys or
 * turn -0 into 0). A type rather than an interface, so it passes as a parameter map.
 */
export type StoredEntityProperties = {
  /** Entity id. */
  id: string;
  /** Entity name. */
  name: string;
  /** Entity type. */
  type: string;
  /** The embedding as given. */
  embedding: number[];
  /** The namespace (a `Memory`'s collection). */
  namespace: string;
  /** Scope: user, or null. */
  userId: string | null;
  /** Scope: agent, or null. */
  agentId: string | null;
  /** Scope: run, or null. */
  runId: string | null;
  /** How often the entity was mentioned. */
  mentions: number;
  /** Metadata as a JSON string, or null. */
  metadata: string | null;
  /** ISO-8601 creation time. */
  createdAt: string;
  /** ISO-8601 time of the last change. */
  updatedAt: string;
};

/** The stored properties of a relation edge (its endpoints are the edge's nodes). */
export type StoredRelationProperties = {
  /** Relation id. */
  id: string;
  /** What the relation says, e.g. `works_at`. */
  relationship: string;
  /** The namespace (a `Memory`'s collection). */
  namespace: string;
  /** Scope: user, or null. */
  userId: string | null;
  /** Scope: agent, or null. */
  agentId: string | null;
  /** Scope: run, or null. */
  runId: string | null;
  /** How often the relation was mentioned. */
  mentions: number;
  /** ISO-8601 creation time. */
  createdAt: string;
  /** ISO-8601 time of the last change. */
  updatedAt: string;
  /** When the relation was invalidated, or null while it holds. */
  invalidatedAt: string | null;
};

type StoredScope = { userId: string | null; agentId: string | null; runId: string | null };

function storedScope(item: Scope): StoredScope {
  return { userId: item.userId ?? null, agentId: item.agentId ?? null, runId: item.runId ?? null };
}

/** The properties an entity node stores. */
export function storedEntityProperties(entity: GraphEntity): StoredEntityProperties {
  return {
    id: entity.id,
    name: entity.name,
    type: entity.type,
    embedding: entity.embedding,
    namespace: entity.namespace,
    ...storedScope(entity),
    mentions: entity.mentions,
    metadata: entity.metadata === undefined ? null : JSON.stringify(entity.metadata),
    createdAt: entity.createdAt,
    updatedAt: entity.updatedAt,
  };
}

/** The properties a relation edge stores. */
export function storedRelationProperties(relation: GraphRelation): StoredRelationProperties {
  return {
    id: relation.id,
    relationship: relation.relationship,
    namespace: relation.namespace,
    ...storedScope(relation),
    mentions: relation.mentions,
    createdAt: relation.createdAt,
    updatedAt: relation.updatedAt,
    invalidatedAt: relation.invalidatedAt,
  };
}

type Properties = Record<string, unknown>;

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function scopeOf(properties: Properties): Scope {
  const scope: Scope = {};
  for (const field of scopeFields) {
    const value = optionalString(properties[field]);
    if (value !== undefined) scope[field] = value;
  }
  return scope;
}

/** An entity from a node's properties (other keys, such as a node's `_id`, are ignored). */
export function entityFromStoredProperties(properties: Properties): GraphEntity {
  const metadata = optionalString(properties.metadata);
  return {
    id: String(properties.id),
    name: String(properties.name ?? ''),
    type: String(properties.type ?? ''),
    embedding: Array.isArray(properties.embedding) ? (properties.embedding as number[]) : [],
    namespace: String(properties.namespace ?? ''),
    ...scopeOf(properties),
    mentions: Number(properties.mentions ?? 0),
    ...(metadata === undefined
      ? {}
      : { metadata: JSON.parse(metadata) as Record<string, JsonValue> }),
    createdAt: String(properties.createdAt ?? ''),
    updatedAt: String(properties.updatedAt ?? ''),
  };
}

/** A relation from an edge's properties and its endpoints' ids. */
export function relationFromStoredProperties(
  properties: Properties,
  sourceId: string,
  destinationId: string,
): GraphRelation {
  return {
    id: String(properties.id),
    sourceId,
    relationship: String(properties.relationship ?? ''),
    destinationId,
    namespace: String(properties.namespace ?? ''),
    ...scopeOf(properties),
    mentions: Number(properties.mentions ?? 0),
    createdAt: String(properties.createdAt ?? ''),
    updatedAt: String(properties.updatedAt ?? ''),
    invalidatedAt: optionalString(properties.invalidatedAt) ?? null,
  };
}

/** A triple from the stored properties of a relation edge and of its two nodes. */
export function tripleFromStoredProperties(
  relation: Properties,
  source: Properties,
  destination: Properties,
): GraphTriple {
  const sourceEntity = entityFromStoredProperties(source);
  const destinationEntity = entityFromStoredProperties(destination);
  return {
    relation: relationFromStoredProperties(relation, sourceEntity.id, destinationEntity.id),
    source: sourceEntity,
    destination: destinationEntity,
  };
}
