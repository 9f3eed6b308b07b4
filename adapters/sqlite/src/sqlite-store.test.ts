import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AdapterCallError,
  ClosedError,
  createInMemoryStore,
  DimensionMismatchError,
  expiresAtField,
  type FilterExpression,
  type HistoryEvent,
  InvalidArgumentError,
  NotFoundError,
  unexpiredFilter,
  type VectorRecord,
} from '@engram/core';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { createSqliteStore, defaultSqlitePath } from './sqlite-store.js';
import { toBlob } from './sqlite-vectors.js';

const directory = mkdtempSync(join(tmpdir(), 'engram-sqlite-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));
let files = 0;
const temporaryPath = () => join(directory, `store-${++files}.db`);

const now = '2025-01-01T00:00:00.000Z';

function record(id: string, vector: number[], text: string, extra: Partial<VectorRecord> = {}) {
  return { id, vector, text, metadata: {}, createdAt: now, updatedAt: now, ...extra };
}

function event(id: string, memoryId: string | null, extra: Partial<HistoryEvent> = {}) {
  return {
    id,
    namespace: 'memories',
    memoryId,
    event: 'ADD' as const,
    previousText: null,
    newText: `text of ${memoryId}`,
    createdAt: now,
    ...extra,
  };
}

const records: VectorRecord[] = [
  record('a', [1, 0, 0], 'Alice likes hiking in the Alps', {
    userId: 'alice',
    metadata: { category: 'hobby', rank: 1, tags: ['outdoor', 'sport'] },
  }),
  record('b', [0.9, 0.1, 0], 'Alice is allergic to peanuts', {
    userId: 'alice',
    agentId: 'chef',
    hash: 'h-b',
    metadata: { category: 'health', rank: 2 },
  }),
  record('c', [0, 1, 0], 'Bob prefers the café near the station', {
    userId: 'bob',
    metadata: { category: 'food', rank: 3, verified: true },
  }),
  record('d', [0, 0, 1], 'Bob drinks coffee every morning', {
    userId: 'bob',
    runId: 'run-1',
    metadata: { category: 'food', rank: '4' },
  }),
  record('e', [1, 0, 0], 'Alice owns a bicycle', {
    userId: 'alice',
    metadata: { nested: { city: 'Paris' } },
  }),
];

describe('createSqliteStore', () => {
  it('does no I/O until the first call and resolves the default path from ENGRAM_HOME', async () => {
    const previous = process.env.ENGRAM_HOME;
    process.env.ENGRAM_HOME = join(directory, 'home', 'nested');
    try {
      const store = createSqliteStore();
      expect(store.path).toBe(join(directory, 'home', 'nested', 'engram.db'));
      expect(defaultSqlitePath()).toBe(store.path);
      expect(store.provider).toBe('sqlite');
      expect(store.capabilities.keywordSearch).toBe(true);
      expect(store.capabilities.atomicHistory).toBe(true);
      await store.ensureCollection({ collection: 'memories', dimensions: 3 });
      await store.close();
    } finally {
      if (previous === undefined) delete process.env.ENGRAM_HOME;
      else process.env.ENGRAM_HOME = previous;
    }
  });

  it('matches the in-memory reference store', async () => {
    const reference = createInMemoryStore();
    const store = createSqliteStore({ path: temporaryPath() });
    for (const target of [reference, store]) {
      await target.ensureCollection({ collection: 'memories', dimensions: 3 });
      await target.ensureCollection({ collection: 'memories', dimensions: 3 });
      await target.ensureCollection({ collection: 'other', dimensions: 3 });
      await target.upsert({ collection: 'memories', records });
      await target.upsert({
        collection: 'other',
        records: [record('a', [0, 1, 0], 'In another collection', { userId: 'alice' })],
      });
    }
    const filters: (FilterExpression | undefined)[] = [
      undefined,
      { op: 'eq', field: 'category', value: 'food' },
      { op: 'ne', field: 'category', value: 'food' },
      { op: 'gte', field: 'rank', value: 2 },
      { op: 'contains', field: 'tags', value: 'sport' },
      { op: 'exists', field: 'nested.city' },
      { op: 'not', filter: { op: 'in', field: 'category', values: ['hobby', 'health'] } },
    ];
    const scopes = [undefined, { userId: 'alice' }, { userId: 'bob', runId: 'run-1' }, {}];
    for (const filter of filters) {
      for (const scope of scopes) {
        for (const includeVectors of [false, true]) {
          const options = { collection: 'memories', scope, filter, includeVectors };
          const expected = await reference.query({ ...options, vector: [1, 0.05, 0], topK: 3 });
          const actual = await store.query({ ...options, vector: [1, 0.05, 0], topK: 3 });
          expect(actual.map((match) => match.record.id)).toEqual(
            expected.map((match) => match.record.id),
          );
          for (const [index, match] of actual.entries()) {
            expect(match.score).toBeCloseTo(expected[index]!.score, 5);
            const { vector, ...rest } = match.record;
            const { vector: expectedVector, ...expectedRest } = expected[index]!.record;
            expect(rest).toEqual(expectedRest);
            expect(vector === undefined).toBe(expectedVector === undefined);
          }
          expect(await store.count(options)).toBe(await reference.count(options));
          expect(await store.list({ ...options, limit: 100 })).toEqual(
            await reference.list({ ...options, limit: 100 }),
          );
        }
      }
    }
    expect(await store.get({ collection: 'memories', ids: ['c', 'missing', 'a', 'c'] })).toEqual(
      await reference.get({ collection: 'memories', ids: ['c', 'missing', 'a', 'c'] }),
    );
    await store.close();
  });

  it('breaks score ties by id and applies scope and filter before topK', async () => {
    const store = createSqliteStore({ path: ':memory:' });
    await store.ensureCollection({ collection: 'memories', dimensions: 3 });
    const many = Array.from({ length: 50 }, (_, index) =>
      record(`r${String(index).padStart(2, '0')}`, [1, 0, 0], `record ${index}`, {
        userId: index % 10 === 0 ? 'rare' : 'common',
        metadata: { even: index % 2 === 0 },
      }),
    );
    await store.upsert({ collection: 'memories', records: many.reverse() });
    const tied = await store.query({ collection: 'memories', vector: [1, 0, 0], topK: 3 });
    expect(tied.map((match) => match.record.id)).toEqual(['r00', 'r01', 'r02']);
    expect(tied[0]!.score).toBeCloseTo(1, 6);
    const rare = await store.query({
      collection: 'memories',
      vector: [1, 0, 0],
      topK: 3,
      scope: { userId: 'rare' },
      filter: { op: 'ne', field: 'even', value: true },
    });
    expect(rare).toEqual([]);
    const rareEven = await store.query({
      collection: 'memories',
      vector: [0, 1, 0],
      topK: 10,
      scope: { userId: 'rare' },
    });
    expect(rareEven.map((match) => match.record.id)).toEqual(['r00', 'r10', 'r20', 'r30', 'r40']);
    await store.close();
  });

  it('searches keywords with BM25, accent-insensitively, within scope', async () => {
    const store = createSqliteStore({ path: ':memory:' });
    await store.ensureCollection({ collection: 'memories', dimensions: 3 });
    await store.upsert({ collection: 'memories', records });
    const coffee = await store.query({ collection: 'memories', text: 'Coffee?', topK: 5 });
    expect(coffee.map((match) => match.record.id)).toEqual(['d']);
    expect(coffee[0]!.score).toBeGreaterThan(0);
    const cafe = await store.query({ collection: 'memories', text: 'cafe', topK: 5 });
    expect(cafe.map((match) => match.record.id)).toEqual(['c']);
    const alice = await store.query({
      collection: 'memories',
      text: 'Alice bicycle',
      topK: 5,
      scope: { userId: 'alice' },
    });
    expect(alice.map((match) => match.record.id)[0]).toBe('e');
    expect(alice.map((match) => match.record.id).sort()).toEqual(['a', 'b', 'e']);
    const bobAlice = await store.query({
      collection: 'memories',
      text: 'Alice',
      topK: 5,
      scope: { userId: 'bob' },
    });
    expect(bobAlice).toEqual([]);
    expect(await store.query({ collection: 'memories', text: 'the of', topK: 5 })).toEqual([]);
    expect(
      await store.query({ collection: 'memories', text: '"unbalanced (quote* OR', topK: 5 }),
    ).toEqual([]);
    await store.upsert({
      collection: 'memories',
      records: [{ ...records[3]!, text: 'Bob switched to green tea' }],
    });
    expect(await store.query({ collection: 'memories', text: 'coffee', topK: 5 })).toEqual([]);
    expect(
      (await store.query({ collection: 'memories', text: 'tea', topK: 5 })).map(
        (match) => match.record.id,
      ),
    ).toEqual(['d']);
    await store.delete({ collection: 'memories', ids: ['d'] });
    expect(await store.query({ collection: 'memories', text: 'tea', topK: 5 })).toEqual([]);
    await store.close();
  });

  it('scores a small scope with its own statistics: other scopes do not move its scores', async () => {
    const store = createSqliteStore({ path: ':memory:' });
    await store.ensureCollection({ collection: 'memories', dimensions: 1 });
    const mine = ['Dinner with Ana in Paris', 'Ana plays chess', 'Chess club on Friday'];
    await store.upsert({
      collection: 'memories',
      records: mine.map((text, index) => record(`m${index}`, [1], text, { userId: 'me' })),
    });
    const scores = async () =>
      (
        await store.query({
          collection: 'memories',
          text: 'Ana chess',
          topK: 5,
          scope: { userId: 'me' },
        })
      ).map((match) => [match.record.id, match.score]);
    const before = await scores();
    expect(before[0]![0]).toBe('m1');
    expect(before).toHaveLength(3);
    await store.upsert({
      collection: 'memories',
      records: Array.from({ length: 20 }, (_, index) =>
        record(`o${index}`, [1], `Chess game ${index}`, { userId: 'other' }),
      ),
    });
    expect(await scores()).toEqual(before);
    await store.close();
  });

  it('scores a small scope from its own rows as the full-text index scores them (collection statistics)', async () => {
    const database = new Database(':memory:');
    const store = createSqliteStore({ database, keywordStatistics: 'collection' });
    await store.ensureCollection({ collection: 'memories', dimensions: 3 });
    const texts = [
      'Running shoes for the marathon',
      'The marathon runners ran through Paris',
      'Paris in the spring, then Rome',
      'She runs every morning before work',
      'Nothing about sport here',
    ];
    const others = ['Paris marathon results', 'running late', 'paris paris paris', 'a quiet day'];
    await store.upsert({
      collection: 'memories',
      records: [
        ...texts.map((text, index) => record(`t${index}`, [1, index, 0], text, { userId: 'me' })),
        ...others.map((text, index) => record(`o${index}`, [0, 1, 0], text, { userId: 'other' })),
      ],
    });
    const query = 'running marathons in Paris';
    const matches = await store.query({
      collection: 'memories',
      text: query,
      topK: 10,
      scope: { userId: 'me' },
    });
    // Statistics of the whole index, as the full-text index's own bm25() uses.
    const indexed = database
      .prepare(
        `SELECT memory.id, -bm25(engram_memories_fts) AS score FROM engram_memories_fts
         JOIN engram_memories AS memory ON memory.row_id = engram_memories_fts.rowid
         WHERE engram_memories_fts MATCH ? AND memory.user_id = 'me' ORDER BY score DESC, memory.id`,
      )
      .all('"running" OR "marathons" OR "paris"') as { id: string; score: number }[];
    expect(indexed.length).toBeGreaterThan(2);
    expect(matches.map((match) => match.record.id)).toEqual(indexed.map((row) => row.id));
    for (const [index, match] of matches.entries()) {
      expect(match.score).toBeCloseTo(indexed[index]!.score, 9);
      expect(match.record.vector).toBeUndefined();
    }
    const withVectors = await store.query({
      collection: 'memories',
      text: query,
      topK: 1,
      includeVectors: true,
      scope: { userId: 'me' },
    });
    const best = Number(indexed[0]!.id.slice(1));
    expect(withVectors.map((match) => match.record.vector)).toEqual([[1, best, 0]]);
    await store.close();
    database.close();
  });

  it('reuses the document frequencies of a large index until its row count moves by 1%', async () => {
    const database = new Database(':memory:');
    const store = createSqliteStore({ database, keywordStatistics: 'collection' });
    await store.ensureCollection({ collection: 'memories', dimensions: 1 });
    const filler = (from: number, count: number, text: (index: number) => string) =>
      Array.from({ length: count }, (_, offset) =>
        record(`n${from + offset}`, [1], text(from + offset), {
          userId: `u${(from + offset) % 50}`,
        }),
      );
    await store.upsert({
      collection: 'memories',
      records: [
        ...filler(0, 10_000, (index) => `note ${index} ${index % 10 === 0 ? 'kayak' : 'walk'}`),
        record('mine', [1], 'kayak trip with a kayak', { userId: 'me' }),
      ],
    });
    const indexScore = () =>
      database
        .prepare(
          `SELECT -bm25(engram_memories_fts) FROM engram_memories_fts JOIN engram_memories AS memory
           ON memory.row_id = engram_memories_fts.rowid WHERE engram_memories_fts MATCH '"kayak"' AND memory.id = 'mine'`,
        )
        .pluck()
        .get() as number;
    const search = async () =>
      (
        await store.query({
          collection: 'memories',
          text: 'kayak',
          topK: 1,
          scope: { userId: 'me' },
        })
      )[0]!.score;
    expect(await search()).toBeCloseTo(indexScore(), 9);
    // 50 more rows, half a percent: the cached count of "kayak" stays in use.
    await store.upsert({ collection: 'memories', records: filler(20_000, 50, () => 'kayak') });
    const stale = await search();
    expect(stale).not.toBeCloseTo(indexScore(), 6);
    expect(Math.abs(stale - indexScore()) / indexScore()).toBeLessThan(0.05);
    // Past 1%, it is counted again.
    await store.upsert({ collection: 'memories', records: filler(30_000, 100, () => 'paddle') });
    expect(await search()).toBeCloseTo(indexScore(), 9);
    await store.close();
    database.close();
  });

  it('keeps keyword search within the scope, small or large', async () => {
    const store = createSqliteStore({ path: ':memory:' });
    await store.ensureCollection({ collection: 'memories', dimensions: 2 });
    // More rows than a scope scored from its own rows may hold: this scope goes through the index.
    const crowd = Array.from({ length: 1001 }, (_, index) =>
      record(`crowd-${index}`, [1, 0], `crowd note ${index} about axolotl care`, {
        userId: 'crowd',
      }),
    );
    const few = [
      record('few-1', [1, 0], 'my axolotl is called Bob', { userId: 'few', agentId: 'pet' }),
      record('few-2', [1, 0], 'feeding the axolotl worms and axolotl pellets', {
        userId: 'few',
        metadata: { kind: 'food' },
      }),
      record('few-3', [1, 0], 'nothing to see', { userId: 'few' }),
    ];
    await store.upsert({ collection: 'memories', records: [...crowd, ...few] });
    const search = (scope: { userId?: string; agentId?: string }, extra = {}) =>
      store.query({ collection: 'memories', text: 'axolotl', topK: 5, scope, ...extra });
    const small = await search({ userId: 'few' });
    expect(small.map((match) => match.record.id)).toEqual(['few-2', 'few-1']);
    expect(small[0]!.score).toBeGreaterThan(small[1]!.score);
    const large = await search({ userId: 'crowd' });
    expect(large).toHaveLength(5);
    for (const match of large) expect(match.record.userId).toBe('crowd');
    expect((await search({ agentId: 'pet' })).map((match) => match.record.id)).toEqual(['few-1']);
    const filtered = await search(
      { userId: 'few' },
      { filter: { field: 'kind', op: 'eq', value: 'food' } },
    );
    expect(filtered.map((match) => match.record.id)).toEqual(['few-2']);
    expect(await search({ userId: 'nobody' })).toEqual([]);
    await store.close();
  });

  it('pages with cursors, deletes by scope and filter, drops collections', async () => {
    const store = createSqliteStore({ path: temporaryPath() });
    await store.ensureCollection({ collection: 'memories', dimensions: 3 });
    await store.upsert({ collection: 'memories', records });
    const first = await store.list({ collection: 'memories', limit: 2 });
    expect(first.records.map((entry) => entry.id)).toEqual(['a', 'b']);
    const second = await store.list({ collection: 'memories', limit: 2, cursor: first.nextCursor });
    expect(second.records.map((entry) => entry.id)).toEqual(['c', 'd']);
    const third = await store.list({ collection: 'memories', limit: 2, cursor: second.nextCursor });
    expect(third.records.map((entry) => entry.id)).toEqual(['e']);
    expect(third.nextCursor).toBeUndefined();
    await expect(
      store.list({ collection: 'memories', limit: 2, cursor: 'garbage' }),
    ).rejects.toBeInstanceOf(InvalidArgumentError);

    expect(
      await store.delete({
        collection: 'memories',
        scope: { userId: 'bob' },
        filter: { op: 'eq', field: 'rank', value: 3 },
      }),
    ).toEqual({ deleted: 1 });
    expect(await store.delete({ collection: 'memories', ids: ['a', 'a', 'zzz'] })).toEqual({
      deleted: 1,
    });
    expect(await store.count({ collection: 'memories' })).toBe(3);
    expect(await store.delete({ collection: 'memories', scope: { userId: 'alice' } })).toEqual({
      deleted: 2,
    });
    await store.dropCollection({ collection: 'memories' });
    await store.dropCollection({ collection: 'memories' });
    await expect(store.count({ collection: 'memories' })).rejects.toBeInstanceOf(NotFoundError);
    await store.ensureCollection({ collection: 'memories', dimensions: 5 });
    expect(await store.count({ collection: 'memories' })).toBe(0);
    await store.close();
  });

  it('throws typed errors', async () => {
    const store = createSqliteStore({ path: ':memory:' });
    await store.ensureCollection({ collection: 'memories', dimensions: 3 });
    await expect(
      store.ensureCollection({ collection: 'memories', dimensions: 4 }),
    ).rejects.toBeInstanceOf(DimensionMismatchError);
    await expect(
      store.ensureCollection({ collection: 'other', dimensions: 0 }),
    ).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(
      store.upsert({ collection: 'memories', records: [record('x', [1, 2], 'short')] }),
    ).rejects.toBeInstanceOf(DimensionMismatchError);
    await expect(
      store.query({ collection: 'memories', vector: [1, 2], topK: 1 }),
    ).rejects.toBeInstanceOf(DimensionMismatchError);
    await expect(store.query({ collection: 'memories', topK: 1 })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    for (const call of [
      () => store.upsert({ collection: 'missing', records: [] }),
      () => store.query({ collection: 'missing', vector: [1, 0, 0], topK: 1 }),
      () => store.list({ collection: 'missing', limit: 1 }),
      () => store.get({ collection: 'missing', ids: ['a'] }),
      () => store.count({ collection: 'missing' }),
      () => store.delete({ collection: 'missing', ids: ['a'] }),
    ]) {
      await expect(call()).rejects.toBeInstanceOf(NotFoundError);
    }
    await expect(
      store.query({
        collection: 'memories',
        vector: [1, 0, 0],
        topK: 1,
        filter: { op: 'eq', field: 'bad field', value: 1 },
      }),
    ).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(store.deleteScope({ namespace: 'memories', scope: {} })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    const aborted = new AbortController();
    aborted.abort();
    await expect(
      store.count({ collection: 'memories', abortSignal: aborted.signal }),
    ).rejects.toThrow(/aborted/);
    await store[Symbol.asyncDispose]();
    for (const call of [
      () => store.ensureCollection({ collection: 'memories', dimensions: 3 }),
      () => store.query({ collection: 'memories', vector: [1, 0, 0], topK: 1 }),
      () => store.count({ collection: 'memories' }),
      () => store.append({ events: [] }),
      () => store.byMemory({ namespace: 'memories', memoryId: 'a' }),
    ]) {
      await expect(call()).rejects.toBeInstanceOf(ClosedError);
    }
  });

  it('reports a locked database as a retryable AdapterCallError', async () => {
    const path = temporaryPath();
    const store = createSqliteStore({ path, busyTimeoutMs: 50 });
    await store.ensureCollection({ collection: 'memories', dimensions: 3 });
    const other = new Database(path);
    other.exec('BEGIN IMMEDIATE');
    try {
      const error = await store
        .upsert({ collection: 'memories', records: [records[0]!] })
        .catch((caught: unknown) => caught);
      expect(AdapterCallError.isInstance(error)).toBe(true);
      expect((error as AdapterCallError).isRetryable).toBe(true);
      expect((error as AdapterCallError).prefixedMessage).toMatch(
        /^\[engram\/sqlite\].*SQLITE_BUSY/,
      );
      expect((error as AdapterCallError).cause).toBeDefined();
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    await store.upsert({ collection: 'memories', records: [records[0]!] });
    expect(await store.count({ collection: 'memories' })).toBe(1);
    await store.close();
  });

  it('commits records and history in one transaction', async () => {
    const path = temporaryPath();
    const store = createSqliteStore({ path });
    await store.ensureCollection({ collection: 'memories', dimensions: 3 });
    await store.commit({
      collection: 'memories',
      upsert: [records[0]!, records[1]!],
      delete: [],
      history: [
        event('1', 'a', { userId: 'alice' }),
        event('2', 'b', { userId: 'alice', agentId: 'chef', actor: 'engine' }),
      ],
    });
    await expect(
      store.commit({
        collection: 'memories',
        upsert: [records[2]!],
        delete: ['a'],
        // A NOT NULL violation in the history insert must roll the record changes back too.
        history: [event('3', 'c', { createdAt: null as unknown as string })],
      }),
    ).rejects.toBeInstanceOf(AdapterCallError);
    expect(
      (await store.list({ collection: 'memories', limit: 10 })).records.map((entry) => entry.id),
    ).toEqual(['a', 'b']);
    await store.commit({
      collection: 'memories',
      upsert: [{ ...records[1]!, text: 'Alice is allergic to tree nuts' }],
      delete: ['a'],
      history: [
        event('4', 'b', {
          event: 'UPDATE',
          previousText: 'Alice is allergic to peanuts',
          newText: 'Alice is allergic to tree nuts',
          userId: 'alice',
          agentId: 'chef',
        }),
        event('5', 'a', { event: 'DELETE', userId: 'alice', newText: null }),
      ],
    });
    await store.close();

    const reopened = createSqliteStore({ path });
    expect((await reopened.get({ collection: 'memories', ids: ['a', 'b'] }))[0]?.text).toBe(
      'Alice is allergic to tree nuts',
    );
    expect(
      (await reopened.byMemory({ namespace: 'memories', memoryId: 'b' })).map((entry) => entry.id),
    ).toEqual(['2', '4']);
    expect((await reopened.byMemory({ namespace: 'memories', memoryId: 'b' }))[0]).toEqual(
      event('2', 'b', { userId: 'alice', agentId: 'chef', actor: 'engine' }),
    );
    const page = await reopened.byScope({
      namespace: 'memories',
      scope: { userId: 'alice' },
      limit: 2,
    });
    expect(page.events.map((entry) => entry.id)).toEqual(['1', '2']);
    const rest = await reopened.byScope({
      namespace: 'memories',
      scope: { userId: 'alice' },
      limit: 2,
      cursor: page.nextCursor,
    });
    expect(rest.events.map((entry) => entry.id)).toEqual(['4', '5']);
    expect(rest.nextCursor).toBeUndefined();
    await expect(
      reopened.byScope({ namespace: 'memories', scope: {}, limit: 2 }),
    ).rejects.toBeInstanceOf(InvalidArgumentError);
    await reopened.append({
      events: [event('6', null, { event: 'INFERENCE_FAILED', runId: 'r' })],
    });
    expect(
      await reopened.deleteScope({
        namespace: 'memories',
        scope: { userId: 'alice', agentId: 'chef' },
      }),
    ).toEqual({
      deleted: 2,
    });
    expect(
      await reopened.deleteScope({ namespace: 'memories', scope: { userId: 'alice' } }),
    ).toEqual({ deleted: 2 });
    expect(
      (await reopened.byScope({ namespace: 'memories', scope: { runId: 'r' }, limit: 10 })).events,
    ).toHaveLength(1);
    await reopened.close();
  });

  it('applies the expiry condition to its cached scopes exactly as SQL applies it', async () => {
    const path = temporaryPath();
    const connection = new Database(path);
    const cached = createSqliteStore({ database: connection });
    const uncached = createSqliteStore({ path, vectorCacheSize: 0 });
    const reference = createInMemoryStore();
    const expiring = (id: string, y: number, expiry: unknown, extra: object = {}) =>
      record(id, [1, y, 0], `kayak trip ${id}`, {
        userId: 'u',
        metadata: { ...(expiry === undefined ? {} : { [expiresAtField]: expiry }), ...extra },
      } as Partial<VectorRecord>);
    const scopeRecords = [
      expiring('past', 0, 1000, { kind: 'a' }),
      expiring('equal', 0.1, 2000),
      expiring('real', 0.15, 1999.5, { kind: 'a' }),
      expiring('future', 0.2, 3000, { kind: 'a' }),
      expiring('text', 0.3, '1000'),
      expiring('flag', 0.4, true, { kind: 'a' }),
      expiring('null', 0.5, null),
      expiring('none', 0.6, undefined, { kind: 'a' }),
      expiring('nested', 0.7, { at: 1000 }),
      record('other', [1, 0, 0], 'kayak trip other', { userId: 'v' }),
    ];
    for (const target of [cached, reference]) {
      await target.ensureCollection({ collection: 'memories', dimensions: 3 });
      await target.upsert({ collection: 'memories', records: scopeRecords });
    }
    const at = (time: number) => unexpiredFilter(new Date(time));
    const kindA: FilterExpression = { op: 'eq', field: 'kind', value: 'a' };
    const filters: FilterExpression[] = [
      at(2000),
      at(999),
      at(5000),
      { op: 'and', filters: [kindA, at(2000)] },
      { op: 'and', filters: [at(1500), kindA, at(2000)] },
      { op: 'or', filters: [kindA, at(2000)] },
    ];
    const ids = (matches: { record: { id: string } }[]) => matches.map((match) => match.record.id);
    const base = { collection: 'memories', scope: { userId: 'u' }, topK: 20 };
    for (const filter of filters) {
      const vector = { ...base, filter, vector: [1, 0.05, 0] };
      const text = { ...base, filter, text: 'kayak' };
      const expected = ids(await reference.query(vector));
      expect(ids(await cached.query(vector))).toEqual(expected);
      expect(ids(await uncached.query(vector))).toEqual(expected);
      expect(ids(await cached.query(text))).toEqual(ids(await uncached.query(text)));
      expect(new Set(ids(await cached.query(text)))).toEqual(new Set(expected));
    }
    expect(ids(await cached.query({ ...base, filter: at(2000), vector: [1, 0, 0] }))).toEqual([
      'future',
      'text',
      'flag',
      'null',
      'none',
      'nested',
    ]);
    // A change behind the store's back on its own connection leaves its cache as it was: the
    // filtered searches above were answered from the cache, not from the table.
    connection
      .prepare('UPDATE engram_memories SET vector = ? WHERE id = ?')
      .run(toBlob([0, 0, 1]), 'future');
    const [future] = await cached.query({ ...base, filter: at(2000), vector: [0, 0, 1], topK: 1 });
    expect(future?.score).toBeLessThan(0.5);
    const [fresh] = await uncached.query({ ...base, filter: at(2000), vector: [0, 0, 1], topK: 1 });
    expect(fresh?.record.id).toBe('future');
    expect(fresh?.score).toBeCloseTo(1, 6);
    await cached.close();
    await uncached.close();
    connection.close();
  });

  it('sees writes of another connection despite its vector cache', async () => {
    const path = temporaryPath();
    const reader = createSqliteStore({ path });
    const writer = createSqliteStore({ path });
    await reader.ensureCollection({ collection: 'memories', dimensions: 3 });
    await writer.upsert({ collection: 'memories', records: [records[0]!] });
    const query = {
      collection: 'memories',
      vector: [1, 0, 0],
      topK: 5,
      scope: { userId: 'alice' },
    };
    expect((await reader.query(query)).map((match) => match.record.id)).toEqual(['a']);
    await writer.upsert({ collection: 'memories', records: [records[4]!] });
    expect((await reader.query(query)).map((match) => match.record.id)).toEqual(['a', 'e']);
    await writer.delete({ collection: 'memories', ids: ['a'] });
    expect((await reader.query(query)).map((match) => match.record.id)).toEqual(['e']);
    await reader.upsert({ collection: 'memories', records: [records[1]!] });
    expect((await reader.query(query)).map((match) => match.record.id)).toEqual(['e', 'b']);
    await reader.close();
    await writer.close();
  });

  it('splits large upserts into batches and leaves a borrowed database open', async () => {
    const database = new Database(':memory:');
    const store = createSqliteStore({ database });
    expect(store.capabilities.maxBatchSize).toBe(1000);
    await store.ensureCollection({ collection: 'memories', dimensions: 2 });
    const many = Array.from({ length: 2500 }, (_, index) =>
      record(`m${index}`, [Math.cos(index), Math.sin(index)], `memory number ${index}`, {
        userId: `user-${index % 5}`,
      }),
    );
    await store.upsert({ collection: 'memories', records: many });
    expect(await store.count({ collection: 'memories' })).toBe(2500);
    expect(await store.count({ collection: 'memories', scope: { userId: 'user-3' } })).toBe(500);
    await store.close();
    expect(database.open).toBe(true);
    expect(database.prepare('SELECT count(*) FROM engram_memories').pluck().get()).toBe(2500);
    database.close();
  });

  it('sizes the page cache when asked and keeps statement journals in memory', async () => {
    const borrowed = new Database(':memory:');
    const defaultCache = borrowed.pragma('cache_size', { simple: true });
    const left = createSqliteStore({ database: borrowed });
    await left.ensureCollection({ collection: 'memories', dimensions: 2 });
    expect(borrowed.pragma('cache_size', { simple: true })).toBe(defaultCache);
    expect(borrowed.pragma('temp_store', { simple: true })).toBe(2);
    const sized = createSqliteStore({ database: borrowed, pageCacheMiB: 8 });
    await sized.count({ collection: 'memories' });
    expect(borrowed.pragma('cache_size', { simple: true })).toBe(-8192);
    borrowed.close();
  });

  it('writes many rows per statement: repeated ids, history order and keywords stay right', async () => {
    const store = createSqliteStore({ path: temporaryPath() });
    await store.ensureCollection({ collection: 'memories', dimensions: 2 });
    // 150 rows span several multi-row statements plus a shorter last one; ids repeat within one.
    const batch = Array.from({ length: 150 }, (_, index) =>
      record(`m${index % 100}`, [index, 1], `note ${index} word${index}`, {
        userId: `user-${index % 3}`,
      }),
    );
    await store.commit({
      collection: 'memories',
      upsert: batch,
      delete: [],
      history: batch.map((entry, index) => event(`e${index}`, entry.id, { userId: entry.userId })),
    });
    expect(await store.count({ collection: 'memories' })).toBe(100);
    const [updated] = await store.get({
      collection: 'memories',
      ids: ['m10'],
      includeVectors: true,
    });
    expect(updated).toMatchObject({ text: 'note 110 word110', userId: 'user-2', vector: [110, 1] });
    const keyword = (text: string) =>
      store
        .query({ collection: 'memories', text, topK: 5 })
        .then((matches) => matches.map((match) => match.record.id));
    expect(await keyword('word110')).toEqual(['m10']);
    expect(await keyword('word10')).toEqual([]);
    const events = await store.byMemory({ namespace: 'memories', memoryId: 'm10' });
    expect(events.map((entry) => entry.id)).toEqual(['e10', 'e110']);
    const page = await store.byScope({
      namespace: 'memories',
      scope: { userId: 'user-0' },
      limit: 100,
    });
    expect(page.events.map((entry) => entry.id)).toEqual(
      Array.from({ length: 50 }, (_, index) => `e${index * 3}`),
    );
    await store.close();
  });

  it('creates the database and its -wal/-shm files 0600 in a 0700 directory it makes', async () => {
    const made = join(directory, 'made', 'by-engram');
    const path = join(made, 'engram.db');
    const store = createSqliteStore({ path });
    await store.ensureCollection({ collection: 'modes', dimensions: 2 });
    await store.upsert({ collection: 'modes', records: [record('a', [1, 0], 'private')] });
    const mode = (file: string) => (statSync(file).mode & 0o777).toString(8);
    expect(mode(join(directory, 'made'))).toBe('700');
    expect(mode(made)).toBe('700');
    for (const file of [path, `${path}-wal`, `${path}-shm`]) expect(mode(file), file).toBe('600');
    await store.close();

    const userMade = join(directory, 'user-made');
    mkdirSync(userMade, { mode: 0o755 });
    const other = createSqliteStore({ path: join(userMade, 'engram.db') });
    await other.ensureCollection({ collection: 'modes', dimensions: 2 });
    expect(mode(userMade), 'a directory the user made keeps its mode').toBe('755');
    expect(mode(join(userMade, 'engram.db'))).toBe('600');
    await other.close();
  });
});
