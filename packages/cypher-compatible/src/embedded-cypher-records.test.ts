import type { GraphEntity, GraphRelation } from '@engram/core';
import { describe, expect, it } from 'vitest';
import { relationPageConditions, scopeClauses } from './embedded-cypher-queries.js';
import {
  entityFromStoredProperties,
  relationFromStoredProperties,
  storedEntityProperties,
  storedRelationProperties,
  tripleFromStoredProperties,
} from './embedded-cypher-records.js';

const entity: GraphEntity = {
  id: 'e1',
  name: 'alice',
  type: 'person',
  embedding: [1, 0.5, -0],
  userId: 'alice',
  mentions: 2,
  metadata: { note: 'café', nested: { n: 1 } },
  createdAt: '2024-01-01T00:00:00.000Z',
  updatedAt: '2024-01-02T00:00:00.000Z',
};

const relation: GraphRelation = {
  id: 'r1',
  sourceId: 'e1',
  relationship: 'works_at',
  destinationId: 'e2',
  userId: 'alice',
  agentId: 'travel',
  mentions: 1,
  createdAt: '2024-01-01T00:00:00.000Z',
  updatedAt: '2024-01-01T00:00:00.000Z',
  invalidatedAt: null,
};

describe('stored properties of entities and relations', () => {
  it('stores absent fields as null and metadata as JSON text', () => {
    expect(storedEntityProperties(entity)).toMatchObject({
      agentId: null,
      runId: null,
      metadata: '{"note":"café","nested":{"n":1}}',
    });
    expect(storedEntityProperties({ ...entity, metadata: undefined }).metadata).toBeNull();
    expect(storedRelationProperties(relation)).toMatchObject({ runId: null, invalidatedAt: null });
  });

  it('reads them back, leaving absent fields absent and ignoring other keys', () => {
    const node = {
      _id: { offset: 0, table: 0 },
      _label: 'Entity',
      ...storedEntityProperties(entity),
    };
    expect(entityFromStoredProperties(node)).toEqual(entity);
    expect(entityFromStoredProperties({ ...node, metadata: null })).not.toHaveProperty('metadata');
    const { invalidatedAt: _, ...edge } = storedRelationProperties(relation);
    expect(relationFromStoredProperties(edge, 'e1', 'e2')).toEqual(relation);
    const destination = storedEntityProperties({ ...entity, id: 'e2' });
    expect(
      tripleFromStoredProperties(storedRelationProperties(relation), node, destination),
    ).toEqual({ relation, source: entity, destination: { ...entity, id: 'e2' } });
  });
});

describe('Cypher pieces', () => {
  it('binds each scope field to a $scope_ parameter, in a clause the dialect writes', () => {
    expect(
      scopeClauses({ userId: 'u', runId: 'r' }, (field, parameter) => `e.${field} = ${parameter}`),
    ).toEqual({
      clauses: ['e.userId = $scope_userId', 'e.runId = $scope_runId'],
      parameters: { scope_userId: 'u', scope_runId: 'r' },
    });
  });

  it('pages relations by id, one row more than the page', () => {
    expect(relationPageConditions({ limit: 5 })).toEqual({
      conditions: ['r.invalidatedAt IS NULL'],
      parameters: { limit: 6 },
    });
    expect(relationPageConditions({ limit: 5, after: 'r9', includeInvalidated: true })).toEqual({
      conditions: ['r.id > $after'],
      parameters: { limit: 6, after: 'r9' },
    });
  });
});
