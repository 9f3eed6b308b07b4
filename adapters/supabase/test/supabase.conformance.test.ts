import { randomUUID } from 'node:crypto';
import { describeHistoryStore, describeVectorStore, providedServer } from '@engram/conformance';
import type { VectorRecord } from '@engram/core';
import pg from 'pg';
import { expect } from 'vitest';
import { createSupabaseStore } from '../src/index.js';

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

/** A pool that records every statement it sends, through `query` and through its clients. */
function recordingPool() {
  const pool = new pg.Pool({ connectionString, max: 4 });
  const statements: string[] = [];
  const named: string[] = [];
  const note = (first: unknown) => {
    if (typeof first === 'string') statements.push(first);
    else if (first && typeof first === 'object') {
      const query = first as { text?: string; name?: string };
      statements.push(String(query.text));
      if (query.name) named.push(query.name);
    }
  };
  const poolQuery = pool.query.bind(pool) as (...parameters: unknown[]) => unknown;
  (pool as unknown as { query: (...parameters: unknown[]) => unknown }).query = (
    ...parameters: unknown[]
  ) => {
    note(parameters[0]);
    return poolQuery(...parameters);
  };
  pool.on('connect', (client) => {
    const clientQuery = client.query.bind(client) as (...parameters: unknown[]) => unknown;
    (client as unknown as { query: (...parameters: unknown[]) => unknown }).query = (
      ...parameters: unknown[]
    ) => {
      note(parameters[0]);
      return clientQuery(...parameters);
    };
  });
  return { pool, statements, named };
}

async function asRole(role: string, sql: string): Promise<number> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    await client.query('BEGIN');
    await client.query(`SET LOCAL ROLE ${role}`);
    const result = await client.query<{ total: string }>(sql);
    await client.query('ROLLBACK');
    return Number(result.rows[0]?.total ?? 0);
  } finally {
    await client.end();
  }
}

describeVectorStore({
  name: 'supabase',
  create: () => createSupabaseStore({ connectionString }),
  ...server,
  additionalTests: ({ test, store, createCollection, dimensions }) => {
    test('the vector extension lives in the extensions schema and the search path does not name it', async () => {
      const client = new pg.Client({ connectionString });
      await client.connect();
      try {
        const extension = await client.query<{ schema: string }>(
          "SELECT n.nspname AS schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'vector'",
        );
        expect(extension.rows[0]?.schema).toBe('extensions');
        const path = await client.query<{ search_path: string }>('SHOW search_path');
        expect(path.rows[0]?.search_path).not.toContain('extensions');
      } finally {
        await client.end();
      }
      const collection = await createCollection('qualified');
      const axis = Array.from({ length: dimensions }, (_, index) => (index === 0 ? 1 : 0));
      await store().upsert({ collection, records: [record(axis)] });
      const [match] = await store().query({ collection, vector: axis, topK: 1 });
      expect(match?.score).toBeCloseTo(1, 5);
    });

    test('tables have row level security: anon sees nothing, service_role sees everything', async () => {
      const collection = await createCollection('rls');
      const axis = Array.from({ length: dimensions }, (_, index) => (index === 0 ? 1 : 0));
      await store().upsert({ collection, records: [record(axis), record(axis)] });
      const client = new pg.Client({ connectionString });
      await client.connect();
      let tables: { name: string; rls: boolean }[];
      try {
        tables = (
          await client.query<{ name: string; rls: boolean }>(
            "SELECT relname AS name, relrowsecurity AS rls FROM pg_class WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace AND relname LIKE 'engram\\_%'",
          )
        ).rows;
      } finally {
        await client.end();
      }
      expect(tables.length).toBeGreaterThan(1);
      for (const table of tables) expect(table, table.name).toMatchObject({ rls: true });
      const table = tables.find((entry) => entry.name.endsWith(`_${collection}`))!.name;
      expect(await asRole('anon', `SELECT count(*) AS total FROM public."${table}"`)).toBe(0);
      expect(await asRole('service_role', `SELECT count(*) AS total FROM public."${table}"`)).toBe(
        2,
      );
    });

    test('statements are safe behind a transaction pooler', async () => {
      const { pool, statements, named } = recordingPool();
      const own = createSupabaseStore({ pool });
      try {
        const order: string[] = [];
        let releaseFirst = () => {};
        const first = own.scopeLock!.withLocks({ keys: ['pooled|user:a'] }, async () => {
          order.push('first in');
          await new Promise<void>((resolve) => {
            releaseFirst = resolve;
          });
          order.push('first out');
        });
        while (order.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
        const second = own.scopeLock!.withLocks({ keys: ['pooled|user:a'] }, async () => {
          order.push('second in');
        });
        await new Promise((resolve) => setTimeout(resolve, 300));
        releaseFirst();
        await Promise.all([first, second]);
        expect(order).toEqual(['first in', 'first out', 'second in']);
        const collection = `engram_conformance_pooler_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
        await own.ensureCollection({ collection, dimensions });
        const records = Array.from({ length: 3 }, (_, index) =>
          record(
            Array.from({ length: dimensions }, (_, axis) => Math.cos(index + axis)),
            { userId: 'pooled', text: `pooled memory ${index}` },
          ),
        );
        await own.upsert({ collection, records });
        await own.query({
          collection,
          vector: records[0]!.vector,
          topK: 2,
          scope: { userId: 'pooled' },
        });
        await own.query({ collection, text: 'pooled', topK: 2, scope: { userId: 'pooled' } });
        await own.commit({
          collection,
          upsert: [],
          delete: [records[2]!.id],
          history: [
            {
              id: randomUUID(),
              namespace: collection,
              memoryId: records[2]!.id,
              event: 'DELETE',
              previousText: 'pooled memory 2',
              newText: null,
              userId: 'pooled',
              createdAt: new Date().toISOString(),
            },
          ],
        });
        await own.list({ collection, limit: 10 });
        await own.dropCollection({ collection });
      } finally {
        await own.close();
        await pool.end();
      }
      expect(named).toEqual([]);
      const sessionState = statements.filter(
        (sql) =>
          /\bpg_advisory_lock\b|\bpg_advisory_unlock|\bPREPARE\b|\bLISTEN\b|\bDECLARE\b.*\bCURSOR\b/i.test(
            sql,
          ) || /^\s*SET\s+(?!LOCAL)/im.test(sql),
      );
      expect(sessionState).toEqual([]);
      expect(statements.some((sql) => /OPERATOR\("extensions"\.<=>\)/.test(sql))).toBe(true);
    });
  },
});

describeHistoryStore({
  name: 'supabase',
  create: () => createSupabaseStore({ connectionString }),
  ...server,
});
