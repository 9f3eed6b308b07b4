import {
  type FilterExpression,
  InvalidArgumentError,
  type JsonValue,
  matchesFilter,
  UnsupportedFunctionalityError,
} from '@engram/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  encodeTerm,
  indexMetadata,
  type MetadataIndex,
  maxIndexedTermLength,
  sortableNumber,
} from './elasticsearch-document.js';
import {
  type ElasticsearchQuery,
  escapeWildcard,
  selectionQuery,
  translateElasticsearchFilter,
} from './elasticsearch-filter.js';

// A small evaluator of the query DSL subset the translation emits, over the derived keyword
// fields, with Elasticsearch's rules: keyword terms compare by UTF-8 bytes, terms longer than
// `ignore_above` are not indexed, wildcard `*`/`?` with `\` escapes. It lets the table check
// what the translated query selects, not only its shape.
type Indexed = Record<string, string[]>;

function indexed(metadata: Record<string, JsonValue>): Indexed {
  const index: MetadataIndex = indexMetadata(metadata);
  return Object.fromEntries(
    Object.entries(index).map(([field, terms]: [string, string[]]) => [
      field,
      terms.filter((term) => field === 'metadata_paths' || term.length <= maxIndexedTermLength),
    ]),
  );
}

function compareBytes(left: string, right: string): number {
  return Buffer.compare(Buffer.from(left, 'utf8'), Buffer.from(right, 'utf8'));
}

function wildcardRegExp(pattern: string): RegExp {
  let source = '';
  for (let index = 0; index < pattern.length; index++) {
    const character = pattern[index]!;
    if (character === '\\') {
      index++;
      source += (pattern[index] ?? '').replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    } else if (character === '*') source += '[\\s\\S]*';
    else if (character === '?') source += '[\\s\\S]';
    else source += character.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 'u');
}

function evaluate(query: ElasticsearchQuery, document: Indexed): boolean {
  const [kind, body] = Object.entries(query)[0] as [string, Record<string, unknown>];
  switch (kind) {
    case 'match_all':
      return true;
    case 'match_none':
      return false;
    case 'term': {
      const [field, value] = Object.entries(body)[0]!;
      return (document[field] ?? []).includes(value as string);
    }
    case 'terms': {
      const [field, values] = Object.entries(body)[0]!;
      return (document[field] ?? []).some((term) => (values as string[]).includes(term));
    }
    case 'range': {
      const [field, limits] = Object.entries(body)[0]! as [string, Record<string, string>];
      return (document[field] ?? []).some(
        (term) =>
          (limits.gt === undefined || compareBytes(term, limits.gt) > 0) &&
          (limits.gte === undefined || compareBytes(term, limits.gte) >= 0) &&
          (limits.lt === undefined || compareBytes(term, limits.lt) < 0) &&
          (limits.lte === undefined || compareBytes(term, limits.lte) <= 0),
      );
    }
    case 'wildcard': {
      const [field, { value }] = Object.entries(body)[0]! as [string, { value: string }];
      const pattern = wildcardRegExp(value);
      return (document[field] ?? []).some((term) => pattern.test(term));
    }
    case 'bool': {
      const clauses = body as Record<string, ElasticsearchQuery[]>;
      const all = [...(clauses.filter ?? []), ...(clauses.must ?? [])];
      if (!all.every((child) => evaluate(child, document))) return false;
      if ((clauses.must_not ?? []).some((child) => evaluate(child, document))) return false;
      if (clauses.should && !clauses.should.some((child) => evaluate(child, document))) {
        return false;
      }
      return true;
    }
    default:
      throw new Error(`the evaluator does not know ${kind}`);
  }
}

const documents: Record<string, Record<string, JsonValue>> = {
  a: { n: 1, s: 'one', b: true, tags: ['x', 1, true], nested: { city: 'Paris' }, big: 10 },
  b: { n: '1', s: 'One', b: false, tags: ['y'], nested: { city: 'Berlin' }, 'dash-key': 5 },
  c: { n: 2.5, s: 'two words', tags: [], nested: 'flat', nothing: null, big: 9 },
  d: {},
  e: { n: true, s: 'café', tags: 'x-ray', nested: { city: null }, list: [{ city: 'Paris' }] },
  f: { n: -3, s: 'a*b?c\\d', big: -0.5, 'dotted.key': 'x', deep: { a: { b: { c: 1 } } } },
};

const cases: [name: string, filter: FilterExpression, expected: string[]][] = [
  ['eq number', { op: 'eq', field: 'n', value: 1 }, ['a']],
  ['eq string is not the number', { op: 'eq', field: 'n', value: '1' }, ['b']],
  ['eq true is not 1', { op: 'eq', field: 'n', value: true }, ['e']],
  ['eq false', { op: 'eq', field: 'b', value: false }, ['b']],
  ['eq float', { op: 'eq', field: 'n', value: 2.5 }, ['c']],
  ['eq negative', { op: 'eq', field: 'n', value: -3 }, ['f']],
  ['eq is case-sensitive', { op: 'eq', field: 's', value: 'one' }, ['a']],
  ['eq nested', { op: 'eq', field: 'nested.city', value: 'Paris' }, ['a']],
  ['eq deep', { op: 'eq', field: 'deep.a.b.c', value: 1 }, ['f']],
  ['eq does not reach into arrays', { op: 'eq', field: 'list.city', value: 'Paris' }, []],
  ['eq array never equals an element', { op: 'eq', field: 'tags', value: 'x' }, []],
  ['eq a key with a dash', { op: 'eq', field: 'dash-key', value: 5 }, ['b']],
  ['eq a dotted key is not a path', { op: 'eq', field: 'dotted.key', value: 'x' }, []],
  ['ne matches missing fields', { op: 'ne', field: 'n', value: 1 }, ['b', 'c', 'd', 'e', 'f']],
  ['ne boolean', { op: 'ne', field: 'b', value: true }, ['b', 'c', 'd', 'e', 'f']],
  ['gt number', { op: 'gt', field: 'n', value: 1 }, ['c']],
  ['gte number', { op: 'gte', field: 'n', value: 1 }, ['a', 'c']],
  ['lt number across signs', { op: 'lt', field: 'n', value: 2 }, ['a', 'f']],
  ['lt number ignores strings and booleans', { op: 'lt', field: 'n', value: 3 }, ['a', 'c', 'f']],
  ['lte number', { op: 'lte', field: 'big', value: 9 }, ['c', 'f']],
  ['gt negative fraction', { op: 'gt', field: 'big', value: -1 }, ['a', 'c', 'f']],
  ['gt string', { op: 'gt', field: 's', value: 'one' }, ['c']],
  ['gte string', { op: 'gte', field: 's', value: 'one' }, ['a', 'c']],
  ['lt string ignores numbers', { op: 'lt', field: 'n', value: 'z' }, ['b']],
  ['lte string', { op: 'lte', field: 's', value: 'One' }, ['b']],
  ['range never crosses into another path', { op: 'gt', field: 'b', value: 'a' }, []],
  ['in mixed types', { op: 'in', field: 'n', values: ['1', 2.5] }, ['b', 'c']],
  ['in boolean', { op: 'in', field: 'n', values: [true] }, ['e']],
  ['in empty', { op: 'in', field: 'n', values: [] }, []],
  [
    'nin matches missing fields',
    { op: 'nin', field: 'n', values: [1, true] },
    ['b', 'c', 'd', 'f'],
  ],
  ['nin empty', { op: 'nin', field: 'n', values: [] }, ['a', 'b', 'c', 'd', 'e', 'f']],
  ['contains array element string', { op: 'contains', field: 'tags', value: 'x' }, ['a', 'e']],
  ['contains array element number', { op: 'contains', field: 'tags', value: 1 }, ['a']],
  ['contains array element boolean', { op: 'contains', field: 'tags', value: true }, ['a']],
  ['contains substring', { op: 'contains', field: 's', value: 'wor' }, ['c']],
  ['contains is case-sensitive', { op: 'contains', field: 's', value: 'On' }, ['b']],
  ['contains wildcard characters literally', { op: 'contains', field: 's', value: '*b?' }, ['f']],
  ['contains a backslash', { op: 'contains', field: 's', value: 'c\\d' }, ['f']],
  ['contains empty string', { op: 'contains', field: 's', value: '' }, ['a', 'b', 'c', 'e', 'f']],
  ['contains number in a string', { op: 'contains', field: 'n', value: 1 }, []],
  ['exists', { op: 'exists', field: 'big' }, ['a', 'c', 'f']],
  ['exists ignores null', { op: 'exists', field: 'nothing' }, []],
  ['exists nested null', { op: 'exists', field: 'nested.city' }, ['a', 'b']],
  ['exists of an object or array', { op: 'exists', field: 'list' }, ['e']],
  ['not exists', { op: 'not', filter: { op: 'exists', field: 'b' } }, ['c', 'd', 'e', 'f']],
  [
    'and',
    {
      op: 'and',
      filters: [
        { op: 'exists', field: 'tags' },
        { op: 'ne', field: 'b', value: false },
      ],
    },
    ['a', 'c', 'e'],
  ],
  [
    'or',
    {
      op: 'or',
      filters: [
        { op: 'eq', field: 'n', value: 1 },
        { op: 'eq', field: 'nested.city', value: 'Berlin' },
      ],
    },
    ['a', 'b'],
  ],
  [
    'not of or',
    {
      op: 'not',
      filter: {
        op: 'or',
        filters: [
          { op: 'eq', field: 'n', value: 1 },
          { op: 'gt', field: 'big', value: 5 },
        ],
      },
    },
    ['b', 'd', 'e', 'f'],
  ],
];

const indexedDocuments = Object.fromEntries(
  Object.entries(documents).map(([id, metadata]) => [id, indexed(metadata)]),
);

function selected(filter: FilterExpression): string[] {
  const query = translateElasticsearchFilter(filter);
  return Object.keys(documents).filter((id) => evaluate(query, indexedDocuments[id]!));
}

describe('translateElasticsearchFilter', () => {
  it.each(cases)('%s', (_, filter, expected) => {
    const reference = Object.keys(documents).filter((id) => matchesFilter(filter, documents[id]!));
    expect(reference, 'the table agrees with core').toEqual(expected);
    expect(selected(filter)).toEqual(expected);
  });

  it('emits the documented query shapes', () => {
    expect(translateElasticsearchFilter({ op: 'eq', field: 'a.b', value: 'x' })).toEqual({
      term: { metadata_terms: 'a.b\u0000s:x' },
    });
    expect(translateElasticsearchFilter({ op: 'ne', field: 'n', value: true })).toEqual({
      bool: { must_not: [{ term: { metadata_terms: 'n\u0000b:true' } }] },
    });
    expect(translateElasticsearchFilter({ op: 'gte', field: 'n', value: 'k' })).toEqual({
      range: { metadata_terms: { gte: 'n\u0000s:k', lt: 'n\u0000s;' } },
    });
    expect(translateElasticsearchFilter({ op: 'lt', field: 'n', value: 0 })).toEqual({
      range: { metadata_terms: { gte: 'n\u0000n:', lt: `n\u0000n:${sortableNumber(0)}` } },
    });
    expect(translateElasticsearchFilter({ op: 'in', field: 'n', values: [1, '1', 1] })).toEqual({
      terms: { metadata_terms: [encodeTerm('n', 1), 'n\u0000s:1'] },
    });
    expect(translateElasticsearchFilter({ op: 'contains', field: 't', value: 'a*' })).toEqual({
      bool: {
        should: [
          { term: { metadata_elements: 't\u0000s:a*' } },
          { wildcard: { metadata_terms: { value: 't\u0000s:*a\\**' } } },
        ],
        minimum_should_match: 1,
      },
    });
    expect(translateElasticsearchFilter({ op: 'exists', field: 'x' })).toEqual({
      term: { metadata_paths: 'x' },
    });
    expect(
      translateElasticsearchFilter({
        op: 'or',
        filters: [{ op: 'exists', field: 'x' }],
      }),
    ).toEqual({ bool: { should: [{ term: { metadata_paths: 'x' } }], minimum_should_match: 1 } });
  });

  it('puts scope terms and the filter in one bool filter', () => {
    expect(selectionQuery({})).toEqual({ match_all: {} });
    expect(selectionQuery({ userId: 'alice', runId: 'r*' }, { op: 'exists', field: 'x' })).toEqual({
      bool: {
        filter: [
          { term: { user_id: 'alice' } },
          { term: { run_id: 'r*' } },
          { term: { metadata_paths: 'x' } },
        ],
      },
    });
  });

  it('rejects malformed filters and values too long to be indexed', () => {
    expect(() =>
      translateElasticsearchFilter({ op: 'eq', field: 'bad field', value: 1 }),
    ).toThrowError(expect.objectContaining({ code: 'invalid_argument' }));
    const error = (() => {
      try {
        translateElasticsearchFilter({ op: 'eq', field: 's', value: 'x'.repeat(9000) });
      } catch (caught) {
        return caught;
      }
    })();
    expect(UnsupportedFunctionalityError.isInstance(error)).toBe(true);
    expect(InvalidArgumentError.isInstance(error)).toBe(false);
  });

  it('matches core on random metadata and filters', () => {
    const scalar = fc.oneof(
      fc.integer({ min: -5, max: 5 }),
      fc.double({ min: -1e6, max: 1e6, noNaN: true }),
      fc.constantFrom('a', 'A', 'ab', 'b', '', '1', 'true', 'é', '東京', '*', 'a?b'),
      fc.boolean(),
    );
    const metadata = fc.dictionary(
      fc.constantFrom('x', 'y', 'z'),
      fc.oneof(
        scalar,
        fc.constant(null),
        fc.array(scalar, { maxLength: 3 }),
        fc.dictionary(fc.constantFrom('x', 'y'), scalar),
      ),
    ) as fc.Arbitrary<Record<string, JsonValue>>;
    const field = fc.constantFrom('x', 'y', 'x.y', 'z.x');
    const leaf: fc.Arbitrary<FilterExpression> = fc.oneof(
      fc.record({ op: fc.constantFrom('eq' as const, 'ne' as const), field, value: scalar }),
      fc.record({
        op: fc.constantFrom('gt' as const, 'gte' as const, 'lt' as const, 'lte' as const),
        field,
        value: fc.oneof(fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.string()),
      }),
      fc.record({
        op: fc.constantFrom('in' as const, 'nin' as const),
        field,
        values: fc.array(scalar, { maxLength: 3 }),
      }),
      fc.record({ op: fc.constant('contains' as const), field, value: scalar }),
      fc.record({ op: fc.constant('exists' as const), field }),
    );
    const filter = fc.oneof(
      leaf,
      fc.record({ op: fc.constant('not' as const), filter: leaf }),
      fc.record({
        op: fc.constantFrom('and' as const, 'or' as const),
        filters: fc.array(leaf, { minLength: 1, maxLength: 3 }),
      }),
    );
    fc.assert(
      fc.property(metadata, filter, (record, expression) => {
        const query = translateElasticsearchFilter(expression);
        expect(evaluate(query, indexed(record))).toBe(matchesFilter(expression, record));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('sortableNumber', () => {
  it('orders like the numbers and treats -0 as 0', () => {
    const numbers = [-Infinity, -1e300, -2.5, -1, -Number.MIN_VALUE, 0, 1e-300, 0.5, 1, 3, 1e300];
    const encoded = numbers.map(sortableNumber);
    expect([...encoded].sort()).toEqual(encoded);
    expect(sortableNumber(-0)).toBe(sortableNumber(0));
    expect(encoded.every((value) => /^[0-9a-f]{16}$/.test(value))).toBe(true);
  });
});

describe('escapeWildcard', () => {
  it('escapes *, ? and the backslash', () => {
    expect(escapeWildcard('a*b?c\\d')).toBe('a\\*b\\?c\\\\d');
  });
});
