import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ClosedError,
  type FilterExpression,
  InvalidArgumentError,
  type JsonValue,
  matchesFilter,
} from '@engram/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  flattenLanceDBMetadata,
  lanceDBMetadataColumn,
  lanceDBString,
  translateLanceDBFilter,
} from './lancedb-filter.js';
import { createLanceDBVectorStore } from './lancedb-vector-store.js';

const documents: Record<string, Record<string, JsonValue>> = {
  a: { n: 1, s: 'one', b: true, tags: ['x', 1, true], nested: { city: 'Paris' }, big: 10 },
  b: { n: '1', s: 'One', b: false, tags: ['y'], nested: { city: 'Berlin' }, 'dash-key': 5 },
  c: { n: 2.5, s: 'two words', tags: [], nested: 'flat', nothing: null, big: 9 },
  d: {},
  e: { n: true, s: 'café', tags: 'x-ray', nested: { city: null }, list: [{ city: 'Paris' }] },
  f: { s: "it's a \\ 'quote'", n: -3, tags: [false, 2.5] },
};

const cases: [name: string, filter: FilterExpression, expected: string[]][] = [
  ['eq number', { op: 'eq', field: 'n', value: 1 }, ['a']],
  ['eq string is not the number', { op: 'eq', field: 'n', value: '1' }, ['b']],
  ['eq true is not 1', { op: 'eq', field: 'n', value: true }, ['e']],
  ['eq false', { op: 'eq', field: 'b', value: false }, ['b']],
  ['eq float', { op: 'eq', field: 'n', value: 2.5 }, ['c']],
  ['eq is case-sensitive', { op: 'eq', field: 's', value: 'one' }, ['a']],
  ['eq nested', { op: 'eq', field: 'nested.city', value: 'Paris' }, ['a']],
  ['eq does not reach into arrays', { op: 'eq', field: 'list.city', value: 'Paris' }, []],
  ['eq key with a dash', { op: 'eq', field: 'dash-key', value: 5 }, ['b']],
  ['eq with quotes and backslash', { op: 'eq', field: 's', value: "it's a \\ 'quote'" }, ['f']],
  ['eq on a path no record has', { op: 'eq', field: 'unknown', value: 1 }, []],
  ['ne matches missing fields', { op: 'ne', field: 'n', value: 1 }, ['b', 'c', 'd', 'e', 'f']],
  [
    'ne on a path no record has',
    { op: 'ne', field: 'unknown', value: 1 },
    ['a', 'b', 'c', 'd', 'e', 'f'],
  ],
  ['gt number', { op: 'gt', field: 'n', value: 1 }, ['c']],
  ['gte number', { op: 'gte', field: 'n', value: 1 }, ['a', 'c']],
  ['lt number ignores strings and booleans', { op: 'lt', field: 'n', value: 3 }, ['a', 'c', 'f']],
  ['gt string', { op: 'gt', field: 's', value: 'one' }, ['c']],
  ['lt string ignores numbers', { op: 'lt', field: 'n', value: 'z' }, ['b']],
  ['in mixed types', { op: 'in', field: 'n', values: ['1', 2.5] }, ['b', 'c']],
  ['in boolean', { op: 'in', field: 'n', values: [true] }, ['e']],
  ['in empty', { op: 'in', field: 'n', values: [] }, []],
  [
    'nin matches missing fields',
    { op: 'nin', field: 'n', values: [1, true] },
    ['b', 'c', 'd', 'f'],
  ],
  ['nin empty', { op: 'nin', field: 'n', values: [] }, ['a', 'b', 'c', 'd', 'e', 'f']],
  ['contains array string', { op: 'contains', field: 'tags', value: 'x' }, ['a', 'e']],
  ['contains array number', { op: 'contains', field: 'tags', value: 2.5 }, ['f']],
  ['contains array boolean', { op: 'contains', field: 'tags', value: true }, ['a']],
  ['contains array false', { op: 'contains', field: 'tags', value: false }, ['f']],
  ['contains substring', { op: 'contains', field: 's', value: 'wor' }, ['c']],
  ['contains is case-sensitive', { op: 'contains', field: 's', value: 'On' }, ['b']],
  ['contains empty string', { op: 'contains', field: 's', value: '' }, ['a', 'b', 'c', 'e', 'f']],
  ['contains number in a string', { op: 'contains', field: 'n', value: 1 }, []],
  ['exists', { op: 'exists', field: 'big' }, ['a', 'c']],
  ['exists ignores null', { op: 'exists', field: 'nothing' }, []],
  ['exists counts objects and arrays', { op: 'exists', field: 'list' }, ['e']],
  ['exists nested null', { op: 'exists', field: 'nested.city' }, ['a', 'b']],
  ['not exists', { op: 'not', filter: { op: 'exists', field: 'b' } }, ['c', 'd', 'e', 'f']],
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
  [
    'and',
    {
      op: 'and',
      filters: [
        { op: 'exists', field: 'tags' },
        { op: 'ne', field: 'b', value: false },
      ],
    },
    ['a', 'c', 'e', 'f'],
  ],
  ['value that looks like SQL', { op: 'eq', field: 's', value: `x' OR 1=1 --` }, []],
];

describe('translateLanceDBFilter against an embedded LanceDB table', () => {
  const directory = mkdtempSync(join(tmpdir(), 'engram-lancedb-filter-'));
  const store = createLanceDBVectorStore({ uri: directory });
  const collection = 'filters';

  beforeAll(async () => {
    await store.ensureCollection({ collection, dimensions: 2 });
    await store.upsert({
      collection,
      records: Object.entries(documents).map(([id, metadata]) => ({
        id,
        vector: [1, 0],
        text: id,
        metadata,
        createdAt: '2024-01-01T00:00:00.000Z',
        updatedAt: '2024-01-01T00:00:00.000Z',
      })),
    });
  });
  afterAll(async () => {
    await store.close();
    rmSync(directory, { recursive: true, force: true });
  });

  it.each(cases)('%s', async (_name, filter, expected) => {
    const reference = Object.entries(documents)
      .filter(([, metadata]) => matchesFilter(filter, metadata))
      .map(([id]) => id);
    expect(reference).toEqual(expected);
    const page = await store.list({ collection, filter, limit: 100 });
    expect(page.records.map((record) => record.id)).toEqual(expected);
  });
});

describe('translateLanceDBFilter', () => {
  it('writes typed column predicates that never yield NULL', () => {
    expect(translateLanceDBFilter({ op: 'eq', field: 'a.b', value: 'x' })).toBe(
      "coalesce(`m:s:a/b` = 'x', false)",
    );
    expect(translateLanceDBFilter({ op: 'ne', field: 'n', value: true })).toBe(
      '(NOT coalesce(`m:b:n` = 1, false))',
    );
    expect(translateLanceDBFilter({ op: 'in', field: 'n', values: [1, 'a', 2] })).toBe(
      "coalesce((`m:n:n` IN (1, 2)) OR (`m:s:n` IN ('a')), false)",
    );
  });

  it('turns leaves on columns the table lacks into false', () => {
    const columns = new Set([lanceDBMetadataColumn('s', 'tags')]);
    expect(translateLanceDBFilter({ op: 'eq', field: 'n', value: 1 }, columns)).toBe('false');
    expect(translateLanceDBFilter({ op: 'contains', field: 'tags', value: 'x' }, columns)).toBe(
      "coalesce(strpos(`m:s:tags`, 'x') > 0, false)",
    );
  });

  it('quotes values, never splicing them raw', () => {
    expect(lanceDBString("it's")).toBe("'it''s'");
  });

  it('rejects malformed filters', () => {
    expect(() =>
      translateLanceDBFilter({ op: 'eq', field: 'bad field', value: 1 } as FilterExpression),
    ).toThrow(InvalidArgumentError);
  });

  it('flattens metadata into typed columns', () => {
    expect(
      flattenLanceDBMetadata({ s: 'x', n: 2, b: false, nothing: null, list: ['a', 1, true, null] }),
    ).toEqual({
      'm:x:s': 1,
      'm:s:s': 'x',
      'm:x:n': 1,
      'm:n:n': 2,
      'm:x:b': 1,
      'm:b:b': 0,
      'm:x:list': 1,
      'm:as:list': ['a'],
      'm:an:list': [1],
      'm:ab:list': [1],
    });
  });
});

describe('createLanceDBVectorStore', () => {
  it('opens nothing until used and throws ClosedError after close', async () => {
    const store = createLanceDBVectorStore({ uri: join(tmpdir(), 'engram-lancedb-never-opened') });
    await store.close();
    await store.close();
    await expect(store.count({ collection: 'c' })).rejects.toThrow(ClosedError);
  });

  it('rejects an ef or nprobes that is not a positive integer', () => {
    for (const options of [{ ef: 0 }, { ef: 2.5 }, { nprobes: -1 }]) {
      expect(() => createLanceDBVectorStore({ uri: tmpdir(), ...options })).toThrow(
        InvalidArgumentError,
      );
    }
  });
});
