import {
  portableContainsCases,
  portableFilterCases,
  portableFilterDocuments,
  randomPortableFilters,
  referenceIds,
  selectedIds,
} from '@engram/adapter-kit/testing';
import { type FilterExpression, type JsonValue, matchesFilter } from '@engram/core';
import { describe, expect, it } from 'vitest';
import {
  arrayElementToken,
  neptuneAnalyticsFilterProperties,
  renderNeptuneAnalyticsCondition,
  translateNeptuneAnalyticsFilter,
} from './neptune-analytics-filter.js';
import { parseModelCondition } from './neptune-analytics-model.test-support.js';

function selects(filter: FilterExpression, metadata: Record<string, JsonValue>): boolean {
  const parameters: Record<string, unknown> = {};
  const cypher = renderNeptuneAnalyticsCondition(
    translateNeptuneAnalyticsFilter(filter),
    parameters,
  );
  const condition = parseModelCondition(cypher, parameters);
  return condition(neptuneAnalyticsFilterProperties(metadata)) === true;
}

describe('translateNeptuneAnalyticsFilter', () => {
  it.each([...portableFilterCases, ...portableContainsCases])('%s', (_name, filter, expected) => {
    expect(referenceIds(filter)).toEqual(expected);
    expect(selectedIds((metadata) => selects(filter, metadata))).toEqual(expected);
  });

  it('writes typed scalar properties, hex order keys, array tokens and object markers', () => {
    expect(
      neptuneAnalyticsFilterProperties({
        n: 1,
        s: 'ab',
        b: false,
        nested: { c: true },
        tags: ['x|y', 2, null],
        gone: null,
        'bad.key': 1,
      }),
    ).toEqual({
      'n:n': 1,
      's:s': 'ab',
      'h:s': '00610062',
      'b:b': false,
      'o:nested': true,
      'b:nested.c': true,
      'a:tags': '|s:x%7Cy|n:2|',
    });
    expect(arrayElementToken('%|')).toBe('s:%25%7C');
  });

  it('renders coalesced comparisons with parameters, and constants for empty lists', () => {
    const parameters: Record<string, unknown> = {};
    const cypher = renderNeptuneAnalyticsCondition(
      translateNeptuneAnalyticsFilter({
        op: 'not',
        filter: {
          op: 'or',
          filters: [
            { op: 'in', field: 'k', values: ['a', 1, 'b'] },
            { op: 'lt', field: 'nested.city', value: 'P' },
          ],
        },
      }),
      parameters,
    );
    expect(cypher).toBe(
      'NOT ((coalesce(n.`s:k` IN $f0, false) OR coalesce(n.`n:k` = $f1, false)) OR coalesce(n.`h:nested.city` < $f2, false))',
    );
    expect(parameters).toEqual({ f0: ['a', 'b'], f1: 1, f2: '0050' });
    expect(translateNeptuneAnalyticsFilter({ op: 'in', field: 'k', values: [] })).toBe(false);
    expect(translateNeptuneAnalyticsFilter({ op: 'nin', field: 'k', values: [] })).toBe(true);
  });

  it('random nested filters select what matchesFilter selects (against the model)', () => {
    for (const expression of randomPortableFilters(400)) {
      for (const metadata of Object.values(portableFilterDocuments)) {
        expect(selects(expression, metadata), JSON.stringify(expression)).toBe(
          matchesFilter(expression, metadata),
        );
      }
    }
  });
});
