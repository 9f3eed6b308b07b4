import {
  DimensionMismatchError,
  encodeCursor,
  type GraphTriple,
  InvalidArgumentError,
} from '@engram/core';
import { describe, expect, it } from 'vitest';
import {
  createSerialQueue,
  graphArguments,
  latestById,
  missingEndpointError,
  triplePage,
} from './embedded-cypher-graph-store.js';

const source = 'test';
const checks = graphArguments(source);

describe('graph store arguments', () => {
  it('needs a non-empty scope', () => {
    expect(checks.scope({ userId: 'u' })).toEqual({ userId: 'u' });
    expect(() => checks.scope({})).toThrow(InvalidArgumentError);
    expect(() => checks.scope({ runId: ' ' })).toThrow(InvalidArgumentError);
  });

  it('needs a non-blank namespace, on calls and on what is upserted', () => {
    expect(checks.place({ namespace: 'p_a', scope: { userId: 'u' } })).toEqual({
      namespace: 'p_a',
      scope: { userId: 'u' },
    });
    for (const namespace of ['', '  ', undefined as unknown as string]) {
      expect(() => checks.namespace(namespace)).toThrow(InvalidArgumentError);
      expect(() => checks.place({ namespace, scope: { userId: 'u' } })).toThrow(
        InvalidArgumentError,
      );
      expect(() => checks.namespaces([{ id: 'e1', namespace }])).toThrow(InvalidArgumentError);
    }
  });

  it('takes whole counts, Infinity as no limit', () => {
    expect(checks.count(0, 'topK', { allowZero: true })).toBe(0);
    expect(checks.count(Number.POSITIVE_INFINITY, 'limit', { allowZero: false })).toBe(
      Number.MAX_SAFE_INTEGER,
    );
    for (const value of [0, -1, 1.5, Number.NaN]) {
      expect(() => checks.count(value, 'limit', { allowZero: false })).toThrow(
        /limit must be an integer of at least 1/,
      );
    }
  });

  it('checks embeddings against the graph’s length once it is known', () => {
    const what = 'The query embedding';
    expect(() => checks.embedding([1, 2], undefined, what)).not.toThrow();
    expect(() => checks.embedding([1, 2], 3, what)).toThrow(DimensionMismatchError);
    expect(() => checks.embedding([1, Number.NaN], 2, what)).toThrow(InvalidArgumentError);
  });

  it('reads call options into checked arguments', () => {
    expect(
      checks.neighbours({
        namespace: 'p_a',
        scope: { userId: 'u' },
        entityIds: ['a', 'a', 'b'],
        limit: 3,
      }),
    ).toEqual({ namespace: 'p_a', scope: { userId: 'u' }, entityIds: ['a', 'b'], limit: 3 });
    expect(
      checks.list({
        namespace: 'p_a',
        scope: { userId: 'u' },
        limit: 2,
        cursor: encodeCursor('r1'),
      }),
    ).toEqual({
      namespace: 'p_a',
      scope: { userId: 'u' },
      limit: 2,
      after: 'r1',
      includeInvalidated: false,
    });
  });
});

describe('graph store helpers', () => {
  it('keeps the last item of each id', () => {
    expect(
      latestById([
        { id: 'a', n: 1 },
        { id: 'b', n: 2 },
        { id: 'a', n: 3 },
      ]),
    ).toEqual([
      { id: 'a', n: 3 },
      { id: 'b', n: 2 },
    ]);
  });

  it('pages triples with a cursor only when more follow', () => {
    const triple = (id: string) => ({ relation: { id } }) as GraphTriple;
    const full = triplePage([triple('a'), triple('b'), triple('c')], 2);
    expect(full.triples.map((item) => item.relation.id)).toEqual(['a', 'b']);
    expect(full.nextCursor).toBe(encodeCursor('b'));
    expect(triplePage([triple('a')], 2)).not.toHaveProperty('nextCursor');
  });

  it('names both ends of a relation written before its entities', () => {
    const error = missingEndpointError(
      {
        id: 'r',
        sourceId: 'a',
        relationship: 'knows',
        destinationId: 'b',
        namespace: 'p_a',
        mentions: 1,
        createdAt: '',
        updatedAt: '',
        invalidatedAt: null,
      },
      source,
    );
    expect(error.message).toMatch(/^Relation r joins a and b/);
  });

  it('runs queued work one at a time, a failure rejecting only its own task', async () => {
    const queue = createSerialQueue();
    const order: string[] = [];
    const slow = queue.run(async () => {
      await new Promise((resolve) => setTimeout(resolve, 10));
      order.push('slow');
    });
    const failing = queue.run(async () => {
      order.push('failing');
      throw new Error('boom');
    });
    const fast = queue.run(async () => order.push('fast'));
    await expect(failing).rejects.toThrow('boom');
    await Promise.all([slow, fast, queue.idle()]);
    expect(order).toEqual(['slow', 'failing', 'fast']);
  });
});
