import type { GraphEntity, GraphRelation, Scope } from '@engram/core';
import { newId } from './support.js';

/** The creation and update time of every fixture. */
export const fixtureTime = '2024-05-01T00:00:00.000Z';

/** The namespace of fixtures that name none. */
export const fixtureNamespace = 'conformance';

/**
 * A graph entity in a scope (and {@link fixtureNamespace}), with a fresh id and one mention;
 * `fields` override the rest.
 */
export function graphEntity(
  scope: Scope,
  name: string,
  embedding: number[],
  fields: Partial<GraphEntity> = {},
): GraphEntity {
  return {
    id: newId(),
    name,
    type: 'person',
    embedding,
    namespace: fixtureNamespace,
    ...scope,
    mentions: 1,
    createdAt: fixtureTime,
    updatedAt: fixtureTime,
    ...fields,
  };
}

/**
 * A valid relation between two entities of a scope, with a fresh id, in the source entity's
 * namespace; `fields` override the rest.
 */
export function graphRelation(
  scope: Scope,
  source: GraphEntity,
  relationship: string,
  destination: GraphEntity,
  fields: Partial<GraphRelation> = {},
): GraphRelation {
  return {
    id: newId(),
    sourceId: source.id,
    relationship,
    destinationId: destination.id,
    namespace: source.namespace,
    ...scope,
    mentions: 1,
    createdAt: fixtureTime,
    updatedAt: fixtureTime,
    invalidatedAt: null,
    ...fields,
  };
}
