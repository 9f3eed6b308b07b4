import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { VectorRecord } from '@engram/core';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { PageMarks, staleRows } from './sqlite-ann-build.js';
import { annIndexPath } from './sqlite-ann-index.js';
import { createSqliteStore } from './sqlite-store.js';

const directory = mkdtempSync(join(tmpdir(), 'engram-sqlite-ann-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));
let files = 0;
const temporaryPath = () => join(directory, `store-${++files}.db`);
const now = '2025-01-01T00:00:00.000Z';
const collection = 'memories';

/** A deterministic generator, so a failing recall can be reproduced. */
function random(seed: number) {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648 - 0.5;
  };
}

function randomVectors(count: number, dimensions: number, seed: number): number[][] {
  const next = random(seed);
  return Array.from({ length: count }, () => Array.from({ length: dimensions }, next));
}

function records(vectors: number[][], prefix = 'm', extra: Partial<VectorRecord> = {}) {
  return vectors.map((vector, index) => ({
    id: `${prefix}${String(index).padStart(6, '0')}`,
    vector,
    text: `memory ${index}`,
    metadata: { parity: index % 2 },
    userId: `user-${index % 10}`,
    createdAt: now,
    updatedAt: now,
    ...extra,
  }));
}

async function filled(path: string, count: number, dimensions = 16, minimumSize = 100) {
  const store = createSqliteStore({ path, annIndex: { minimumSize } });
  await store.ensureCollection({ collection, dimensions });
  await store.upsert({ collection, records: records(randomVectors(count, dimensions, 7)) });
  return store;
}

/** Writes `count` random 16-dimension memories with no index, and closes the store. */
async function seedWithoutIndex(path: string, count: number, seed: number) {
  const seeded = createSqliteStore({ path, annIndex: false });
  await seeded.ensureCollection({ collection, dimensions: 16 });
  await seeded.upsert({ collection, records: records(randomVectors(count, 16, seed)) });
  await seeded.close();
}

/** A filled store whose index is built and loaded. */
async function indexed(path: string, count: number, dimensions = 16, minimumSize = 100) {
  const store = await filled(path, count, dimensions, minimumSize);
  expect((await store.buildIndex({ collection })).size).toBe(count);
  return store;
}

const topIds = async (
  store: ReturnType<typeof createSqliteStore>,
  vector: number[],
  topK = 5,
  filter?: Parameters<ReturnType<typeof createSqliteStore>['query']>[0]['filter'],
) =>
  (await store.query({ collection, vector, topK, ...(filter ? { filter } : {}) })).map(
    (match) => match.record.id,
  );

const builderScript = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  'test',
  'fixtures',
  'index-builder.mjs',
);

const temporaryFiles = (path: string) =>
  readdirSync(dirname(path)).filter((name) => name.endsWith('.tmp'));

function stateOf(path: string) {
  const database = new Database(path, { readonly: true });
  try {
    return {
      state: database.prepare('SELECT * FROM engram_ann_state').all(),
      changes: database.prepare('SELECT count(*) FROM engram_ann_changes').pluck().get(),
    };
  } finally {
    database.close();
  }
}

describe('the approximate index of unscoped vector queries', () => {
  it('finds the exact top 10 of random vectors at 10k with recall of at least 0.95', async () => {
    const path = temporaryPath();
    const dimensions = 32;
    const store = await indexed(path, 10_000, dimensions, 10_000);
    const exact = createSqliteStore({ path, annIndex: false });
    const queries = randomVectors(50, dimensions, 99);
    let found = 0;
    for (const query of queries) {
      const approximate = await store.query({ collection, vector: query, topK: 10 });
      const expected = await topIds(exact, query, 10);
      found += approximate.filter((match) => expected.includes(match.record.id)).length;
      for (const match of approximate) {
        expect(match.score).toBeGreaterThanOrEqual(-1);
        expect(match.score).toBeLessThanOrEqual(1);
      }
    }
    expect(found / (queries.length * 10)).toBeGreaterThanOrEqual(0.95);
    expect(existsSync(annIndexPath(path, collection))).toBe(true);
    // Scores are the exact cosine similarities the scan computes.
    const [first] = await store.query({ collection, vector: queries[0]!, topK: 1 });
    const [expected] = await exact.query({ collection, vector: queries[0]!, topK: 1 });
    expect(first!.score).toBeCloseTo(expected!.score, 10);
    await exact.close();
    await store.close();
  });

  it('sees upserts, updates and deletes at once, and keeps filters and scopes exact', async () => {
    const path = temporaryPath();
    const store = await indexed(path, 300);
    const target = randomVectors(1, 16, 5)[0]!;
    await store.upsert({ collection, records: records([target], 'new') });
    expect((await topIds(store, target))[0]).toBe('new000000');
    expect((await store.query({ collection, vector: target, topK: 1 }))[0]!.score).toBeCloseTo(
      1,
      5,
    );
    await store.delete({ collection, ids: ['new000000'] });
    expect(await topIds(store, target)).not.toContain('new000000');
    await store.upsert({
      collection,
      records: records([target], 'm', { metadata: { parity: 1 } }),
    });
    expect((await topIds(store, target))[0]).toBe('m000000');
    const even = await topIds(store, target, 5, { op: 'eq', field: 'parity', value: 0 });
    expect(even).toHaveLength(5);
    expect(even).not.toContain('m000000');
    const scoped = await store.query({
      collection,
      vector: target,
      topK: 3,
      scope: { userId: 'user-3' },
    });
    expect(scoped.every((match) => match.record.userId === 'user-3')).toBe(true);
    await store.close();
  });

  it('applies a bulk write to a loaded index on the next unscoped query', async () => {
    const path = temporaryPath();
    const store = await indexed(path, 300);
    const target = randomVectors(1, 16, 19)[0]!;
    const bulk = randomVectors(400, 16, 23);
    bulk[250] = target;
    await store.upsert({ collection, records: records(bulk, 'bulk') });
    expect(stateOf(path).changes).toBe(400);
    expect((await topIds(store, target))[0]).toBe('bulk000250');
    await store.close();
  });

  it('replays the changes another process wrote after the index was saved', async () => {
    const path = temporaryPath();
    const first = await indexed(path, 300);
    const target = randomVectors(1, 16, 11)[0]!;
    await first.close();
    const other = createSqliteStore({ path, annIndex: false });
    await other.upsert({ collection, records: records([target], 'late') });
    await other.delete({ collection, ids: ['m000001'] });
    await other.close();
    expect(stateOf(path).changes).toBe(2);
    const reopened = createSqliteStore({ path, annIndex: { minimumSize: 100 } });
    expect((await topIds(reopened, target))[0]).toBe('late000000');
    const nearFirst = (
      await reopened.get({ collection, ids: ['m000002'], includeVectors: true })
    )[0]!.vector!;
    expect(await topIds(reopened, nearFirst, 300)).not.toContain('m000001');
    await reopened.close();
    expect(stateOf(path).changes).toBe(0);
  });

  it('answers from the saved file and the changes made after it, counting each row once', async () => {
    const path = temporaryPath();
    await (await indexed(path, 300)).close();
    const reopened = createSqliteStore({ path, annIndex: { minimumSize: 100 } });
    const target = randomVectors(1, 16, 61)[0]!;
    // Rows of the saved file: one moved next to the target, one deleted.
    await reopened.upsert({ collection, records: records([target], 'm') });
    await reopened.delete({ collection, ids: ['m000002'] });
    const [best] = await reopened.query({ collection, vector: target, topK: 1 });
    expect(best!.record.id).toBe('m000000');
    expect(best!.score).toBeCloseTo(1, 5);
    const nearDeleted = (
      await reopened.get({ collection, ids: ['m000003'], includeVectors: true })
    )[0]!.vector!;
    expect(await topIds(reopened, nearDeleted, 300)).not.toContain('m000002');
    expect((await reopened.buildIndex({ collection })).size).toBe(299);
    await reopened.close();
    expect(stateOf(path).changes).toBe(0);
    const again = createSqliteStore({ path, annIndex: { minimumSize: 100 } });
    expect((await again.buildIndex({ collection })).size).toBe(299);
    expect((await topIds(again, target))[0]).toBe('m000000');
    await again.close();
  });

  it('repairs an index that was not saved before a crash, or whose file is damaged', async () => {
    const path = temporaryPath();
    const crashed = await indexed(path, 300);
    const target = randomVectors(1, 16, 13)[0]!;
    // Written and applied in memory, but never saved: the process dies before closing.
    await crashed.upsert({ collection, records: records([target], 'unsaved') });
    expect((await topIds(crashed, target))[0]).toBe('unsaved000000');
    const afterCrash = createSqliteStore({ path, annIndex: { minimumSize: 100 } });
    expect((await topIds(afterCrash, target))[0]).toBe('unsaved000000');
    await afterCrash.close();
    writeFileSync(annIndexPath(path, collection), 'not an index');
    const damaged = createSqliteStore({ path, annIndex: { minimumSize: 100 } });
    expect((await topIds(damaged, target))[0]).toBe('unsaved000000');
    await damaged.close();
    await crashed.close();
  });

  it('drops the index with its collection, and is not built when turned off or small', async () => {
    const path = temporaryPath();
    const store = await indexed(path, 300);
    expect(existsSync(annIndexPath(path, collection))).toBe(true);
    await store.dropCollection({ collection });
    expect(existsSync(annIndexPath(path, collection))).toBe(false);
    expect(stateOf(path)).toEqual({ state: [], changes: 0 });
    await store.ensureCollection({ collection, dimensions: 16 });
    await store.upsert({ collection, records: records(randomVectors(50, 16, 1)) });
    expect(await topIds(store, randomVectors(1, 16, 2)[0]!)).toHaveLength(5);
    await store.close();
    expect(stateOf(path).state).toEqual([]);

    const off = temporaryPath();
    const disabled = createSqliteStore({ path: off, annIndex: false });
    await disabled.ensureCollection({ collection, dimensions: 16 });
    await disabled.upsert({ collection, records: records(randomVectors(300, 16, 1)) });
    expect(await topIds(disabled, randomVectors(1, 16, 2)[0]!)).toHaveLength(5);
    await disabled.close();
    expect(stateOf(off).state).toEqual([]);
    expect(existsSync(annIndexPath(off, collection))).toBe(false);
  });

  it('keeps an in-memory database working and its change log pruned', async () => {
    const store = await indexed(':memory:', 300);
    const target = randomVectors(1, 16, 17)[0]!;
    await store.upsert({ collection, records: records([target], 'fresh') });
    expect((await topIds(store, target))[0]).toBe('fresh000000');
    await store.close();
  });

  it('builds in the background once a collection is large enough, answering exactly meanwhile', async () => {
    const path = temporaryPath();
    const exact = createSqliteStore({ path, annIndex: false });
    const store = await filled(path, 2000, 16, 1000);
    // The upsert started the build (it holds the lease); nothing is installed before it reports.
    const [state] = stateOf(path).state as { saved_through: number; build_owner: string }[];
    expect(state?.saved_through).toBe(-1);
    expect(state?.build_owner).toBeTruthy();
    expect(existsSync(annIndexPath(path, collection))).toBe(false);
    for (const seed of [31, 32, 33]) {
      const query = randomVectors(1, 16, seed)[0]!;
      expect(await topIds(store, query, 10)).toEqual(await topIds(exact, query, 10));
    }
    expect((await store.buildIndex({ collection })).size).toBe(2000);
    expect(existsSync(annIndexPath(path, collection))).toBe(true);
    expect(temporaryFiles(path)).toEqual([]);
    const target = randomVectors(1, 16, 34)[0]!;
    await store.upsert({ collection, records: records([target], 'after') });
    expect((await topIds(store, target))[0]).toBe('after000000');
    await store.close();
    await exact.close();
    expect(stateOf(path).state).toMatchObject([{ build_owner: null }]);
  });

  it('stops a background build on close without killing its thread, leaving no partial file', async () => {
    const path = temporaryPath();
    await seedWithoutIndex(path, 20_000, 45);
    for (let round = 0; round < 3; round++) {
      const store = createSqliteStore({ path, annIndex: { minimumSize: 100 } });
      // The first unscoped query starts the build in a worker; close() asks it to stop at its
      // next page and resolves once the thread has ended on its own.
      await store.query({ collection, vector: randomVectors(1, 16, 46)[0]!, topK: 1 });
      await store.close();
      expect(temporaryFiles(path)).toEqual([]);
      expect(existsSync(annIndexPath(path, collection))).toBe(false);
      expect(stateOf(path).state).toMatchObject([{ build_owner: null }]);
    }
    const store = createSqliteStore({ path, annIndex: { minimumSize: 100 } });
    expect((await store.buildIndex({ collection })).size).toBe(20_000);
    await store.close();
  });

  it('keeps the process alive until a build stopped by close has ended', async () => {
    const path = temporaryPath();
    await seedWithoutIndex(path, 20_000, 47);
    const child = spawn(process.execPath, [builderScript, path, 'close'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
    });
    const code = await new Promise((resolve) => child.on('exit', resolve));
    // Exit code 13 would be an `await` left unsettled: the build's thread did not hold the
    // process open while close() waited for it.
    expect({ code, output }).toEqual({ code: 0, output: 'building\nclosed\n' });
    expect(temporaryFiles(path)).toEqual([]);
  });

  it('leaves a usable store when a process is killed mid-build, and finishes the build', async () => {
    const path = temporaryPath();
    await seedWithoutIndex(path, 20_000, 41);
    const child = spawn(process.execPath, [builderScript, path], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    await new Promise<void>((resolve, reject) => {
      let output = '';
      let errors = '';
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
        errors += chunk;
      });
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        output += chunk;
        if (output.includes('building')) resolve();
      });
      child.on('exit', () => reject(new Error(`builder exited early: ${errors}`)));
    });
    child.kill('SIGKILL');
    await exited;
    // What a builder killed while writing leaves behind.
    writeFileSync(`${annIndexPath(path, collection)}.99999.1.tmp`, 'half an index');

    const exact = createSqliteStore({ path, annIndex: false });
    const store = createSqliteStore({ path, annIndex: { minimumSize: 100 } });
    const query = randomVectors(1, 16, 43)[0]!;
    expect(await topIds(store, query, 10)).toEqual(await topIds(exact, query, 10));
    expect((await store.buildIndex({ collection })).size).toBe(20_000);
    expect(temporaryFiles(path)).toEqual([]);
    const target = randomVectors(1, 16, 44)[0]!;
    await store.upsert({ collection, records: records([target], 'later') });
    expect((await topIds(store, target))[0]).toBe('later000000');
    await store.close();
    await exact.close();
  });

  it('catches up an index that is far behind the table, without blocking queries', async () => {
    const path = temporaryPath();
    const first = await indexed(path, 300);
    await first.close();
    const other = createSqliteStore({ path, annIndex: false });
    const target = randomVectors(1, 16, 51)[0]!;
    const bulk = randomVectors(1000, 16, 52);
    bulk[700] = target;
    await other.upsert({ collection, records: records(bulk, 'bulk') });
    await other.close();
    expect(stateOf(path).changes).toBe(1000);
    const reopened = createSqliteStore({ path, annIndex: { minimumSize: 100 } });
    // Answered before the catch-up is done: the changed rows are scored beside the index's.
    expect((await topIds(reopened, target))[0]).toBe('bulk000700');
    expect((await reopened.buildIndex({ collection })).size).toBe(1300);
    expect((await topIds(reopened, target))[0]).toBe('bulk000700');
    await reopened.close();
    expect(stateOf(path).changes).toBe(0);
  });
});

describe('a build beside writes', () => {
  it('applies only the rows changed after the page that read them', () => {
    const database = new Database(':memory:');
    database.exec(
      'CREATE TABLE engram_ann_changes (sequence INTEGER PRIMARY KEY AUTOINCREMENT, collection TEXT NOT NULL, row_id INTEGER NOT NULL)',
    );
    const log = database.prepare(
      'INSERT INTO engram_ann_changes (collection, row_id) VALUES (?, ?)',
    );
    // Sequences 1-6: rows 1, 2 and 7 written before their pages were read, row 2 again after,
    // row 9 (past the last page) and a row of another collection.
    for (const [name, rowId] of [
      [collection, 1],
      [collection, 2],
      [collection, 7],
      [collection, 2],
      [collection, 9],
      ['other', 3],
    ] as const) {
      log.run(name, rowId);
    }
    const pages = new PageMarks();
    pages.add({ keys: new BigUint64Array(), vectors: new Float32Array(), lastRowId: 4, mark: 3 });
    pages.add({ keys: new BigUint64Array(), vectors: new Float32Array(), lastRowId: 8, mark: 4 });
    expect(pages.markOf(1)).toBe(3);
    expect(pages.markOf(5)).toBe(4);
    expect(pages.markOf(9)).toBe(-1);
    expect(staleRows(database, collection, 0, 6, pages)).toEqual([2, 9]);
    // Changes at or before the build's start are never replayed.
    expect(staleRows(database, collection, 4, 6, pages)).toEqual([9]);
    database.close();
  });

  it('ends in step with an import, updates and deletes made while it ran', async () => {
    const path = temporaryPath();
    await seedWithoutIndex(path, 20_000, 61);
    const exact = createSqliteStore({ path, annIndex: false });
    const store = createSqliteStore({ path, annIndex: { minimumSize: 100 } });
    // Starts the build in a worker; the writes below run while it reads its pages.
    await store.query({ collection, vector: randomVectors(1, 16, 62)[0]!, topK: 1 });
    const targets = randomVectors(20, 16, 63);
    for (let batch = 0; batch < 10; batch++) {
      await store.upsert({
        collection,
        records: records(randomVectors(500, 16, 64 + batch), `new${batch}-`),
      });
    }
    // Existing rows moved to new vectors, and others deleted.
    const idOf = (index: number) => `m${String(index).padStart(6, '0')}`;
    const moved = targets.map((vector, index) => ({
      ...records([vector])[0]!,
      id: idOf(index * 1000),
    }));
    await store.upsert({ collection, records: moved });
    await store.delete({ collection, ids: targets.map((_, index) => idOf(index * 1000 + 1)) });
    expect((await store.buildIndex({ collection })).size).toBe(20_000 + 5000 - 20);
    for (const [index, vector] of targets.entries()) {
      expect((await topIds(store, vector, 1))[0]).toBe(moved[index]!.id);
      expect(await topIds(store, vector, 10)).toEqual(await topIds(exact, vector, 10));
    }
    await store.close();
    await exact.close();
    expect(stateOf(path).changes).toBe(0);
  });
});
