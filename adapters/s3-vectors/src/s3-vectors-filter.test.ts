import {
  portableFilterCases,
  portableFilterDocuments,
  randomPortableFilters,
  referenceIds,
  selectedIds,
} from '@engram/adapter-kit/testing';
import {
  type FilterExpression,
  type JsonValue,
  matchesFilter,
  UnsupportedFunctionalityError,
} from '@engram/core';
import { describe, expect, it } from 'vitest';
import {
  s3VectorsFilterFields,
  scalarToken,
  stringOrderChunks,
  translateS3VectorsFilter,
} from './s3-vectors-filter.js';
import {
  type S3VectorsFilterSemantics,
  s3VectorsFilterSelects,
} from './s3-vectors-model.test-support.js';

const semanticsVariants: S3VectorsFilterSemantics[] = [
  { negationsMatchMissing: true },
  { negationsMatchMissing: false },
];

function selects(
  filter: FilterExpression,
  metadata: Record<string, JsonValue>,
  semantics: S3VectorsFilterSemantics,
): boolean {
  const translated = translateS3VectorsFilter(filter);
  if (typeof translated === 'boolean') return translated;
  return s3VectorsFilterSelects(translated, s3VectorsFilterFields(metadata), semantics);
}

describe('translateS3VectorsFilter', () => {
  it.each(portableFilterCases)('%s', (_name, filter, expected) => {
    expect(referenceIds(filter)).toEqual(expected);
    for (const semantics of semanticsVariants) {
      const selected = selectedIds((metadata) => selects(filter, metadata, semantics));
      expect(selected, JSON.stringify(semantics)).toEqual(expected);
    }
  });

  it('flattens metadata onto flat keys: typed tokens, numbers, string order keys, paths', () => {
    const fields = s3VectorsFilterFields({
      n: 1,
      s: 'ab',
      nested: { c: true },
      tags: ['x'],
      gone: null,
    });
    expect(fields).toMatchObject({
      'v/n': 'n:1',
      'n/n': 1,
      'v/s': 's:ab',
      's0/s': expect.any(Number),
      'v/nested/c': 'b:true',
      p: ['nested', 'tags'],
    });
    expect(scalarToken('x'.repeat(25))).toMatch(/^h:[\w-]{22}$/);
    expect(scalarToken(1)).not.toBe(scalarToken('1'));
  });

  it('builds the documented shapes, with no $not and no empty $in', () => {
    expect(translateS3VectorsFilter({ op: 'eq', field: 'nested.city', value: 'Paris' })).toEqual({
      'v/nested/city': { $in: ['s:Paris'] },
    });
    expect(translateS3VectorsFilter({ op: 'ne', field: 'k', value: 3 })).toEqual({
      $or: [{ 'v/k': { $exists: false } }, { 'v/k': { $ne: 'n:3' } }],
    });
    expect(translateS3VectorsFilter({ op: 'gte', field: 'age', value: 30 })).toEqual({
      'n/age': { $gte: 30 },
    });
    expect(translateS3VectorsFilter({ op: 'in', field: 'k', values: [] })).toBe(false);
    expect(translateS3VectorsFilter({ op: 'nin', field: 'k', values: [] })).toBe(true);
    expect(() => translateS3VectorsFilter({ op: 'contains', field: 'tags', value: 'x' })).toThrow(
      UnsupportedFunctionalityError,
    );
    expect(() =>
      translateS3VectorsFilter({ op: 'lt', field: 's', value: 'x'.repeat(3 * stringOrderChunks) }),
    ).toThrow(UnsupportedFunctionalityError);
  });

  it('random nested filters select what matchesFilter selects (against the model, both $ne readings)', () => {
    for (const expression of randomPortableFilters(400)) {
      for (const metadata of Object.values(portableFilterDocuments)) {
        for (const semantics of semanticsVariants) {
          expect(selects(expression, metadata, semantics), JSON.stringify(expression)).toBe(
            matchesFilter(expression, metadata),
          );
        }
      }
    }
  });
});
