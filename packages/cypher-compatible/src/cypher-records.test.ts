import type { GraphEntity, GraphRelation } from '@engram/core';
import { describe, expect, it } from 'vitest';
import type { CypherDialect } from './cypher-dialect.js';
import {
  entityFromProperties,
  entityProperties,
  numberFromCypher,
  relationFromProperties,
  relationProperties,
  tripleFromRow,
} from './cypher-records.js';

const time = '2024-05-01T00:00:00.000Z';
const dialects = {
  bolt: { flavour: 'bolt', similarity: 'arithmetic' },
  neptune: { flavour: 'neptune', similarity: 'client' },
} satisfies Record<string, CypherDialect>;
const { bolt, neptune } = dialects;

const entity: GraphEntity = {
  id: 'e1',
  name: 'alice',
  type: 'person',
  embedding: [0.5, -1],
  namespace: 'p_a',
  userId: 'u',
  mentions: 2,
  metadata: { note: 'café ✓', nested: { list: [1, null] } },
  createdAt: time,
  updatedAt: time,
};

const relation: GraphRelation = {
  id: 'r1',
  sourceId: 's',
  relationship: 'knows',
  destinationId: 'd',
  namespace: 'p_a',
  runId: 'r',
  mentions: 1,
  createdAt: time,
  updatedAt: time,
  invalidatedAt: null,
};

describe('Cypher records', () => {
  it.each([bolt, neptune])('$flavour: entities and relations read back as written', (dialect) => {
    expect(entityFromProperties(entityProperties(entity, dialect))).toEqual(entity);
    expect(relationFromProperties(relationProperties(relation, dialect))).toEqual(relation);
    const invalid = { ...relation, invalidatedAt: time };
    expect(relationFromProperties(relationProperties(invalid, dialect))).toEqual(invalid);
  });

  it('bolt: scope fields, metadata and invalidatedAt only when set; metadata as JSON', () => {
    const properties = entityProperties(entity, bolt);
    expect(properties).not.toHaveProperty('agentId');
    expect(properties.embedding).toEqual([0.5, -1]);
    expect(properties.metadata).toBe(JSON.stringify(entity.metadata));
    expect(entityProperties({ ...entity, metadata: undefined }, bolt)).not.toHaveProperty(
      'metadata',
    );
    expect(relationProperties(relation, bolt)).not.toHaveProperty('invalidatedAt');
  });

  it('neptune: every property named, null where absent, lists and maps as JSON strings', () => {
    expect(entityProperties({ ...entity, agentId: 'bot' }, neptune)).toEqual({
      id: 'e1',
      name: 'alice',
      type: 'person',
      embedding: '[0.5,-1]',
      namespace: 'p_a',
      userId: 'u',
      agentId: 'bot',
      runId: null,
      mentions: 2,
      metadata: JSON.stringify(entity.metadata),
      createdAt: time,
      updatedAt: time,
    });
    const properties = relationProperties(relation, neptune);
    expect(Object.keys(properties)).toHaveLength(12);
    expect(properties.namespace).toBe('p_a');
    expect(properties.invalidatedAt).toBeNull();
    expect(properties.userId).toBeNull();
  });

  it('reads Bolt integers, and nodes returned with ~properties', () => {
    const integer = (value: number) => ({ toNumber: () => value });
    const stored = { ...entityProperties(entity, bolt), mentions: integer(2) };
    expect(entityFromProperties(stored)).toEqual(entity);
    expect(numberFromCypher(integer(7))).toBe(7);
    expect(numberFromCypher(3)).toBe(3);
    const node = { '~id': 'x', '~labels': ['EngramEntity'], '~properties': stored };
    const edge = { '~id': 'y', '~properties': relationProperties(relation, neptune) };
    expect(tripleFromRow({ relation: edge, source: node, destination: node })).toEqual({
      relation,
      source: entity,
      destination: entity,
    });
  });
});
