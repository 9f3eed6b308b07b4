import { sampleGraphEntity, sampleGraphRelation } from '@engram/core/testing';
import { describe, expect, it } from 'vitest';
import { placeClauses, relationPageConditions, scopeClauses } from './embedded-cypher-queries.js';
import {
  entityFromStoredProperties,
  relationFromStoredProperties,
  storedEntityProperties,
  storedRelationProperties,
  tripleFromStoredProperties,
} from './embedded-cypher-records.js';

const entity = sampleGraphEntity({ embedding: [1, 0.5, -0] });
const relation = sampleGraphRelation();

describe('stored properties of entities and relations', () => {
  it('stores absent fields as null and metadata as JSON text', () => {
    expect(storedEntityProperties(entity)).toMatchObject({
      namespace: 'memories',
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

  it('puts the namespace first, bound to $scope_namespace', () => {
    expect(
      placeClauses('p_a', { userId: 'u' }, (field, parameter) => `${field}: ${parameter}`),
    ).toEqual({
      clauses: ['namespace: $scope_namespace', 'userId: $scope_userId'],
      parameters: { scope_namespace: 'p_a', scope_userId: 'u' },
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
