import {
  type FilterExpression,
  type FilterScalar,
  InvalidArgumentError,
  type JsonValue,
  matchesFilter,
  UnsupportedFunctionalityError,
} from '@engram/core';
import { describe, expect, it } from 'vitest';
import {
  encodeTerm,
  indexMetadata,
  type MetadataIndex,
  maxIndexedTermLength,
  sortableNumber,
} from './elasticsearch-compatible-document.js';
import {
  type ElasticsearchCompatibleQuery,
  escapeWildcard,
  selectionQuery,
  translateElasticsearchCompatibleFilter,
} from './elasticsearch-compatible-filter.js';

// A small evaluator of the query DSL subset the translation emits, over the derived keyword
// fields, with the engines' rules: keyword terms compare by UTF-8 bytes, terms longer than
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

function evaluate(query: ElasticsearchCompatibleQuery, document: Indexed): boolean {
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
      const clauses = body as Record<string, ElasticsearchCompatibleQuery[]>;
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

// A seeded generator (mulberry32), so that a failing case is the same on every run.
function seededRandom(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4_294_967_296;
  };
  const integer = (min: number, max: number) => min + Math.floor(next() * (max - min + 1));
  const pick = <T>(items: readonly T[]): T => items[integer(0, items.length - 1)]!;
  const array = <T>(item: () => T, minLength: number, maxLength: number): T[] =>
    Array.from({ length: integer(minLength, maxLength) }, item);
  return { next, integer, pick, array };
}

type Random = ReturnType<typeof seededRandom>;

function randomNumber(random: Random): number {
  return random.pick([
    () => random.integer(-5, 5),
    () => (random.next() * 2 - 1) * 1e6,
    () => random.pick([0, -0, Number.MIN_VALUE, -Number.MIN_VALUE, 0.5, -0.5, 1e6, -1e6]),
  ])();
}

function randomString(random: Random): string {
  const printable = () => String.fromCharCode(random.integer(0x20, 0x7e));
  return random.pick([
    () => random.pick(['a', 'A', 'ab', 'b', '', '1', 'true', 'é', '東京', '*', 'a?b']),
    () => random.array(printable, 0, 6).join(''),
  ])();
}

function randomScalar(random: Random): FilterScalar {
  return random.pick<() => FilterScalar>([
    () => random.integer(-5, 5),
    () => randomNumber(random),
    () => random.pick(['a', 'A', 'ab', 'b', '', '1', 'true', 'é', '東京', '*', 'a?b']),
    () => random.next() < 0.5,
  ])();
}

function randomMetadata(random: Random): Record<string, JsonValue> {
  const metadata: Record<string, JsonValue> = {};
  for (const key of ['x', 'y', 'z']) {
    if (random.next() < 0.4) continue;
    metadata[key] = random.pick<() => JsonValue>([
      () => randomScalar(random),
      () => null,
      () => random.array(() => randomScalar(random), 0, 3),
      () =>
        Object.fromEntries(
          ['x', 'y']
            .filter(() => random.next() < 0.6)
            .map((inner) => [inner, randomScalar(random)]),
        ),
    ])();
  }
  return metadata;
}

function randomLeaf(random: Random): FilterExpression {
  const field = random.pick(['x', 'y', 'x.y', 'z.x']);
  return random.pick<() => FilterExpression>([
    () => ({ op: random.pick(['eq', 'ne'] as const), field, value: randomScalar(random) }),
    () => ({
      op: random.pick(['gt', 'gte', 'lt', 'lte'] as const),
      field,
      value: random.next() < 0.5 ? randomNumber(random) : randomString(random),
    }),
    () => ({
      op: random.pick(['in', 'nin'] as const),
      field,
      values: random.array(() => randomScalar(random), 0, 3),
    }),
    () => ({ op: 'contains', field, value: randomScalar(random) }),
    () => ({ op: 'exists', field }),
  ])();
}

function randomFilter(random: Random): FilterExpression {
  return random.pick<() => FilterExpression>([
    () => randomLeaf(random),
    () => ({ op: 'not', filter: randomLeaf(random) }),
    () => ({
      op: random.pick(['and', 'or'] as const),
      filters: random.array(() => randomLeaf(random), 1, 3),
    }),
  ])();
}

describe.each(['elasticsearch', 'opensearch'])('translating filters for %s', (source) => {
  const translate = (filter: FilterExpression) =>
    translateElasticsearchCompatibleFilter(filter, { source });

  function selected(filter: FilterExpression): string[] {
    const query = translate(filter);
    return Object.keys(documents).filter((id) => evaluate(query, indexedDocuments[id]!));
  }

  it.each(cases)('%s', (_, filter, expected) => {
    const reference = Object.keys(documents).filter((id) => matchesFilter(filter, documents[id]!));
    expect(reference, 'the table agrees with core').toEqual(expected);
    expect(selected(filter)).toEqual(expected);
  });

  it('emits the documented query shapes', () => {
    expect(translate({ op: 'eq', field: 'a.b', value: 'x' })).toEqual({
      term: { metadata_terms: 'a.b\u0000s:x' },
    });
    expect(translate({ op: 'ne', field: 'n', value: true })).toEqual({
      bool: { must_not: [{ term: { metadata_terms: 'n\u0000b:true' } }] },
    });
    expect(translate({ op: 'gte', field: 'n', value: 'k' })).toEqual({
      range: { metadata_terms: { gte: 'n\u0000s:k', lt: 'n\u0000s;' } },
    });
    expect(translate({ op: 'lt', field: 'n', value: 0 })).toEqual({
      range: { metadata_terms: { gte: 'n\u0000n:', lt: `n\u0000n:${sortableNumber(0)}` } },
    });
    expect(translate({ op: 'in', field: 'n', values: [1, '1', 1] })).toEqual({
      terms: { metadata_terms: [encodeTerm('n', 1), 'n\u0000s:1'] },
    });
    expect(translate({ op: 'contains', field: 't', value: 'a*' })).toEqual({
      bool: {
        should: [
          { term: { metadata_elements: 't\u0000s:a*' } },
          { wildcard: { metadata_terms: { value: 't\u0000s:*a\\**' } } },
        ],
        minimum_should_match: 1,
      },
    });
    expect(translate({ op: 'exists', field: 'x' })).toEqual({
      term: { metadata_paths: 'x' },
    });
    expect(
      translate({
        op: 'or',
        filters: [{ op: 'exists', field: 'x' }],
      }),
    ).toEqual({ bool: { should: [{ term: { metadata_paths: 'x' } }], minimum_should_match: 1 } });
  });

  it('puts scope terms and the filter in one bool filter', () => {
    expect(selectionQuery({}, undefined, { source })).toEqual({ match_all: {} });
    expect(
      selectionQuery({ userId: 'alice', runId: 'r*' }, { op: 'exists', field: 'x' }, { source }),
    ).toEqual({
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
    expect(() => translate({ op: 'eq', field: 'bad field', value: 1 })).toThrowError(
      expect.objectContaining({ code: 'invalid_argument' }),
    );
    const error = (() => {
      try {
        translate({ op: 'eq', field: 's', value: 'x'.repeat(9000) });
      } catch (caught) {
        return caught;
      }
    })();
    expect(UnsupportedFunctionalityError.isInstance(error)).toBe(true);
    expect((error as UnsupportedFunctionalityError).source).toBe(source);
    expect(InvalidArgumentError.isInstance(error)).toBe(false);
  });

  it('matches core on random metadata and filters', () => {
    const random = seededRandom(20_260_101);
    for (let run = 0; run < 2000; run++) {
      const record = randomMetadata(random);
      const expression = randomFilter(random);
      const query = translate(expression);
      expect(evaluate(query, indexed(record)), JSON.stringify({ record, expression })).toBe(
        matchesFilter(expression, record),
      );
    }
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
