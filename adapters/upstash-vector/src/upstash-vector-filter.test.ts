import { orderedHex } from '@engram/adapter-kit';
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
  pathKey,
  scalarToken,
  translateUpstashVectorFilter,
  upstashVectorFilterFields,
} from './upstash-vector-filter.js';
import {
  type UpstashFilterSemantics,
  upstashFilterSelects,
} from './upstash-vector-model.test-support.js';

// The translated filter is evaluated by a model of Upstash Vector's filter language (not the
// service) on the projection this adapter stores, under both readings of operators on missing
// keys, and compared with core's matchesFilter.
const semanticsVariants: UpstashFilterSemantics[] = [
  { missingMatches: true },
  { missingMatches: false },
];

function selects(
  filter: FilterExpression,
  metadata: Record<string, JsonValue>,
  semantics: UpstashFilterSemantics,
): boolean {
  const translated = translateUpstashVectorFilter(filter);
  if (typeof translated === 'boolean') return translated;
  return upstashFilterSelects(translated, { ...upstashVectorFilterFields(metadata) }, semantics);
}

describe('translateUpstashVectorFilter', () => {
  it.each(portableFilterCases)('%s', (_name, filter, expected) => {
    expect(referenceIds(filter)).toEqual(expected);
    for (const semantics of semanticsVariants) {
      const selected = selectedIds((metadata) => selects(filter, metadata, semantics));
      expect(selected, JSON.stringify(semantics)).toEqual(expected);
    }
  });

  it('projects metadata onto hex tokens, present paths, numbers and order-encoded strings', () => {
    expect(
      upstashVectorFilterFields({ n: 1, s: "it's", tags: ['x'], nested: { c: 2.5 }, gone: null }),
    ).toEqual({
      t: ['', orderedHex('n=n:1'), orderedHex("s=s:it's"), orderedHex('nested.c=n:2.5')],
      p: ['', ...['n', 's', 'tags', 'nested', 'nested.c'].map(orderedHex)],
      n: { [pathKey('n')]: 1, [pathKey('nested.c')]: 2.5 },
      s: { [pathKey('s')]: orderedHex("it's") },
    });
    expect(pathKey('a-b.c')).toMatch(/^f[0-9a-f]+$/);
    expect(scalarToken(1)).not.toBe(scalarToken('1'));
  });

  it('builds the documented shapes with hex literals only, and no NOT', () => {
    expect(translateUpstashVectorFilter({ op: 'eq', field: 'k', value: "O'Hare" })).toBe(
      `t CONTAINS '${orderedHex("k=s:O'Hare")}'`,
    );
    expect(translateUpstashVectorFilter({ op: 'nin', field: 'k', values: [1, 2] })).toBe(
      `(t NOT CONTAINS '${orderedHex('k=n:1')}' AND t NOT CONTAINS '${orderedHex('k=n:2')}')`,
    );
    expect(translateUpstashVectorFilter({ op: 'gte', field: 'age', value: 30 })).toBe(
      `(HAS FIELD n.${pathKey('age')} AND n.${pathKey('age')} >= 30)`,
    );
    expect(
      translateUpstashVectorFilter({ op: 'not', filter: { op: 'lt', field: 's', value: 'b' } }),
    ).toBe(`(HAS NOT FIELD s.${pathKey('s')} OR s.${pathKey('s')} >= '${orderedHex('b')}')`);
    expect(translateUpstashVectorFilter({ op: 'in', field: 'k', values: [] })).toBe(false);
    expect(translateUpstashVectorFilter({ op: 'nin', field: 'k', values: [] })).toBe(true);
    expect(() =>
      translateUpstashVectorFilter({ op: 'contains', field: 'tags', value: 'x' }),
    ).toThrow(UnsupportedFunctionalityError);
    expect(() => translateUpstashVectorFilter({ op: 'gt', field: 'n', value: 1e21 })).toThrow(
      UnsupportedFunctionalityError,
    );
  });

  it('random nested filters select what matchesFilter selects (against the model, both readings)', () => {
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
