import {
  type GraphEntity,
  type GraphRelation,
  type GraphTriple,
  type JsonValue,
  type Scope,
  scopeFields,
} from '@engram/core';
import type { CypherDialect } from './cypher-dialect.js';
import { entityPropertyNames, relationPropertyNames } from './cypher-statements.js';

/** One row a statement returned, by column name. */
export type CypherRow = Record<string, unknown>;

function pick(values: Record<string, unknown>, names: readonly string[]) {
  return Object.fromEntries(names.map((name) => [name, values[name]]));
}

/**
 * Node properties of an entity. `bolt`: scope fields and metadata only when set, metadata as a
 * JSON string. `neptune`: every name present (null where absent, which removes the property),
 * the embedding and the metadata as JSON strings.
 */
export function entityProperties(entity: GraphEntity, dialect: CypherDialect): CypherRow {
  const bolt = dialect.flavour === 'bolt';
  const properties: CypherRow = {
    id: entity.id,
    name: entity.name,
    type: entity.type,
    embedding: bolt ? entity.embedding : JSON.stringify(entity.embedding),
    namespace: entity.namespace,
    mentions: entity.mentions,
    createdAt: entity.createdAt,
    updatedAt: entity.updatedAt,
  };
  const metadata = entity.metadata === undefined ? null : JSON.stringify(entity.metadata);
  if (!bolt) return pick({ ...properties, ...scopeOrNull(entity), metadata }, entityPropertyNames);
  if (metadata !== null) properties.metadata = metadata;
  return { ...properties, ...scopeOf(entity) };
}

/**
 * Edge properties of a relation. `bolt`: scope fields and `invalidatedAt` only when set.
 * `neptune`: every name present, null where absent.
 */
export function relationProperties(relation: GraphRelation, dialect: CypherDialect): CypherRow {
  const properties: CypherRow = {
    id: relation.id,
    relationship: relation.relationship,
    sourceId: relation.sourceId,
    destinationId: relation.destinationId,
    namespace: relation.namespace,
    mentions: relation.mentions,
    createdAt: relation.createdAt,
    updatedAt: relation.updatedAt,
  };
  const { invalidatedAt } = relation;
  if (dialect.flavour === 'neptune') {
    return pick({ ...properties, ...scopeOrNull(relation), invalidatedAt }, relationPropertyNames);
  }
  if (invalidatedAt !== null) properties.invalidatedAt = invalidatedAt;
  return { ...properties, ...scopeOf(relation) };
}

function scopeOrNull(record: Scope): Record<string, string | null> {
  return Object.fromEntries(scopeFields.map((field) => [field, record[field] ?? null]));
}

function scopeOf(properties: object): Scope {
  const scope: Scope = {};
  for (const field of scopeFields) {
    const value = (properties as Record<string, unknown>)[field];
    if (typeof value === 'string') scope[field] = value;
  }
  return scope;
}

/** A number from a returned value; Bolt integers arrive as objects with `toNumber()`. */
export function numberFromCypher(value: unknown): number {
  const integer = value as { toNumber?: unknown } | null;
  if (typeof integer?.toNumber === 'function') return (integer.toNumber as () => number)();
  return Number(value);
}

/** The property map of a returned value: a plain map, or a node/edge with `~properties` (Neptune). */
export function propertiesOf(value: unknown): CypherRow {
  if (value == null || typeof value !== 'object') return {};
  const nested = (value as { '~properties'?: unknown })['~properties'];
  if (nested != null && typeof nested === 'object') return nested as CypherRow;
  return value as CypherRow;
}

function embeddingOf(value: unknown): number[] {
  if (typeof value === 'string') return JSON.parse(value) as number[];
  return Array.isArray(value) ? value.map(numberFromCypher) : [];
}

/** An entity from the node properties a statement returned, in either flavour. */
export function entityFromProperties(value: unknown): GraphEntity {
  const properties = propertiesOf(value);
  const entity: GraphEntity = {
    id: String(properties.id),
    name: String(properties.name),
    type: String(properties.type),
    embedding: embeddingOf(properties.embedding),
    namespace: String(properties.namespace),
    ...scopeOf(properties),
    mentions: numberFromCypher(properties.mentions),
    createdAt: String(properties.createdAt),
    updatedAt: String(properties.updatedAt),
  };
  if (typeof properties.metadata === 'string') {
    entity.metadata = JSON.parse(properties.metadata) as Record<string, JsonValue>;
  }
  return entity;
}

/** A relation from the edge properties a statement returned, in either flavour. */
export function relationFromProperties(value: unknown): GraphRelation {
  const properties = propertiesOf(value);
  return {
    id: String(properties.id),
    sourceId: String(properties.sourceId),
    relationship: String(properties.relationship),
    destinationId: String(properties.destinationId),
    namespace: String(properties.namespace),
    ...scopeOf(properties),
    mentions: numberFromCypher(properties.mentions),
    createdAt: String(properties.createdAt),
    updatedAt: String(properties.updatedAt),
    invalidatedAt: typeof properties.invalidatedAt === 'string' ? properties.invalidatedAt : null,
  };
}

/** A triple from a row with `relation`, `source` and `destination` columns. */
export function tripleFromRow(row: CypherRow): GraphTriple {
  return {
    relation: relationFromProperties(row.relation),
    source: entityFromProperties(row.source),
    destination: entityFromProperties(row.destination),
  };
}
