import { randomUUID } from 'node:crypto';
import {
  describeHistoryStore,
  describeVectorStore,
  expectFoundWithoutKeywordText,
  expectKeywordLanguages,
  providedServer,
  recordsWithoutKeywordText,
} from '@engram/conformance';
import {
  AdapterCallError,
  type FilterExpression,
  type HistoryEvent,
  keywordText,
  matchesFilter,
  type VectorRecord,
} from '@engram/core';
import pg from 'pg';
import { expect } from 'vitest';
import { createPgvectorStore, type PgvectorStore } from '../src/index.js';

const { url: connectionString, ...server } = providedServer();

function record(vector: number[], fields: Partial<VectorRecord> = {}): VectorRecord {
  const now = new Date().toISOString();
  return {
    id: randomUUID(),
    vector,
    text: 'a memory',
    metadata: {},
    createdAt: now,
    updatedAt: now,
    ...fields,
  };
}

function unit(vector: number[]): number[] {
  const norm = Math.hypot(...vector);
  return vector.map((value) => value / norm);
}

/** The quoted table of a collection in the default schema. */
async function tableOf(db: pg.Client, collection: string): Promise<string> {
  const { rows } = await db.query<{ table_name: string }>(
    'SELECT table_name FROM engram_collections WHERE name = $1',
    [collection],
  );
  return `"public"."${rows[0]!.table_name}"`;
}

/** A pool that records the statements sent through `pool.query` (not through transactions). */
function recordingPool(options: string) {
  const pool = new pg.Pool({ connectionString, options, max: 4 });
  const statements: string[] = [];
  const query = pool.query.bind(pool) as (...parameters: unknown[]) => unknown;
  (pool as unknown as { query: (...parameters: unknown[]) => unknown }).query = (
    ...parameters: unknown[]
  ) => {
    const first = parameters[0];
    statements.push(typeof first === 'string' ? first : String((first as { text?: string }).text));
    return query(...parameters);
  };
  return { pool, statements };
}

/**
 * 3,000 records: a quarter tagged `far` point away from the query vector, so the 40 nearest
 * neighbours the HNSW index finds first are all filtered out.
 */
function farAndNear(dimensions: number): VectorRecord[] {
  let state = 12345;
  const random = () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
  return Array.from({ length: 3000 }, (_, index) => {
    const far = index % 4 === 0;
    const vector = Array.from({ length: dimensions }, () => random() * 2 - 1);
    vector[0] = far ? -Math.abs(vector[0]!) - 2 : Math.abs(vector[0]!) + 2;
    return record(unit(vector), {
      userId: far ? 'far-user' : 'near-user',
      metadata: { group: far ? 'far' : 'near', index },
    });
  });
}

describeVectorStore({
  name: 'pgvector',
  create: () => createPgvectorStore({ connectionString }),
  ...server,
  additionalTests: ({ test, store, createCollection, dimensions }) => {
    test('filters hold exact JSONB semantics on edge cases', async () => {
      const collection = await createCollection('filter_edges');
      const documents: Record<string, VectorRecord['metadata']> = {
        a: { n: 1, s: 'one', b: true, tags: ['x', 1, true], nested: { city: 'Paris' }, big: 10 },
        b: { n: '1', s: 'One', b: false, tags: ['y'], nested: { city: 'Berlin' }, 'dash-key': 5 },
        c: { n: 2.5, s: 'two words', tags: [[1], 'x-ray'], nested: 'flat', nothing: null, big: 9 },
        d: {},
        e: { n: true, s: 'café', tags: 'x-ray', nested: { city: null }, list: [{ city: 'Paris' }] },
        f: { n: 1.0, s: 'apple', big: 1e21, tags: { x: 1 }, nested: { city: ['Paris'] } },
        g: { s: 'Apple', n: -0.5, big: -3 },
      };
      const ids = new Map(Object.keys(documents).map((name) => [name, randomUUID()]));
      await store().upsert({
        collection,
        records: Object.entries(documents).map(([name, metadata]) =>
          record(unit(Array.from({ length: dimensions }, (_, axis) => axis + 1)), {
            id: ids.get(name)!,
            metadata,
          }),
        ),
      });
      const filters: FilterExpression[] = [
        { op: 'eq', field: 'n', value: 1 },
        { op: 'eq', field: 'n', value: '1' },
        { op: 'eq', field: 'n', value: true },
        { op: 'eq', field: 'nested.city', value: 'Paris' },
        { op: 'eq', field: 'list.city', value: 'Paris' },
        { op: 'eq', field: 'dash-key', value: 5 },
        { op: 'ne', field: 'n', value: 1 },
        { op: 'gt', field: 'n', value: 0 },
        { op: 'lt', field: 's', value: 'apple' },
        { op: 'gte', field: 's', value: 'One' },
        { op: 'gt', field: 'big', value: 1e20 },
        { op: 'in', field: 'n', values: ['1', 2.5, true] },
        { op: 'in', field: 'n', values: [] },
        { op: 'nin', field: 'n', values: [1, true] },
        { op: 'nin', field: 'n', values: [] },
        { op: 'contains', field: 'tags', value: 'x' },
        { op: 'contains', field: 'tags', value: 1 },
        { op: 'contains', field: 'tags', value: true },
        { op: 'contains', field: 's', value: 'wor' },
        { op: 'contains', field: 's', value: '' },
        { op: 'contains', field: 'n', value: 1 },
        { op: 'exists', field: 'nothing' },
        { op: 'exists', field: 'nested.city' },
        { op: 'not', filter: { op: 'exists', field: 'b' } },
        {
          op: 'or',
          filters: [
            { op: 'eq', field: 'b', value: false },
            { op: 'not', filter: { op: 'lt', field: 'big', value: 5 } },
          ],
        },
      ];
      for (const filter of filters) {
        const expected = Object.entries(documents)
          .filter(([, metadata]) => matchesFilter(filter, metadata))
          .map(([name]) => ids.get(name)!)
          .sort();
        const page = await store().list({ collection, filter, limit: 100 });
        expect(page.records.map((stored) => stored.id).sort(), JSON.stringify(filter)).toEqual(
          expected,
        );
      }
    });

    test('keyword search stems English words and ranks by ts_rank_cd', async () => {
      const collection = await createCollection('keyword_stem');
      const vector = unit(Array.from({ length: dimensions }, () => 1));
      const peanuts = record(vector, { userId: 'eater', text: 'Allergic to peanuts and cashews' });
      const other = record(vector, { userId: 'eater', text: 'Enjoys long walks by the river' });
      await store().upsert({ collection, records: [peanuts, other] });
      const matches = await store().query({
        collection,
        text: 'is she allergic to a peanut?',
        topK: 5,
        scope: { userId: 'eater' },
      });
      expect(matches.map((match) => match.record.id)).toEqual([peanuts.id]);
      expect(matches[0]!.score).toBeGreaterThan(0);
      expect(await store().query({ collection, text: 'the a of ?!', topK: 5 })).toEqual([]);
    });

    test('a table made before keyword_text existed is migrated and finds CJK and Korean words', async () => {
      const collection = await createCollection('keyword_migration');
      const old = recordsWithoutKeywordText(dimensions);
      await store().upsert({ collection, records: old });
      // The table as the adapter made it before: `search` over `text`, no `keyword_text`.
      const admin = new pg.Client({ connectionString });
      await admin.connect();
      try {
        const table = await tableOf(admin, collection);
        await admin.query(`ALTER TABLE ${table} DROP COLUMN search`);
        await admin.query(`ALTER TABLE ${table} DROP COLUMN keyword_text`);
        await admin.query(
          `ALTER TABLE ${table} ADD COLUMN search tsvector GENERATED ALWAYS AS (to_tsvector('english'::regconfig, text)) STORED`,
        );
      } finally {
        await admin.end();
      }
      const reopened = createPgvectorStore({ connectionString });
      try {
        await expectKeywordLanguages(reopened, collection, dimensions);
        // Rows written before the migration are found through their text, and those in
        // Chinese or Korean through the keyword text the migration gave them.
        await expectFoundWithoutKeywordText(reopened, collection, old);
      } finally {
        await reopened.close();
      }
    });

    test('a keyword text fill stopped half-way resumes when the table is next opened', async () => {
      const collection = await createCollection('keyword_resume');
      const vector = unit(Array.from({ length: dimensions }, () => 1));
      const texts = Array.from({ length: 1205 }, (_, index) => `第${index}号房间在上海`);
      const records = texts.map((text, index) =>
        index === 700
          ? // the largest id: in the part of the table the stopped fill did not reach
            record(vector, { id: 'ffffffff-ffff-4fff-bfff-ffffffffffff', text: '我在东京工作' })
          : record(vector, { userId: 'reader', text }),
      );
      await store().upsert({
        collection,
        records: records.map((stored) => ({ ...stored, keywordText: keywordText(stored.text) })),
      });
      // As a fill stopped after its first page leaves it: no mark, later rows without keyword text.
      const admin = new pg.Client({ connectionString });
      await admin.connect();
      try {
        const table = await tableOf(admin, collection);
        await admin.query(`COMMENT ON COLUMN ${table}.keyword_text IS NULL`);
        await admin.query(
          `UPDATE ${table} SET keyword_text = NULL WHERE id > (SELECT id FROM ${table} ORDER BY id OFFSET 500 LIMIT 1)`,
        );
        const reopened = createPgvectorStore({ connectionString });
        try {
          const matches = await reopened.query({ collection, text: keywordText('东京'), topK: 3 });
          expect(matches.map((match) => match.record.id)).toEqual([records[700]!.id]);
          const missing = await admin.query(
            `SELECT count(*)::int AS n FROM ${table} WHERE keyword_text IS NULL`,
          );
          expect(missing.rows[0].n).toBe(0);
          const mark = await admin.query(
            `SELECT col_description(to_regclass($1), attnum) AS comment FROM pg_attribute WHERE attrelid = to_regclass($1) AND attname = 'keyword_text'`,
            [table],
          );
          expect(mark.rows[0].comment).toMatch(/filled/);
        } finally {
          await reopened.close();
        }
      } finally {
        await admin.end();
      }
    });

    test('a commit the database rejects half-way applies nothing', async () => {
      const collection = await createCollection('commit_rollback');
      const kept = record(unit(Array.from({ length: dimensions }, () => 1)), { userId: 'rb' });
      await store().upsert({ collection, records: [kept] });
      const added = record(kept.vector, { userId: 'rb' });
      // PostgreSQL refuses NUL in jsonb: the statement after the delete fails.
      const rejected = record(kept.vector, { userId: 'rb', metadata: { bad: 'nul \u0000 here' } });
      const event: HistoryEvent = {
        id: randomUUID(),
        namespace: collection,
        memoryId: added.id,
        event: 'ADD',
        previousText: null,
        newText: 'never',
        userId: 'rb',
        createdAt: new Date().toISOString(),
      };
      const commit = (store() as PgvectorStore).commit({
        collection,
        upsert: [added, rejected],
        delete: [kept.id],
        history: [event],
      });
      await expect(commit).rejects.toSatisfy((error) => AdapterCallError.isInstance(error));
      expect((await store().list({ collection, limit: 10 })).records.map((r) => r.id)).toEqual([
        kept.id,
      ]);
      expect(
        await (store() as PgvectorStore).byMemory({ namespace: collection, memoryId: added.id }),
      ).toEqual([]);
    });

    test('collection names of any case and characters get their own tables', async () => {
      const names = [`Notes ${randomUUID()}`, `notes ${randomUUID()}`.toLowerCase()];
      const own = createPgvectorStore({
        connectionString,
        schema: 'engram test',
        tablePrefix: 't_',
      });
      try {
        for (const [index, collection] of names.entries()) {
          await own.ensureCollection({ collection, dimensions });
          await own.upsert({
            collection,
            records: [
              record(unit(Array.from({ length: dimensions }, () => 1)), { text: `${index}` }),
            ],
          });
        }
        for (const [index, collection] of names.entries()) {
          const page = await own.list({ collection, limit: 10 });
          expect(page.records.map((stored) => stored.text)).toEqual([`${index}`]);
        }
      } finally {
        for (const collection of names) await own.dropCollection({ collection });
        await own.close();
      }
    });

    test('vectors longer than HNSW can index are searched exactly', async () => {
      const collection = await createCollection('wide');
      await store().dropCollection({ collection });
      await store().ensureCollection({ collection, dimensions: 2048 });
      const records = Array.from({ length: 5 }, (_, index) =>
        record(unit(Array.from({ length: 2048 }, (_, axis) => (axis === index ? 1 : 0.01))), {
          metadata: { index },
        }),
      );
      await store().upsert({ collection, records });
      const [best] = await store().query({ collection, vector: records[3]!.vector, topK: 1 });
      expect(best?.record.id).toBe(records[3]!.id);
      expect(best?.score).toBeCloseTo(1, 3);
    });

    test('an HNSW search with a filter returns topK matches thanks to the iterative scan', async () => {
      // Sequential and bitmap scans are switched off so the planner must use the HNSW index
      // (on a table this small it would otherwise often pick an exact plan by itself).
      const { pool, statements } = recordingPool('-c enable_seqscan=off -c enable_bitmapscan=off');
      const own = createPgvectorStore({ pool, exactSearchThreshold: 0 });
      const collection = `engram_conformance_hnsw_${randomUUID().slice(0, 8)}`;
      try {
        await own.ensureCollection({ collection, dimensions });
        const records = farAndNear(dimensions);
        await own.upsert({ collection, records: records.slice(0, 1000) });
        await own.upsert({ collection, records: records.slice(1000, 2000) });
        await own.upsert({ collection, records: records.slice(2000) });
        const query = unit(Array.from({ length: dimensions }, (_, axis) => (axis === 0 ? 1 : 0)));
        const far = (stored: { metadata: VectorRecord['metadata'] }) =>
          stored.metadata.group === 'far';

        const table = `"public"."engram_memories_${collection}"`;
        const client = await pool.connect();
        try {
          const sql = `SELECT id FROM ${table} WHERE metadata @> '{"group":"far"}' ORDER BY embedding <=> $1 LIMIT 10`;
          const vector = `[${query.join(',')}]`;
          await client.query('BEGIN; SET LOCAL hnsw.iterative_scan = off');
          const plan = await client.query(`EXPLAIN ${sql}`, [vector]);
          expect(JSON.stringify(plan.rows)).toContain(`engram_memories_${collection}_vector`);
          // The premise: without an iterative scan the filter empties the candidate list.
          expect((await client.query(sql, [vector])).rowCount).toBeLessThan(10);
          await client.query('COMMIT');
        } finally {
          client.release();
        }

        for (const options of [
          { filter: { op: 'eq', field: 'group', value: 'far' } as FilterExpression },
          { scope: { userId: 'far-user' } },
          { filter: { op: 'lt', field: 'index', value: 1200 } as FilterExpression },
        ]) {
          statements.length = 0;
          const matches = await own.query({ collection, vector: query, topK: 10, ...options });
          expect(matches, JSON.stringify(options)).toHaveLength(10);
          expect(
            statements.some((statement) => statement.includes('OFFSET 0')),
            'answered by the index, without the exact fallback',
          ).toBe(false);
          if (options.filter?.op === 'eq' || options.scope) {
            expect(matches.every((match) => far(match.record))).toBe(true);
          }
          for (let index = 1; index < matches.length; index++) {
            expect(matches[index]!.score).toBeLessThanOrEqual(matches[index - 1]!.score);
          }
        }
      } finally {
        await own.dropCollection({ collection });
        await own.close();
        await pool.end();
      }
    }, 240_000);

    test('a collection created with deferVectorIndex gets its HNSW index from buildIndex', async () => {
      const own = createPgvectorStore({
        connectionString,
        deferVectorIndex: true,
        indexBuildMemory: '256MB',
      });
      const collection = `engram_conformance_deferred_${randomUUID().slice(0, 8)}`;
      const db = new pg.Client({ connectionString });
      await db.connect();
      const vectorIndexes = async () => {
        const { rows } = await db.query<{ indexdef: string }>(
          "SELECT indexdef FROM pg_indexes WHERE tablename = $1 AND indexdef LIKE '%USING hnsw%'",
          [`engram_memories_${collection}`],
        );
        return rows.length;
      };
      try {
        await own.ensureCollection({ collection, dimensions });
        const records = farAndNear(dimensions).slice(0, 500);
        await own.upsert({ collection, records });
        expect(await vectorIndexes()).toBe(0);
        const query = unit(Array.from({ length: dimensions }, (_, axis) => (axis === 0 ? 1 : 0)));
        const before = await own.query({ collection, vector: query, topK: 5 });
        expect(before).toHaveLength(5);

        expect(await own.buildIndex({ collection })).toEqual({ created: true });
        expect(await vectorIndexes()).toBe(1);
        expect(await own.buildIndex({ collection })).toEqual({ created: false });
        // The default store (index at creation) finds it there too.
        expect(await (store() as PgvectorStore).buildIndex({ collection })).toEqual({
          created: false,
        });
        const after = await own.query({ collection, vector: query, topK: 5 });
        expect(after.map((match) => match.record.id)).toEqual(
          before.map((match) => match.record.id),
        );
        await expect(own.buildIndex({ collection: 'engram_never_created' })).rejects.toThrow(
          /does not exist/,
        );
      } finally {
        await db.end();
        await own.dropCollection({ collection });
        await own.close();
      }
    });

    test('vectorIndex ivfflat: buildIndex trains an IVFFlat index on the rows; queries probe it and scan on under a filter', async () => {
      const { pool, statements } = recordingPool('-c enable_seqscan=off -c enable_bitmapscan=off');
      const own = createPgvectorStore({
        pool,
        vectorIndex: 'ivfflat',
        ivfflatLists: 8,
        exactSearchThreshold: 0,
      });
      const exact = createPgvectorStore({ connectionString, exactSearchThreshold: 10_000 });
      const collection = `engram_conformance_ivfflat_${randomUUID().slice(0, 8)}`;
      const db = new pg.Client({ connectionString });
      await db.connect();
      const vectorIndexes = async () =>
        (
          await db.query<{ indexdef: string }>(
            "SELECT indexdef FROM pg_indexes WHERE tablename = $1 AND indexdef LIKE '%_vector %'",
            [`engram_memories_${collection}`],
          )
        ).rows.map((row) => row.indexdef);
      try {
        await own.ensureCollection({ collection, dimensions });
        // Trained on rows: an empty collection gets none, and creation made none.
        expect(await own.buildIndex({ collection })).toEqual({ created: false });
        expect(await vectorIndexes()).toEqual([]);
        const records = farAndNear(dimensions);
        for (let offset = 0; offset < records.length; offset += 1000) {
          await own.upsert({ collection, records: records.slice(offset, offset + 1000) });
        }
        expect(await own.buildIndex({ collection })).toEqual({ created: true });
        const [indexdef] = await vectorIndexes();
        expect(indexdef).toContain('USING ivfflat');
        expect(indexdef).toContain("lists='8'");
        expect(await own.buildIndex({ collection })).toEqual({ created: false });

        const query = unit(Array.from({ length: dimensions }, (_, axis) => (axis === 0 ? 1 : 0)));
        const table = `"public"."engram_memories_${collection}"`;
        const plan = await db.query(
          `EXPLAIN SELECT id FROM ${table} ORDER BY embedding <=> $1 LIMIT 10`,
          [`[${query.join(',')}]`],
        );
        expect(JSON.stringify(plan.rows)).toContain(`engram_memories_${collection}_vector`);
        // By default the square root of the lists is probed (3 of 8); probing all 8 is exact.
        expect(await own.query({ collection, vector: query, topK: 10 })).toHaveLength(10);
        const every = createPgvectorStore({
          pool,
          vectorIndex: 'ivfflat',
          ivfflatProbes: 8,
          exactSearchThreshold: 0,
        });
        const ids = (matches: { record: { id: string } }[]) =>
          matches.map((match) => match.record.id);
        expect(ids(await every.query({ collection, vector: query, topK: 10 }))).toEqual(
          ids(await exact.query({ collection, vector: query, topK: 10 })),
        );

        // Every `far` record points away from the query: the lists probed first hold none of
        // them, and only the iterative scan (probing on) fills the page.
        statements.length = 0;
        const far = await own.query({
          collection,
          vector: query,
          topK: 10,
          filter: { op: 'eq', field: 'group', value: 'far' } as FilterExpression,
        });
        expect(far).toHaveLength(10);
        expect(far.every((match) => match.record.metadata.group === 'far')).toBe(true);
        expect(
          statements.some((statement) => statement.includes('OFFSET 0')),
          'answered by the index, without the exact fallback',
        ).toBe(false);
      } finally {
        await db.end();
        await own.dropCollection({ collection });
        await own.close();
        await exact.close();
        await pool.end();
      }
    }, 240_000);

    test('an HNSW search cut short by max_scan_tuples falls back to an exact search', async () => {
      const { pool, statements } = recordingPool(
        '-c enable_seqscan=off -c enable_bitmapscan=off -c hnsw.max_scan_tuples=20',
      );
      const own = createPgvectorStore({ pool, exactSearchThreshold: 0 });
      const collection = `engram_conformance_fallback_${randomUUID().slice(0, 8)}`;
      try {
        await own.ensureCollection({ collection, dimensions });
        const records = farAndNear(dimensions).slice(0, 800);
        await own.upsert({ collection, records });
        const query = unit(Array.from({ length: dimensions }, (_, axis) => (axis === 0 ? 1 : 0)));
        const matches = await own.query({
          collection,
          vector: query,
          topK: 10,
          filter: { op: 'eq', field: 'group', value: 'far' },
        });
        expect(statements.some((statement) => statement.includes('OFFSET 0'))).toBe(true);
        // the exact search returns the true nearest far records
        const expected = records
          .filter((candidate) => candidate.metadata.group === 'far')
          .map((candidate) => ({
            id: candidate.id,
            score: candidate.vector.reduce((sum, value, axis) => sum + value * query[axis]!, 0),
          }))
          .sort((left, right) => right.score - left.score)
          .slice(0, 10)
          .map((candidate) => candidate.id);
        expect(matches.map((match) => match.record.id)).toEqual(expected);
      } finally {
        await own.dropCollection({ collection });
        await own.close();
        await pool.end();
      }
    });
  },
});

/**
 * A schema written by a version without history namespaces: memories in two collections (or
 * one), and a history table without the `namespace` column, as that version created it.
 */
async function versionOneSchema(collections: Record<string, string[]>, events: VersionOneEvent[]) {
  const schema = `engram_v1_${randomUUID().slice(0, 8)}`;
  const store = createPgvectorStore({ connectionString, schema });
  for (const [collection, ids] of Object.entries(collections)) {
    await store.ensureCollection({ collection, dimensions: 3 });
    await store.upsert({
      collection,
      records: ids.map((id) => record([1, 0, 0], { id, userId: 'alice' })),
    });
  }
  await store.close();
  const pool = new pg.Pool({ connectionString, max: 1 });
  try {
    const table = `"${schema}"."engram_history"`;
    await pool.query(`CREATE TABLE ${table} (
      sequence bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, id text NOT NULL, memory_id text,
      event text NOT NULL, previous_text text, new_text text, user_id text, agent_id text,
      run_id text, actor text, detail text, created_at text NOT NULL)`);
    for (const column of ['memory_id', 'user_id', 'agent_id', 'run_id']) {
      const index = `engram_history_${column.replace('_id', '')}`;
      await pool.query(`CREATE INDEX "${index}" ON ${table} (${column}, sequence)`);
    }
    for (const [id, memoryId] of events) {
      await pool.query(
        `INSERT INTO ${table} (id, memory_id, event, new_text, user_id, created_at)
         VALUES ($1, $2, $3, $4, 'alice', $5)`,
        [
          id,
          memoryId,
          memoryId ? 'ADD' : 'INFERENCE_FAILED',
          `text ${id}`,
          new Date().toISOString(),
        ],
      );
    }
  } finally {
    await pool.end();
  }
  return schema;
}

type VersionOneEvent = [id: string, memoryId: string | null];

async function dropSchema(schema: string) {
  const pool = new pg.Pool({ connectionString, max: 1 });
  await pool.query(`DROP SCHEMA "${schema}" CASCADE`).finally(() => pool.end());
}

describeHistoryStore({
  name: 'pgvector history',
  create: () => createPgvectorStore({ connectionString }),
  ...server,
  additionalTests: ({ test }) => {
    test('a history table without namespaces gets them from the memories', async () => {
      const [x, y, gone] = [randomUUID(), randomUUID(), randomUUID()];
      const schema = await versionOneSchema({ p_acme: [x], p_globex: [y] }, [
        ['1', x],
        ['2', y],
        ['3', gone],
        ['4', null],
      ]);
      const store = createPgvectorStore({ connectionString, schema });
      try {
        const ids = async (namespace: string, memoryId: string) =>
          (await store.byMemory({ namespace, memoryId })).map((event) => event.id);
        expect(await ids('p_acme', x)).toEqual(['1']);
        expect(await ids('p_globex', x)).toEqual([]);
        expect(await ids('p_globex', y)).toEqual(['2']);
        expect((await store.byMemory({ namespace: 'p_acme', memoryId: x }))[0]?.namespace).toBe(
          'p_acme',
        );
        for (const namespace of ['p_acme', 'p_globex']) {
          expect(await ids(namespace, gone)).toEqual([]);
          const page = await store.byScope({ namespace, scope: { userId: 'alice' }, limit: 10 });
          expect(page.events).toHaveLength(1);
        }
      } finally {
        await store.close();
        await dropSchema(schema);
      }
    });

    test('with one collection, every event of a table without namespaces belongs to it', async () => {
      const [kept, gone] = [randomUUID(), randomUUID()];
      const schema = await versionOneSchema({ memories: [kept] }, [
        ['1', kept],
        ['2', gone],
        ['3', null],
      ]);
      const store = createPgvectorStore({ connectionString, schema });
      try {
        const page = await store.byScope({
          namespace: 'memories',
          scope: { userId: 'alice' },
          limit: 10,
        });
        expect(page.events.map((event) => [event.id, event.namespace])).toEqual([
          ['1', 'memories'],
          ['2', 'memories'],
          ['3', 'memories'],
        ]);
        const second = createPgvectorStore({ connectionString, schema });
        expect(
          (await second.byMemory({ namespace: 'memories', memoryId: gone })).map((e) => e.id),
        ).toEqual(['2']);
        await second.close();
      } finally {
        await store.close();
        await dropSchema(schema);
      }
    });
  },
});
