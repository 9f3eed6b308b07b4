import type { JsonValue } from '@engram/core';
import { describe, expect, it } from 'vitest';
import {
  chunkwiseOrder,
  type FilterNode,
  joinFilterNodes,
  negateFilterNode,
  orderedHex,
  setAtPath,
  stringOrderKey,
} from './index.js';

type Clause = { all: Clause[] } | { any: Clause[] } | { not: Clause } | string;
const and = (nodes: FilterNode<Clause>[]) => joinFilterNodes('and', nodes, (all) => ({ all }));
const or = (nodes: FilterNode<Clause>[]) => joinFilterNodes('or', nodes, (any) => ({ any }));

describe('filter node combinators', () => {
  it('folds constants in and', () => {
    expect(and([])).toBe(true);
    expect(and([true, true])).toBe(true);
    expect(and(['a', false, 'b'])).toBe(false);
    expect(and([true, 'a'])).toBe('a');
    expect(and(['a', true, 'b'])).toEqual({ all: ['a', 'b'] });
  });

  it('folds constants in or', () => {
    expect(or([])).toBe(false);
    expect(or([false])).toBe(false);
    expect(or(['a', true])).toBe(true);
    expect(or([false, 'a'])).toBe('a');
    expect(or(['a', 'b'])).toEqual({ any: ['a', 'b'] });
  });

  it('negates constants and clauses', () => {
    const not = (node: FilterNode<Clause>) => negateFilterNode(node, (clause) => ({ not: clause }));
    expect(not(true)).toBe(false);
    expect(not(false)).toBe(true);
    expect(not('a')).toEqual({ not: 'a' });
  });
});

describe('chunkwise string order', () => {
  const options = {
    equal: (index: number, chunk: number): Clause => `c${index}=${chunk}`,
    beyond: (index: number, chunk: number): Clause => `c${index}>${chunk}`,
    and: (all: Clause[]) => ({ all }),
    or: (any: Clause[]) => ({ any }),
  };

  it('orders lexicographically over the chunks, with equality when inclusive', () => {
    expect(chunkwiseOrder([7], { ...options, inclusive: false })).toBe('c0>7');
    expect(chunkwiseOrder([7], { ...options, inclusive: true })).toEqual({
      any: ['c0>7', 'c0=7'],
    });
    expect(chunkwiseOrder([7, 8], { ...options, inclusive: true })).toEqual({
      any: ['c0>7', { all: ['c0=7', 'c1>8'] }, { all: ['c0=7', 'c1=8'] }],
    });
    expect(chunkwiseOrder([], { ...options, inclusive: false })).toBe(false);
    expect(chunkwiseOrder([], { ...options, inclusive: true })).toBe(true);
  });
});

describe('filter projections', () => {
  it('sets values along a path, replacing non-objects', () => {
    const tree: Record<string, JsonValue> = { a: 1 };
    setAtPath(tree, ['a', 'b'], 2);
    setAtPath(tree, ['a', 'c'], [3]);
    setAtPath(tree, ['d'], 'x');
    expect(tree).toEqual({ a: { b: 2, c: [3] }, d: 'x' });
  });

  it('keeps string order in its integers', () => {
    const words = ['', 'a', 'ab', 'abc', 'abcd', 'b', 'ba', 'z', 'é'];
    const compare = (left: number[], right: number[]) => {
      for (let index = 0; index < Math.max(left.length, right.length); index++) {
        const difference = (left[index] ?? 0) - (right[index] ?? 0);
        if (difference !== 0) return Math.sign(difference);
      }
      return 0;
    };
    for (const left of words) {
      for (const right of words) {
        const expected = left < right ? -1 : left > right ? 1 : 0;
        expect(compare(stringOrderKey(left, 8), stringOrderKey(right, 8))).toBe(expected);
      }
    }
    expect(stringOrderKey('abcdefgh', 2)).toHaveLength(2);
    expect(stringOrderKey('abcdefgh', 8, 1)).toHaveLength(1);
    expect(stringOrderKey('a', 8)).toEqual([('a'.charCodeAt(0) + 1) * 65_537 * 65_537]);
  });
});

describe('orderedHex', () => {
  it('spells UTF-16 code units as fixed-width hex that sorts as the strings do', () => {
    expect(orderedHex("a'Z")).toBe('00610027005a');
    const values = ['', 'a', 'ab', 'B', 'a\u0000', '\uffff', '😀', '東京'];
    expect(values.map(orderedHex).sort()).toEqual([...values].sort().map(orderedHex));
  });
});
