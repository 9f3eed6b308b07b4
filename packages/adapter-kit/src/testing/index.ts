import { type FilterExpression, type JsonValue, matchesFilter } from '@engram/core';

/** One row of a filter table: its name, the portable filter and the ids it selects. */
export type PortableFilterCase = [name: string, filter: FilterExpression, expected: string[]];

/**
 * Sample metadata of six records (`a` to `f`) that tell the portable filter semantics apart from
 * what backends do natively: numbers, numeric strings and booleans side by side, case, arrays
 * beside scalars, nested objects and nulls, arrays of objects, dashed and dotted keys, deep
 * paths, and regular expression characters.
 */
export const portableFilterDocuments: Readonly<Record<string, Record<string, JsonValue>>> = {
  a: {
    n: 1,
    s: 'apple',
    b: true,
    tags: ['red', 'x'],
    nums: [2, 'x'],
    nested: { city: 'Paris', zip: 1001 },
  },
  b: { n: '1', s: 'Apple', b: false, tags: ['blue'], nested: { city: 'paris' }, mixed: null },
  c: { n: 2.5, s: 'apple pie', tags: [], nested: 'flat', mixed: 'true' },
  d: {},
  e: {
    n: true,
    s: 'red',
    tags: 'red',
    w: 'abc',
    nested: { city: null },
    list: [{ city: 'Paris' }],
  },
  f: {
    n: -3,
    s: '東京',
    w: 'xa.c*y',
    nums: '2',
    mixed: 3,
    'dash-key': 5,
    'a.b': 1,
    deep: { a: { b: { c: 'z' } } },
  },
};

/** Rows over {@link portableFilterDocuments} for every operator but `contains`. */
export const portableFilterCases: readonly PortableFilterCase[] = [
  ['eq integer', { op: 'eq', field: 'n', value: 1 }, ['a']],
  ['eq numeric string is not the number', { op: 'eq', field: 'n', value: '1' }, ['b']],
  ['eq true is not 1', { op: 'eq', field: 'n', value: true }, ['e']],
  ['eq float', { op: 'eq', field: 'n', value: 2.5 }, ['c']],
  ['eq is case-sensitive', { op: 'eq', field: 's', value: 'apple' }, ['a']],
  ['eq matches a string, never an array element', { op: 'eq', field: 'tags', value: 'red' }, ['e']],
  ['eq nested', { op: 'eq', field: 'nested.city', value: 'Paris' }, ['a']],
  ['eq does not reach into arrays', { op: 'eq', field: 'list.city', value: 'Paris' }, []],
  ['eq deep', { op: 'eq', field: 'deep.a.b.c', value: 'z' }, ['f']],
  ['eq key with a dash', { op: 'eq', field: 'dash-key', value: 5 }, ['f']],
  ['eq does not see a dotted key', { op: 'eq', field: 'a.b', value: 1 }, []],
  ['ne matches missing fields', { op: 'ne', field: 'n', value: 1 }, ['b', 'c', 'd', 'e', 'f']],
  ['ne on an array field', { op: 'ne', field: 'tags', value: 'red' }, ['a', 'b', 'c', 'd', 'f']],
  ['gt number ignores strings', { op: 'gt', field: 'n', value: 0 }, ['a', 'c']],
  ['gte number', { op: 'gte', field: 'n', value: 1 }, ['a', 'c']],
  ['lt number', { op: 'lt', field: 'n', value: 1 }, ['f']],
  ['lte float', { op: 'lte', field: 'n', value: 2.5 }, ['a', 'c', 'f']],
  ['gt string', { op: 'gt', field: 's', value: 'apple' }, ['c', 'e', 'f']],
  ['gte string', { op: 'gte', field: 's', value: 'apple' }, ['a', 'c', 'e', 'f']],
  ['lt string ignores numbers', { op: 'lt', field: 'n', value: 'z' }, ['b']],
  ['lte string, case order', { op: 'lte', field: 's', value: 'Apple' }, ['b']],
  ['lt empty string', { op: 'lt', field: 's', value: '' }, []],
  [
    'gte empty string is every string',
    { op: 'gte', field: 's', value: '' },
    ['a', 'b', 'c', 'e', 'f'],
  ],
  ['in mixed types', { op: 'in', field: 'n', values: ['1', 2.5, -3] }, ['b', 'c', 'f']],
  ['in boolean', { op: 'in', field: 'n', values: [true] }, ['e']],
  ['in empty is nothing', { op: 'in', field: 'n', values: [] }, []],
  ['nin matches missing', { op: 'nin', field: 'n', values: [1, true] }, ['b', 'c', 'd', 'f']],
  [
    'nin empty is everything',
    { op: 'nin', field: 'n', values: [] },
    ['a', 'b', 'c', 'd', 'e', 'f'],
  ],
  ['exists', { op: 'exists', field: 'tags' }, ['a', 'b', 'c', 'e']],
  ['exists ignores null', { op: 'exists', field: 'mixed' }, ['c', 'f']],
  ['exists object', { op: 'exists', field: 'nested' }, ['a', 'b', 'c', 'e']],
  ['exists nested null', { op: 'exists', field: 'nested.city' }, ['a', 'b']],
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
        { op: 'eq', field: 'nested.city', value: 'paris' },
      ],
    },
    ['a', 'b'],
  ],
  [
    'not of or with an empty in',
    {
      op: 'not',
      filter: {
        op: 'or',
        filters: [
          { op: 'in', field: 'n', values: [] },
          { op: 'gt', field: 'n', value: 0 },
        ],
      },
    },
    ['b', 'd', 'e', 'f'],
  ],
];

/** Rows over {@link portableFilterDocuments} for `contains`, for stores that translate it. */
export const portableContainsCases: readonly PortableFilterCase[] = [
  ['contains array element', { op: 'contains', field: 'tags', value: 'red' }, ['a', 'e']],
  [
    'contains substring, case-sensitive',
    { op: 'contains', field: 's', value: 'pp' },
    ['a', 'b', 'c'],
  ],
  [
    'contains substring with regex characters',
    { op: 'contains', field: 'w', value: 'a.c*' },
    ['f'],
  ],
  ['contains number only in arrays', { op: 'contains', field: 'nums', value: 2 }, ['a']],
  ['contains number never in a string', { op: 'contains', field: 's', value: 1 }, []],
  ['contains empty string is any string', { op: 'contains', field: 'w', value: '' }, ['e', 'f']],
];

/** Fields that random filters over {@link portableFilterDocuments} pick from. */
export const portableFilterSampleFields: readonly string[] = [
  'n',
  's',
  'b',
  'w',
  'tags',
  'nums',
  'nested.city',
  'nested.zip',
  'mixed',
  'missing',
];

/** Values that random `eq`, `ne`, `in` and `contains` filters pick from (besides booleans). */
export const portableFilterSampleScalars: readonly (string | number)[] = [
  -3,
  0,
  1,
  2,
  2.5,
  1001,
  'apple',
  'Apple',
  'Paris',
  'red',
  '1',
  '',
  '東京',
  'a.c*',
];

/** Values that random `gt`, `gte`, `lt` and `lte` filters pick from. */
export const portableFilterSampleBounds: readonly (string | number)[] = [
  -3,
  0,
  1,
  2.5,
  1001,
  'apple',
  'Apple',
  'b',
  '',
  'Paris',
  '東',
];

/**
 * `count` random nested filters (every operator but `contains`, up to three levels of `and`,
 * `or` and `not`) over the sample fields, scalars and bounds, the same for the same `seed`: for
 * comparing a translation with core's `matchesFilter` without a property-testing library.
 */
export function randomPortableFilters(count: number, seed = 1): FilterExpression[] {
  let state = seed >>> 0 || 1;
  const next = () => {
    // xorshift32: small, deterministic, good enough to pick test cases
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  const scalar = (): string | number | boolean =>
    next() < 0.15 ? next() < 0.5 : pick(portableFilterSampleScalars);
  const leaf = (): FilterExpression => {
    const field = pick(portableFilterSampleFields);
    const kind = pick(['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'nin', 'exists'] as const);
    if (kind === 'exists') return { op: kind, field };
    if (kind === 'in' || kind === 'nin') {
      return { op: kind, field, values: Array.from({ length: Math.floor(next() * 5) }, scalar) };
    }
    if (kind === 'eq' || kind === 'ne') return { op: kind, field, value: scalar() };
    return { op: kind, field, value: pick(portableFilterSampleBounds) };
  };
  const node = (depth: number): FilterExpression => {
    const roll = next();
    if (depth >= 3 || roll < 0.45) return leaf();
    if (roll < 0.6) return { op: 'not', filter: node(depth + 1) };
    const filters = Array.from({ length: 1 + Math.floor(next() * 3) }, () => node(depth + 1));
    return { op: roll < 0.8 ? 'and' : 'or', filters };
  };
  return Array.from({ length: count }, () => node(0));
}

/** The ids of `documents` (default {@link portableFilterDocuments}) that `selects` keeps. */
export function selectedIds(
  selects: (metadata: Record<string, JsonValue>) => boolean,
  documents: Readonly<Record<string, Record<string, JsonValue>>> = portableFilterDocuments,
): string[] {
  return Object.keys(documents).filter((id) => selects(documents[id]!));
}

/** The ids core's `matchesFilter` selects: the reference every translation is held to. */
export function referenceIds(
  filter: FilterExpression,
  documents: Readonly<Record<string, Record<string, JsonValue>>> = portableFilterDocuments,
): string[] {
  return selectedIds((metadata) => matchesFilter(filter, metadata), documents);
}

/**
 * The values a document-store condition on a dotted path sees, as MongoDB-like query languages
 * (MQL, Qdrant) define it: each step also walks into the elements of arrays, and an array at the
 * end contributes its elements (and itself too with `keepArrays`, as in MQL).
 */
export function valuesAlongPath(
  document: unknown,
  path: string,
  options: { keepArrays?: boolean } = {},
): unknown[] {
  let current: unknown[] = [document];
  for (const part of path.split('.')) {
    const next: unknown[] = [];
    for (const value of current) {
      const items = Array.isArray(value) ? value : [value];
      for (const item of items) {
        if (item != null && typeof item === 'object' && !Array.isArray(item) && part in item) {
          next.push((item as Record<string, unknown>)[part]);
        }
      }
    }
    current = next;
  }
  return current.flatMap((value) => {
    if (!Array.isArray(value)) return [value];
    return options.keepArrays ? [value, ...value] : value;
  });
}

/** Where a test finds the local models `pnpm models` assembles, and why it skips without them. */
export interface LocalModelsForTests {
  /** `ENGRAM_MODELS_DIR`, when set. */
  modelsDir: string | undefined;
  /** Empty, or ` (skipped: ...)` to put in the title of the tests that need the models. */
  skipNote: string;
}

/**
 * `ENGRAM_MODELS_DIR` for tests of real local models: they skip without it, saying why, except
 * under `CI=true`, where a missing directory is an error.
 */
export function localModelsForTests(
  env: Record<string, string | undefined> = process.env,
): LocalModelsForTests {
  const modelsDir = env.ENGRAM_MODELS_DIR?.trim() || undefined;
  if (!modelsDir && env.CI === 'true') {
    throw new Error(
      'ENGRAM_MODELS_DIR is not set under CI=true: run `pnpm models` and export its last line (.ci/run does).',
    );
  }
  return {
    modelsDir,
    skipNote: modelsDir
      ? ''
      : ' (skipped: ENGRAM_MODELS_DIR is not set; run `pnpm models` and export its last line)',
  };
}

export type { HttpModelRequest, HttpModelResponse, HttpModelServer } from './http-model.js';
export { cosineSimilarity, startHttpModel } from './http-model.js';
export type {
  AwsInjectedFailure,
  InjectedFailureOutcome,
  RecordingModel,
  RecordingModelProtocol,
} from './protocol-model.js';
export {
  awsErrorProtocol,
  injectedFailureOutcomes,
  ProtocolModelError,
  sampleVectorRecord,
  startRecordingModel,
} from './protocol-model.js';
