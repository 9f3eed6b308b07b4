import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createInMemoryStore,
  expiredFilter,
  expiresAtField,
  type QueryOptions,
  type Scope,
  scopeKey,
  unexpiredFilter,
  type VectorRecord,
  type VectorStore,
} from '@engram/core';
import Database from 'better-sqlite3';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { createSqliteStore, type SqliteStore } from './sqlite-store.js';
import { ScopeCache } from './sqlite-vectors.js';

const directory = mkdtempSync(join(tmpdir(), 'engram-sqlite-scope-cache-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));
let files = 0;
const temporaryPath = () => join(directory, `store-${++files}.db`);

const collection = 'memories';
const now = new Date('2025-06-01T00:00:00.000Z');
const stamp = now.toISOString();

function memory(id: string, scope: Scope, vector: number[], text: string, metadata = {}) {
  return { id, ...scope, vector, text, metadata, createdAt: stamp, updatedAt: stamp };
}

const u1 = { userId: 'u1' };
const u1a1 = { userId: 'u1', agentId: 'a1' };
const u2 = { userId: 'u2' };
const u3 = { userId: 'u3' };
const searched: Scope[] = [u1, u1a1, u2, u3];

const initial: VectorRecord[] = [
  memory('m1', u1, [1, 0, 0], 'kayak on the lake'),
  memory('m2', u1a1, [0.9, 0.1, 0], 'kayak lessons booked by the agent'),
  memory('m3', u2, [0, 1, 0], 'kayak rental near the station'),
  memory('m4', u2, [0.5, 0.5, 0], 'hiking boots'),
  memory('m5', u3, [0, 0, 1], 'kayak paddles in the garage'),
  memory('m6', u3, [0.2, 0, 1], 'kayak trip in June'),
];

/** Scopes read into a vector cache (of any store) since the spy was last cleared. */
function loadedScopes(spy: { mock: { calls: unknown[][] } }): string[] {
  return spy.mock.calls.map(([key]) => String(key).split('\u0000')[1]!).sort();
}

const keysOf = (...scopes: Scope[]) => scopes.map(scopeKey).sort();

async function setUp() {
  const path = temporaryPath();
  const reader = createSqliteStore({ path });
  const writer = createSqliteStore({ path });
  const uncached = createSqliteStore({ path, vectorCacheSize: 0 });
  const reference = createInMemoryStore();
  for (const store of [writer, reference]) {
    await store.ensureCollection({ collection, dimensions: 3 });
    await store.upsert({ collection, records: initial });
  }
  return { path, reader, writer, uncached, reference };
}

/** Searches every scope with vectors and words; the cached store answers as the reference does. */
async function expectSameAnswers(
  reader: VectorStore,
  uncached: VectorStore,
  reference: VectorStore,
) {
  for (const scope of searched) {
    const vector: QueryOptions = {
      collection,
      scope,
      vector: [1, 0.2, 0.1],
      topK: 10,
      filter: unexpiredFilter(now),
    };
    const summary = (matches: { record: { id: string; text: string }; score: number }[]) =>
      matches.map((match) => [match.record.id, match.record.text, match.score.toFixed(6)]);
    expect(summary(await reader.query(vector))).toEqual(summary(await reference.query(vector)));
    const text: QueryOptions = { collection, scope, text: 'kayak', topK: 10 };
    expect(summary(await reader.query(text))).toEqual(summary(await uncached.query(text)));
    // Whole records (metadata, scope, times, vectors), made from the cache, as the table has them.
    const withVectors = { ...vector, includeVectors: true };
    expect(await reader.query(withVectors)).toEqual(await uncached.query(withVectors));
    expect(await reader.query(text)).toEqual(await uncached.query(text));
  }
}

describe('the scope cache of the SQLite store', () => {
  afterEach(() => vi.restoreAllMocks());

  it("drops only the scopes another connection's writes changed, and answers as the reference", async () => {
    const { reader, writer, uncached, reference } = await setUp();
    const loads = vi.spyOn(ScopeCache.prototype, 'set');
    await expectSameAnswers(reader, uncached, reference);
    expect(loadedScopes(loads)).toEqual(keysOf(...searched));
    loads.mockClear();
    await expectSameAnswers(reader, uncached, reference);
    expect(loadedScopes(loads)).toEqual([]);

    const both = async (change: (store: VectorStore) => Promise<unknown>) => {
      await change(writer);
      await change(reference);
      loads.mockClear();
      await expectSameAnswers(reader, uncached, reference);
      return loadedScopes(loads);
    };
    // Add.
    expect(
      await both((store) =>
        store.upsert({ collection, records: [memory('m7', u2, [1, 0, 0], 'kayak club')] }),
      ),
    ).toEqual(keysOf(u2));
    // Update of the text and vector of a memory of user and agent: both cached scopes drop it.
    expect(
      await both((store) =>
        store.upsert({
          collection,
          records: [memory('m2', u1a1, [0, 0.3, 1], 'kayak lessons moved to July')],
        }),
      ),
    ).toEqual(keysOf(u1, u1a1));
    // Metadata only: an expiry in the past hides the memory from the next search.
    expect(
      await both((store) =>
        store.upsert({
          collection,
          records: [
            memory('m6', u3, [0.2, 0, 1], 'kayak trip in June', {
              [expiresAtField]: now.getTime() - 1000,
            }),
          ],
        }),
      ),
    ).toEqual(keysOf(u3));
    // Expiry cleanup: a delete by filter, over the whole collection.
    expect(await both((store) => store.delete({ collection, filter: expiredFilter(now) }))).toEqual(
      keysOf(u3),
    );
    // Delete by id.
    expect(await both((store) => store.delete({ collection, ids: ['m4'] }))).toEqual(keysOf(u2));
    // A memory moved to another user: its old and new scopes.
    expect(
      await both((store) =>
        store.upsert({ collection, records: [memory('m1', u2, [1, 0, 0], 'kayak on the lake')] }),
      ),
    ).toEqual(keysOf(u1, u2));
    // Every memory of a scope.
    expect(await both((store) => store.delete({ collection, scope: u3 }))).toEqual(keysOf(u3));
    await reader.close();
    await writer.close();
    await uncached.close();
  });

  it('drops only the scopes its own writes changed, and ignores writes that change no memory', async () => {
    const { reader, writer, uncached, reference } = await setUp();
    const loads = vi.spyOn(ScopeCache.prototype, 'set');
    await expectSameAnswers(reader, uncached, reference);
    const record = memory('m8', u3, [1, 1, 0], 'kayak repair kit');
    await reader.upsert({ collection, records: [record] });
    await reference.upsert({ collection, records: [record] });
    loads.mockClear();
    await expectSameAnswers(reader, uncached, reference);
    expect(loadedScopes(loads)).toEqual(keysOf(u3));
    // History events and scope locks are written to the file too; no memory changed.
    await writer.append({
      events: [
        {
          id: 'h1',
          namespace: collection,
          memoryId: 'm1',
          event: 'ADD',
          previousText: null,
          newText: 'kayak on the lake',
          userId: 'u1',
          createdAt: stamp,
        },
      ],
    });
    await writer.scopeLock?.withLocks({ keys: ['memories|u:u1|a:|r:'] }, async () => undefined);
    await reader.scopeLock?.withLocks({ keys: ['memories|u:u2|a:|r:'] }, async () => undefined);
    loads.mockClear();
    await expectSameAnswers(reader, uncached, reference);
    expect(loadedScopes(loads)).toEqual([]);
    await reader.close();
    await writer.close();
    await uncached.close();
  });

  it('keeps its change log bounded and empties the cache of a reader left behind the pruned part', async () => {
    const { path, reader, writer, uncached, reference } = await setUp();
    const loads = vi.spyOn(ScopeCache.prototype, 'set');
    await expectSameAnswers(reader, uncached, reference);
    // Another user's memories, then one change of a searched scope: the log has been pruned
    // past what the reader last read, so it cannot know which scopes changed.
    const many = Array.from({ length: 21_000 }, (_, index) =>
      memory(`bulk-${index}`, { userId: 'u9' }, [1, 0, 0], `bulk ${index}`),
    );
    await writer.upsert({ collection, records: many });
    const change = memory('m3', u2, [0, 1, 0], 'kayak rental closed');
    await writer.upsert({ collection, records: [change] });
    await reference.upsert({ collection, records: [change] });
    const raw = new Database(path, { readonly: true });
    const logged = raw.prepare('SELECT count(*) FROM engram_scope_changes').pluck().get();
    const pruned = raw
      .prepare("SELECT value FROM engram_meta WHERE key = 'scope_changes_pruned_through'")
      .pluck()
      .get();
    raw.close();
    expect(logged).toBeLessThanOrEqual(20_000);
    expect(Number(pruned)).toBeGreaterThan(initial.length);
    loads.mockClear();
    await expectSameAnswers(reader, uncached, reference);
    expect(loadedScopes(loads)).toEqual(keysOf(...searched));
    await reader.close();
    await writer.close();
    await uncached.close();
  });

  it('gives a database of schema version 4 the change log on open', async () => {
    const path = temporaryPath();
    const first: SqliteStore = createSqliteStore({ path });
    await first.ensureCollection({ collection, dimensions: 3 });
    await first.close();
    const raw = new Database(path);
    raw.exec(`DROP TRIGGER engram_scope_changes_insert; DROP TRIGGER engram_scope_changes_delete;
      DROP TRIGGER engram_scope_changes_update; DROP TABLE engram_scope_changes;
      UPDATE engram_meta SET value = '4' WHERE key = 'schema_version';`);
    raw.close();
    const reopened = createSqliteStore({ path });
    await reopened.upsert({ collection, records: initial.slice(0, 2) });
    await reopened.close();
    const check = new Database(path, { readonly: true });
    expect(check.prepare('SELECT count(*) FROM engram_scope_changes').pluck().get()).toBe(2);
    check.close();
  });
});
