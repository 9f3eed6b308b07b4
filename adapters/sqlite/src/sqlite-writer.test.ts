import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { createSqliteWriter } from './sqlite-writer.js';

const directory = mkdtempSync(join(tmpdir(), 'engram-sqlite-writer-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));
let files = 0;

function open(busyTimeoutMs = 60_000) {
  const path = join(directory, `writer-${++files}.db`);
  const database = new Database(path);
  database.pragma('journal_mode = WAL');
  database.exec('CREATE TABLE items (name TEXT PRIMARY KEY)');
  const other = new Database(path);
  let commits = 0;
  const writer = createSqliteWriter({
    database: () => database,
    busyTimeoutMs,
    onCommit: () => {
      commits++;
    },
    closedError: () => new Error('closed'),
  });
  const names = () =>
    database.prepare('SELECT name FROM items ORDER BY name').pluck().all() as string[];
  return { database, other, writer, names, commits: () => commits };
}

const insert = (name: string) => (database: Database.Database) =>
  database.prepare('INSERT INTO items (name) VALUES (?)').run(name).changes;
const turn = () => new Promise((resolve) => setTimeout(resolve, 5));

describe('the SQLite writer', () => {
  it('writes at once when the lock is free, and returns what the work returns', async () => {
    const { writer, names, commits } = open();
    const written = writer.write(insert('a'));
    // The free lock was taken in the call itself.
    expect(names()).toEqual(['a']);
    expect(await written).toBe(1);
    expect(commits()).toBe(1);
  });

  it('waits for another connection between turns of the event loop, then shares one commit', async () => {
    const { other, writer, names, commits } = open();
    other.exec('BEGIN IMMEDIATE');
    const writes = [
      writer.write(insert('a')),
      writer.write(insert('b')),
      writer.write(insert('a')),
    ];
    const settled = Promise.allSettled(writes);
    let turns = 0;
    for (; turns < 5; turns++) await turn();
    expect(names()).toEqual([]);
    expect(writer.tryWrite(insert('c'))).toBeUndefined();
    other.exec('COMMIT');
    const [first, second, duplicate] = await settled;
    expect(first).toEqual({ status: 'fulfilled', value: 1 });
    expect(second).toEqual({ status: 'fulfilled', value: 1 });
    // The failed write took back only its own changes.
    expect(duplicate?.status).toBe('rejected');
    expect(names()).toEqual(['a', 'b']);
    expect(commits()).toBe(1);
  });

  it('fails with SQLITE_BUSY once the busy timeout has passed', async () => {
    const { other, writer, names } = open(30);
    other.exec('BEGIN IMMEDIATE');
    try {
      await expect(writer.write(insert('a'))).rejects.toMatchObject({ code: 'SQLITE_BUSY' });
    } finally {
      other.exec('ROLLBACK');
    }
    expect(names()).toEqual([]);
    expect(await writer.write(insert('a'))).toBe(1);
  });
});
