import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { keywordText, type VectorRecord } from '@engram/core';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { createSqliteStore } from './sqlite-store.js';

const directory = mkdtempSync(join(tmpdir(), 'engram-sqlite-languages-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));
const now = '2025-01-01T00:00:00.000Z';
const texts = [
  '我最喜欢吃四川火锅',
  '私は東京に住んでいます',
  'Dinner tonight: 🍜 with friends',
  'Loves hiking in the Alps',
];

function record(id: string, text: string, userId = 'u'): VectorRecord {
  return { id, text, userId, vector: [1, 0, 0], metadata: {}, createdAt: now, updatedAt: now };
}

async function found(store: ReturnType<typeof createSqliteStore>, query: string, scope = 'u') {
  const matches = await store.query({
    collection: 'memories',
    text: keywordText(query),
    topK: 5,
    scope: { userId: scope },
  });
  return matches.map((match) => match.record.text);
}

describe('keyword search in every language', () => {
  it('finds a Chinese, a Japanese and an emoji word inside a sentence, in small and large scopes', async () => {
    const store = createSqliteStore({ path: ':memory:' });
    await store.ensureCollection({ collection: 'memories', dimensions: 3 });
    await store.upsert({
      collection: 'memories',
      records: texts.map((text, index) => record(`m${index}`, text)),
    });
    // Over 1,000 rows, the scope is searched through the full-text index rather than its rows.
    const filler = Array.from({ length: 1001 }, (_, index) =>
      record(`f${index}`, `${texts[index % 4]} ${index}`, 'large'),
    );
    await store.upsert({ collection: 'memories', records: filler });
    for (const scope of ['u', 'large']) {
      expect((await found(store, '火锅', scope))[0]).toContain('四川火锅');
      expect((await found(store, '東京', scope))[0]).toContain('私は東京に住んでいます');
      expect((await found(store, '🍜', scope))[0]).toContain('Dinner tonight');
    }
    const [stored] = await store.get({ collection: 'memories', ids: ['m1'] });
    expect(stored!.text).toBe('私は東京に住んでいます');
    await store.close();
  });

  it('finds a Korean noun with its particle attached, in small and large scopes', async () => {
    const store = createSqliteStore({ path: ':memory:' });
    await store.ensureCollection({ collection: 'memories', dimensions: 3 });
    const korean = [
      '저는 서울에서 일해요',
      '주말에는 부산으로 여행을 가요',
      '매일 아침 커피를 마셔요',
    ];
    const records = (scope: string, copies: number) =>
      Array.from({ length: copies }, (_, index) =>
        record(`${scope}${index}`, `${korean[index % 3]} ${index}`, scope),
      );
    await store.upsert({ collection: 'memories', records: records('u', 3) });
    await store.upsert({ collection: 'memories', records: records('large', 1002) });
    for (const scope of ['u', 'large']) {
      expect((await found(store, '서울', scope))[0]).toContain('서울에서');
      expect((await found(store, '부산', scope))[0]).toContain('부산으로');
      expect((await found(store, '커피는', scope))[0]).toContain('커피를');
    }
    await store.close();
  });

  it('re-indexes the memories of a database written before the keyword form existed', async () => {
    const schemaV1 = readFileSync(
      join(dirname(fileURLToPath(import.meta.url)), '..', 'test', 'fixtures', 'schema-v1.sql'),
      'utf8',
    );
    const path = join(directory, 'old.db');
    const database = new Database(path);
    database.exec(schemaV1);
    database
      .prepare(
        "INSERT INTO engram_collections (name, dimensions, created_at) VALUES ('memories', 3, ?)",
      )
      .run(now);
    const insert = database.prepare(
      `INSERT INTO engram_memories (collection, id, text, user_id, metadata, vector, created_at, updated_at)
       VALUES ('memories', ?, ?, 'u', '{}', ?, ?, ?)`,
    );
    for (const [index, text] of texts.entries()) {
      insert.run(`m${index}`, text, Buffer.from(new Float32Array([1, 0, 0]).buffer), now, now);
    }
    database.close();

    const store = createSqliteStore({ path });
    expect(await found(store, '東京')).toEqual(['私は東京に住んでいます']);
    expect(await found(store, 'hiking')).toEqual(['Loves hiking in the Alps']);
    await store.upsert({
      collection: 'memories',
      records: [record('m1', '私は大阪に住んでいます')],
    });
    expect(await found(store, '東京')).toEqual([]);
    expect(await found(store, '大阪')).toEqual(['私は大阪に住んでいます']);
    await store.delete({ collection: 'memories', ids: ['m0', 'm1', 'm2', 'm3'] });
    expect(await found(store, '大阪')).toEqual([]);
    await store.close();
    const reopened = new Database(path);
    expect(() =>
      reopened.exec(
        "INSERT INTO engram_memories_fts (engram_memories_fts) VALUES ('integrity-check')",
      ),
    ).not.toThrow();
    reopened.close();
  });
});
