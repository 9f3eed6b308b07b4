import {
  AdapterCallError,
  ClosedError,
  type FilterExpression,
  InvalidArgumentError,
  UnsupportedFunctionalityError,
} from '@engram/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  chromaStringChunks,
  flattenChromaMetadata,
  translateChromaFilter,
} from './chroma-filter.js';
import { createChromaVectorStore } from './chroma-vector-store.js';

const all = { 'engram:record': { $eq: true } };
const none = { 'engram:record': { $ne: true } };
const types = ['string', 'number', 'boolean', 'object', 'array'];

const cases: [name: string, filter: FilterExpression, expected: unknown][] = [
  ['eq string', { op: 'eq', field: 's', value: 'a' }, { 'm:s': { $eq: 'a' } }],
  ['eq integer', { op: 'eq', field: 'n', value: 3 }, { 'm:n': { $eq: 3 } }],
  ['eq float uses the float key', { op: 'eq', field: 'n', value: 3.75 }, { 'f:n': { $eq: 3.75 } }],
  ['eq boolean', { op: 'eq', field: 'b', value: true }, { 'm:b': { $eq: true } }],
  ['eq nested path', { op: 'eq', field: 'a.b', value: 'x' }, { 'm:a.b': { $eq: 'x' } }],
  ['ne', { op: 'ne', field: 's', value: 'a' }, { 'm:s': { $ne: 'a' } }],
  [
    'not eq is ne',
    { op: 'not', filter: { op: 'eq', field: 's', value: 'a' } },
    { 'm:s': { $ne: 'a' } },
  ],
  [
    'in splits by type',
    { op: 'in', field: 'n', values: [1, 'x', 2, 0.5, true, 1] },
    {
      $or: [
        { 'm:n': { $in: [1, 2] } },
        { 'm:n': { $in: ['x'] } },
        { 'f:n': { $in: [0.5] } },
        { 'm:n': { $in: [true] } },
      ],
    },
  ],
  ['in one type', { op: 'in', field: 'n', values: ['x'] }, { 'm:n': { $in: ['x'] } }],
  ['in empty matches nothing', { op: 'in', field: 'n', values: [] }, none],
  ['nin empty matches everything', { op: 'nin', field: 'n', values: [] }, all],
  [
    'nin splits by type with and',
    { op: 'nin', field: 'n', values: [1, 'x'] },
    { $and: [{ 'm:n': { $nin: [1] } }, { 'm:n': { $nin: ['x'] } }] },
  ],
  ['exists', { op: 'exists', field: 'a.b' }, { 't:a.b': { $in: types } }],
  ['not exists', { op: 'not', filter: { op: 'exists', field: 'a' } }, { 't:a': { $nin: types } }],
  [
    'gt integer covers both number keys',
    { op: 'gt', field: 'n', value: 3 },
    { $or: [{ 'm:n': { $gt: 3 } }, { 'f:n': { $gt: 3 } }] },
  ],
  [
    'gt fraction uses an integer bound for integers',
    { op: 'gt', field: 'n', value: -1.5 },
    { $or: [{ 'm:n': { $gte: -1 } }, { 'f:n': { $gt: -1.5 } }] },
  ],
  [
    'lte fraction',
    { op: 'lte', field: 'n', value: 3.75 },
    { $or: [{ 'm:n': { $lte: 3 } }, { 'f:n': { $lte: 3.75 } }] },
  ],
  [
    'not gt number: not a number, or at most the value',
    { op: 'not', filter: { op: 'gt', field: 'n', value: 3 } },
    {
      $or: [{ 't:n': { $ne: 'number' } }, { 'm:n': { $lte: 3 } }, { 'f:n': { $lte: 3 } }],
    },
  ],
  [
    'gt short string compares chunks',
    { op: 'gt', field: 's', value: 'ab' },
    { 's:0:s': { $gt: chromaStringChunks('ab')[0] } },
  ],
  [
    'gte string adds equality',
    { op: 'gte', field: 's', value: 'ab' },
    { $or: [{ 's:0:s': { $gt: chromaStringChunks('ab')[0] } }, { 'm:s': { $eq: 'ab' } }] },
  ],
  [
    'lt longer string: first differing chunk decides',
    { op: 'lt', field: 's', value: 'abcd' },
    {
      $or: [
        { 's:0:s': { $lt: chromaStringChunks('abcd')[0] } },
        {
          $and: [
            { 's:0:s': { $eq: chromaStringChunks('abcd')[0] } },
            { 's:1:s': { $lt: chromaStringChunks('abcd')[1] } },
          ],
        },
      ],
    },
  ],
  [
    'and of or with constants simplifies',
    {
      op: 'and',
      filters: [
        { op: 'nin', field: 'x', values: [] },
        { op: 'eq', field: 's', value: 'a' },
      ],
    },
    { 'm:s': { $eq: 'a' } },
  ],
  [
    'or with a constant true is everything',
    {
      op: 'or',
      filters: [
        { op: 'nin', field: 'x', values: [] },
        { op: 'eq', field: 's', value: 'a' },
      ],
    },
    all,
  ],
  [
    'not of and pushes down with De Morgan',
    {
      op: 'not',
      filter: {
        op: 'and',
        filters: [
          { op: 'eq', field: 'a', value: 1 },
          { op: 'in', field: 'b', values: ['x'] },
        ],
      },
    },
    { $or: [{ 'm:a': { $ne: 1 } }, { 'm:b': { $nin: ['x'] } }] },
  ],
  [
    'double negation',
    { op: 'not', filter: { op: 'not', filter: { op: 'exists', field: 'a' } } },
    { 't:a': { $in: types } },
  ],
];

describe('translateChromaFilter', () => {
  it.each(cases)('%s', (_name, filter, expected) => {
    expect(translateChromaFilter(filter)).toEqual(expected);
  });

  it('throws UnsupportedFunctionalityError for contains, even deep inside', () => {
    const filter: FilterExpression = {
      op: 'or',
      filters: [
        { op: 'nin', field: 'x', values: [] },
        { op: 'not', filter: { op: 'contains', field: 'tags', value: 'a' } },
      ],
    };
    expect(() => translateChromaFilter(filter)).toThrow(UnsupportedFunctionalityError);
  });

  it('throws UnsupportedFunctionalityError for a string range value that is too long', () => {
    expect(() => translateChromaFilter({ op: 'gt', field: 's', value: 'x'.repeat(300) })).toThrow(
      UnsupportedFunctionalityError,
    );
  });

  it('rejects malformed filters', () => {
    expect(() =>
      translateChromaFilter({ op: 'eq', field: 'bad field', value: 1 } as FilterExpression),
    ).toThrow(InvalidArgumentError);
  });
});

describe('chromaStringChunks', () => {
  const compareChunks = (left: number[], right: number[]) => {
    for (let index = 0; index < Math.max(left.length, right.length); index++) {
      const difference = (left[index] ?? 0) - (right[index] ?? 0);
      if (difference !== 0) return Math.sign(difference);
    }
    return 0;
  };

  it('orders strings exactly as JavaScript does', () => {
    const text = fc.string({ unit: 'binary', maxLength: 12 });
    fc.assert(
      fc.property(text, text, (left, right) => {
        const expected = left < right ? -1 : left > right ? 1 : 0;
        const limit = Number.POSITIVE_INFINITY;
        expect(
          compareChunks(chromaStringChunks(left, limit), chromaStringChunks(right, limit)),
        ).toBe(expected);
      }),
      { numRuns: 2000 },
    );
  });

  it('always stores the chunk that holds the end of the string, and only exact integers', () => {
    expect(chromaStringChunks('')).toEqual([0]);
    expect(chromaStringChunks('abc')).toHaveLength(2);
    expect(chromaStringChunks('\uffff\uffff\uffff').every(Number.isSafeInteger)).toBe(true);
    expect(chromaStringChunks('x'.repeat(1000))).toHaveLength(64);
  });
});

describe('flattenChromaMetadata', () => {
  it('flattens addressable scalars, types and string chunks', () => {
    const flattened = flattenChromaMetadata({
      s: 'ab',
      n: 3,
      f: 2.5,
      b: false,
      nothing: null,
      tags: ['a'],
      nested: { city: 'Paris', deep: {} },
      'not addressable': 1,
      'a.b': 2,
    });
    expect(flattened).toEqual({
      'engram:record': true,
      't:s': 'string',
      'm:s': 'ab',
      's:0:s': chromaStringChunks('ab')[0],
      't:n': 'number',
      'm:n': 3,
      't:f': 'number',
      'f:f': 2.5,
      't:b': 'boolean',
      'm:b': false,
      't:tags': 'array',
      't:nested': 'object',
      't:nested.city': 'string',
      'm:nested.city': 'Paris',
      's:0:nested.city': chromaStringChunks('Paris')[0],
      's:1:nested.city': chromaStringChunks('Paris')[1],
      't:nested.deep': 'object',
    });
  });
});

describe('createChromaVectorStore without a server', () => {
  it('does no I/O until used, and rejects unsupported requests before any request', async () => {
    const store = createChromaVectorStore({ url: 'http://127.0.0.1:9' });
    expect(store.provider).toBe('chroma');
    expect(store.capabilities.keywordSearch).toBe(false);
    await expect(store.query({ collection: 'c', text: 'words', topK: 3 })).rejects.toThrow(
      UnsupportedFunctionalityError,
    );
    await expect(
      store.count({ collection: 'c', filter: { op: 'contains', field: 'a', value: 'x' } }),
    ).rejects.toThrow(UnsupportedFunctionalityError);
    await expect(store.delete({ collection: 'c' })).rejects.toThrow(InvalidArgumentError);
    await expect(store.list({ collection: 'c', limit: 1, cursor: '%%%' })).rejects.toThrow(
      InvalidArgumentError,
    );
  });

  it('reports an unreachable server as a retryable AdapterCallError', async () => {
    const store = createChromaVectorStore({ url: 'http://127.0.0.1:9' });
    const error = await store.count({ collection: 'c' }).catch((caught: unknown) => caught);
    expect(AdapterCallError.isInstance(error), String(error)).toBe(true);
    expect((error as AdapterCallError).isRetryable).toBe(true);
    expect((error as AdapterCallError).source).toBe('chroma');
  });

  it('throws ClosedError after close, which is idempotent', async () => {
    const store = createChromaVectorStore({ url: 'http://127.0.0.1:9' });
    await store.close();
    await store.close();
    await expect(store.count({ collection: 'c' })).rejects.toThrow(ClosedError);
    await expect(store.dropCollection({ collection: 'c' })).rejects.toThrow(ClosedError);
  });
});
