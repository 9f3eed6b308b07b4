import { copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClosedError, filterOperators, type VectorRecord } from '@engram/core';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { engramAdapter } from './faiss-adapter.js';
import { createFaissVectorStore, type FaissVectorStore } from './faiss-vector-store.js';

const directories: string[] = [];
const stores: FaissVectorStore[] = [];

function directory() {
  const created = mkdtempSync(join(tmpdir(), 'engram-faiss-unit-'));
  directories.push(created);
  return created;
}

function open(path: string, options: { indexWriteInterval?: number } = {}) {
  const store = createFaissVectorStore({ path, ...options });
  stores.push(store);
  return store;
}

afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
  for (const created of directories.splice(0)) rmSync(created, { recursive: true, force: true });
});

function record(index: number, fields: Partial<VectorRecord> = {}): VectorRecord {
  return {
    id: `id-${String(index).padStart(4, '0')}`,
    vector: [Math.cos(index), Math.sin(index), index % 3],
    text: `memory number ${index}`,
    metadata: { index },
    createdAt: '2024-01-01T00:00:00.000Z',
    updatedAt: '2024-01-01T00:00:00.000Z',
    ...fields,
  };
}

function indexFiles(path: string) {
  return readdirSync(path).filter((name) => name.endsWith('.faiss'));
}

async function nearest(store: FaissVectorStore, vector: number[], topK = 3) {
  const matches = await store.query({ collection: 'notes', vector, topK });
  return matches.map((match) => match.record.id);
}

describe('createFaissVectorStore', () => {
  it('does no I/O in the factory and declares what it supports', async () => {
    const path = join(directory(), 'not-yet');
    const store = open(path);
    expect(existsSync(path)).toBe(false);
    expect(store.provider).toBe('faiss');
    expect(store.capabilities).toEqual({
      keywordSearch: true,
      filterOperators,
      maxBatchSize: 5000,
      metric: 'cosine',
      atomicHistory: false,
    });
    await store.close();
    await expect(store.flush()).rejects.toSatisfy(ClosedError.isInstance);
  });

  it('writes the index file on close and reads it back on open', async () => {
    const path = directory();
    const first = open(path);
    await first.ensureCollection({ collection: 'notes', dimensions: 3 });
    await first.upsert({
      collection: 'notes',
      records: [0, 1, 2, 3, 4].map((index) => record(index)),
    });
    await first.delete({ collection: 'notes', ids: ['id-0001'] });
    const before = await nearest(first, record(2).vector);
    expect(indexFiles(path)).toEqual([]);
    await first.close();
    expect(indexFiles(path)).toHaveLength(1);
    expect(readdirSync(path).some((name) => name.endsWith('.tmp'))).toBe(false);

    const second = open(path);
    expect(await nearest(second, record(2).vector)).toEqual(before);
    expect(await second.count({ collection: 'notes' })).toBe(4);
  });

  it('writes the index file after indexWriteInterval changed records', async () => {
    const path = directory();
    const store = open(path, { indexWriteInterval: 3 });
    await store.ensureCollection({ collection: 'notes', dimensions: 3 });
    await store.upsert({ collection: 'notes', records: [record(0), record(1)] });
    expect(indexFiles(path)).toEqual([]);
    await store.upsert({ collection: 'notes', records: [record(2)] });
    expect(indexFiles(path)).toHaveLength(1);
  });

  it('rebuilds an index that is behind the metadata store, as after a crash', async () => {
    const path = directory();
    const first = open(path);
    await first.ensureCollection({ collection: 'notes', dimensions: 3 });
    await first.upsert({ collection: 'notes', records: [0, 1, 2].map((index) => record(index)) });
    await first.flush();
    const [file] = indexFiles(path);
    copyFileSync(join(path, file!), join(path, 'old-index'));
    // More writes after the last index file, then the process "dies" (no close).
    await first.upsert({ collection: 'notes', records: [3, 4, 5].map((index) => record(index)) });
    await first.delete({ collection: 'notes', ids: ['id-0000'] });
    const expected = await nearest(first, record(4).vector, 5);
    copyFileSync(join(path, 'old-index'), join(path, file!));

    const second = open(path);
    expect(await nearest(second, record(4).vector, 5)).toEqual(expected);
    expect(await second.count({ collection: 'notes' })).toBe(5);
  });

  it('rebuilds a damaged index file', async () => {
    const path = directory();
    const first = open(path);
    await first.ensureCollection({ collection: 'notes', dimensions: 3 });
    await first.upsert({ collection: 'notes', records: [0, 1, 2].map((index) => record(index)) });
    const expected = await nearest(first, record(1).vector);
    await first.close();
    writeFileSync(join(path, indexFiles(path)[0]!), 'not a faiss index');

    const second = open(path);
    expect(await nearest(second, record(1).vector)).toEqual(expected);
  });

  it('sees what another store on the same directory wrote', async () => {
    const path = directory();
    const writer = open(path);
    const reader = open(path);
    await writer.ensureCollection({ collection: 'notes', dimensions: 3 });
    await writer.upsert({ collection: 'notes', records: [record(0), record(1)] });
    expect(await nearest(reader, record(1).vector, 1)).toEqual(['id-0001']);
    await writer.upsert({ collection: 'notes', records: [record(7)] });
    await reader.upsert({ collection: 'notes', records: [record(8)] });
    expect(await nearest(writer, record(8).vector, 1)).toEqual(['id-0008']);
    expect(await nearest(reader, record(7).vector, 1)).toEqual(['id-0007']);
  });

  it('keeps positions and ids aligned through replacements and deletes', async () => {
    const path = directory();
    const store = open(path);
    await store.ensureCollection({ collection: 'notes', dimensions: 3 });
    await store.upsert({
      collection: 'notes',
      records: [0, 1, 2, 3].map((index) => record(index)),
    });
    await store.upsert({ collection: 'notes', records: [record(1, { vector: record(9).vector })] });
    await store.delete({ collection: 'notes', filter: { op: 'eq', field: 'index', value: 2 } });
    const all = await store.query({ collection: 'notes', vector: record(9).vector, topK: 10 });
    expect(all.map((match) => match.record.id).sort()).toEqual(['id-0000', 'id-0001', 'id-0003']);
    expect(all[0]?.record.id).toBe('id-0001');
    expect(all[0]?.score).toBeCloseTo(1, 5);
  });

  it('keeps keyword text in the metadata store and searches it with FTS5', async () => {
    const path = directory();
    const store = open(path);
    await store.ensureCollection({ collection: 'notes', dimensions: 3 });
    await store.upsert({
      collection: 'notes',
      records: [
        record(0, { text: '我喜欢咖啡', keywordText: '我 喜欢 咖啡', userId: 'a' }),
        record(1, { text: 'tea time', userId: 'a' }),
      ],
    });
    const matches = await store.query({
      collection: 'notes',
      text: '咖啡',
      topK: 5,
      scope: { userId: 'a' },
    });
    expect(matches.map((match) => match.record.id)).toEqual(['id-0000']);
    expect(matches[0]?.record).not.toHaveProperty('keywordText');
    const database = new Database(join(path, 'engram-faiss.db'), { readonly: true });
    expect(
      database.prepare('SELECT keyword_text FROM faiss_records WHERE id = ?').get('id-0001'),
    ).toEqual({
      keyword_text: null,
    });
    database.close();
  });

  it('drops a collection with its index file', async () => {
    const path = directory();
    const store = open(path);
    await store.ensureCollection({ collection: 'notes', dimensions: 3 });
    await store.upsert({ collection: 'notes', records: [record(0)] });
    await store.flush();
    expect(indexFiles(path)).toHaveLength(1);
    await store.dropCollection({ collection: 'notes' });
    expect(indexFiles(path)).toEqual([]);
    await store.ensureCollection({ collection: 'notes', dimensions: 3 });
    expect(await nearest(store, record(0).vector)).toEqual([]);
  });

  it('is named by its descriptor and stores under the data directory', async () => {
    const dataDir = directory();
    expect(engramAdapter).toMatchObject({ kind: 'vector', name: 'faiss' });
    const store = (await engramAdapter.create({
      env: {},
      dataDir,
      options: {},
    })) as FaissVectorStore;
    stores.push(store);
    await store.ensureCollection({ collection: 'notes', dimensions: 3 });
    expect(existsSync(join(dataDir, 'faiss', 'engram-faiss.db'))).toBe(true);
  });
});
