import { describe, expect, it } from 'vitest';
import {
  encodeTerm,
  fromSource,
  indexMetadata,
  toDocument,
} from './elasticsearch-compatible-document.js';

describe('documents', () => {
  it('round-trips a record and leaves absent fields absent', () => {
    const record = {
      id: 'r1',
      vector: [0.1, 0.2],
      text: 'hello',
      userId: 'alice',
      metadata: { a: { b: [1, 'x', null] }, n: null, 'dotted.key': 1 },
      createdAt: '2024-01-01T00:00:00.000Z',
      updatedAt: '2024-01-02T00:00:00.000Z',
    };
    const document = toDocument(record);
    expect(document).not.toHaveProperty('agent_id');
    expect(document).not.toHaveProperty('hash');
    expect(fromSource(document, 'r1')).toEqual(record);
    const { vector: _, ...withoutVector } = document;
    expect(fromSource(withoutVector, 'r1')).not.toHaveProperty('vector');
  });

  it('indexes paths, typed scalar terms and array elements the way readField sees them', () => {
    expect(
      indexMetadata({ a: { b: [1, 'x', null, { c: 1 }] }, n: null, s: 's', 'd.k': 1 }),
    ).toEqual({
      metadata_terms: ['s\u0000s:s'],
      metadata_elements: [encodeTerm('a.b', 1), 'a.b\u0000s:x'],
      metadata_paths: ['a', 'a.b', 's'],
    });
  });
});
