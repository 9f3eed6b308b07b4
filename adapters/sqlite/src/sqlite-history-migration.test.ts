import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { createSqliteStore } from './sqlite-store.js';

const schemaV1 = readFileSync(
  join(dirname(fileURLToPath(import.meta.url)), '..', 'test', 'fixtures', 'schema-v1.sql'),
  'utf8',
);
const directory = mkdtempSync(join(tmpdir(), 'engram-sqlite-migration-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));
let files = 0;
const now = '2025-01-01T00:00:00.000Z';

/** A database written by version 1: memories per collection, history without a namespace. */
function versionOneDatabase(
  memories: Array<[collection: string, id: string]>,
  history: Array<[id: string, memoryId: string | null]>,
): string {
  const path = join(directory, `v1-${++files}.db`);
  const database = new Database(path);
  database.exec(schemaV1);
  const collections = new Set(memories.map(([collection]) => collection));
  for (const collection of collections) {
    database
      .prepare('INSERT INTO engram_collections (name, dimensions, created_at) VALUES (?, 3, ?)')
      .run(collection, now);
  }
  const insertMemory = database.prepare(
    `INSERT INTO engram_memories (collection, id, text, user_id, metadata, vector, created_at, updated_at)
     VALUES (?, ?, ?, 'alice', '{}', ?, ?, ?)`,
  );
  for (const [collection, id] of memories) {
    insertMemory.run(
      collection,
      id,
      `text of ${id}`,
      Buffer.from(new Float32Array(3).buffer),
      now,
      now,
    );
  }
  const insertEvent = database.prepare(
    `INSERT INTO engram_history (id, memory_id, event, previous_text, new_text, user_id, created_at)
     VALUES (?, ?, ?, NULL, ?, 'alice', ?)`,
  );
  for (const [id, memoryId] of history) {
    insertEvent.run(id, memoryId, memoryId ? 'ADD' : 'INFERENCE_FAILED', `text ${id}`, now);
  }
  database.close();
  return path;
}

describe('opening a version 1 database gives its history a namespace', () => {
  it('with one collection, every event belongs to it, deleted memories included', async () => {
    const path = versionOneDatabase(
      [['memories', 'kept']],
      [
        ['1', 'kept'],
        ['2', 'deleted'],
        ['3', null],
      ],
    );
    const store = createSqliteStore({ path });
    const namespace = 'memories';
    expect(await store.byMemory({ namespace, memoryId: 'kept' })).toEqual([
      expect.objectContaining({ id: '1', namespace }),
    ]);
    expect(await store.byMemory({ namespace, memoryId: 'deleted' })).toEqual([
      expect.objectContaining({ id: '2', namespace }),
    ]);
    const page = await store.byScope({ namespace, scope: { userId: 'alice' }, limit: 10 });
    expect(page.events.map((event) => [event.id, event.namespace])).toEqual([
      ['1', namespace],
      ['2', namespace],
      ['3', namespace],
    ]);
    expect(await store.byMemory({ namespace: 'other', memoryId: 'kept' })).toEqual([]);
    await store.close();
  });

  it('with several collections, events follow their memory; the rest belong to none', async () => {
    const path = versionOneDatabase(
      [
        ['p_acme', 'x'],
        ['p_globex', 'y'],
      ],
      [
        ['1', 'x'],
        ['2', 'y'],
        ['3', 'gone'],
        ['4', null],
      ],
    );
    const store = createSqliteStore({ path });
    expect((await store.byMemory({ namespace: 'p_acme', memoryId: 'x' })).map((e) => e.id)).toEqual(
      ['1'],
    );
    expect(await store.byMemory({ namespace: 'p_acme', memoryId: 'y' })).toEqual([]);
    expect(
      (await store.byMemory({ namespace: 'p_globex', memoryId: 'y' })).map((e) => e.id),
    ).toEqual(['2']);
    for (const namespace of ['p_acme', 'p_globex']) {
      expect(await store.byMemory({ namespace, memoryId: 'gone' })).toEqual([]);
      const page = await store.byScope({ namespace, scope: { userId: 'alice' }, limit: 10 });
      expect(page.events).toHaveLength(1);
    }
    expect(await store.deleteScope({ namespace: 'p_acme', scope: { userId: 'alice' } })).toEqual({
      deleted: 1,
    });
    await store.close();

    // Migrated once: reopening keeps the namespaces and appends with one.
    const reopened = createSqliteStore({ path });
    await reopened.append({
      events: [
        {
          id: '5',
          namespace: 'p_acme',
          memoryId: 'x',
          event: 'UPDATE',
          previousText: 'text 1',
          newText: 'new',
          userId: 'alice',
          createdAt: now,
        },
      ],
    });
    expect(
      (await reopened.byMemory({ namespace: 'p_acme', memoryId: 'x' })).map((e) => e.id),
    ).toEqual(['5']);
    expect(
      (await reopened.byMemory({ namespace: 'p_globex', memoryId: 'y' })).map((e) => e.id),
    ).toEqual(['2']);
    await reopened.close();
    const raw = new Database(path, { readonly: true });
    expect(
      raw.prepare("SELECT value FROM engram_meta WHERE key = 'schema_version'").pluck().get(),
    ).toBe('5');
    expect(
      raw
        .prepare(
          "SELECT name FROM sqlite_master WHERE name IN ('engram_ann_state', 'engram_ann_changes') ORDER BY name",
        )
        .pluck()
        .all(),
    ).toEqual(['engram_ann_changes', 'engram_ann_state']);
    raw.close();
  });
});

const schemaV3 = readFileSync(
  join(dirname(fileURLToPath(import.meta.url)), '..', 'test', 'fixtures', 'schema-v3.sql'),
  'utf8',
);

describe('opening a version 3 database', () => {
  it('adds the build lease of the vector index and scoped list indexes that end in the id', async () => {
    const path = join(directory, `v3-${++files}.db`);
    const database = new Database(path);
    database.exec(schemaV3);
    database
      .prepare("INSERT INTO engram_collections (name, dimensions, created_at) VALUES ('m', 3, ?)")
      .run(now);
    database
      .prepare("INSERT INTO engram_ann_state (collection, saved_through) VALUES ('m', 7)")
      .run();
    const insert = database.prepare(
      `INSERT INTO engram_memories (collection, id, text, user_id, agent_id, metadata, vector, created_at, updated_at)
       VALUES ('m', ?, 'text', ?, 'agent', '{}', ?, ?, ?)`,
    );
    for (let index = 0; index < 30; index++) {
      insert.run(
        `id${String(index).padStart(2, '0')}`,
        `user${index % 3}`,
        Buffer.alloc(12),
        now,
        now,
      );
    }
    database.close();

    const store = createSqliteStore({ path, annIndex: false });
    const page = await store.list({ collection: 'm', scope: { userId: 'user1' }, limit: 4 });
    expect(page.records.map((record) => record.id)).toEqual(['id01', 'id04', 'id07', 'id10']);
    await store.close();

    const raw = new Database(path, { readonly: true });
    expect(
      raw.prepare("SELECT value FROM engram_meta WHERE key = 'schema_version'").pluck().get(),
    ).toBe('5');
    expect(raw.prepare('SELECT * FROM engram_ann_state').all()).toEqual([
      {
        collection: 'm',
        saved_through: 7,
        file_bytes: null,
        build_owner: null,
        build_expires_at: null,
      },
    ]);
    const indexes = raw
      .prepare(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'engram_memories' AND sql IS NOT NULL ORDER BY name",
      )
      .pluck()
      .all();
    expect(indexes).toEqual([
      'engram_memories_agent_id',
      'engram_memories_run_id',
      'engram_memories_user_id',
    ]);
    const plan = (sql: string) =>
      (raw.prepare(`EXPLAIN QUERY PLAN ${sql}`).all('m', 'x', 10) as { detail: string }[])
        .map((row) => row.detail)
        .join(' | ');
    for (const [column, index] of [
      ['user_id', 'engram_memories_user_id'],
      ['agent_id', 'engram_memories_agent_id'],
      ['run_id', 'engram_memories_run_id'],
    ]) {
      const detail = plan(
        `SELECT id FROM engram_memories WHERE collection = ? AND ${column} = ? ORDER BY id LIMIT ?`,
      );
      expect(detail).toContain(index);
      expect(detail).not.toContain('TEMP B-TREE');
    }
    // A scope of user and agent is read through the user's index, not the agent's (which may
    // hold every user's rows): the store writes the other fields with a unary plus.
    expect(
      (
        raw
          .prepare(
            'EXPLAIN QUERY PLAN SELECT id FROM engram_memories WHERE collection = ? AND user_id = ? AND +agent_id = ?',
          )
          .all('m', 'user1', 'agent') as { detail: string }[]
      )[0]!.detail,
    ).toContain('engram_memories_user_id');
    raw.close();
  });
});
