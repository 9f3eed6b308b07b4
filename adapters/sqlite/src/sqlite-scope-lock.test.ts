import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { holdsTakeTurns, readLockLog, runNodeScript } from '@engram/conformance/processes';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { createSqliteStore } from './sqlite-store.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), '..', 'test', 'fixtures');
const run = (script: string, args: string[], env: NodeJS.ProcessEnv = {}) =>
  runNodeScript(join(fixtures, script), args, env);
const directory = mkdtempSync(join(tmpdir(), 'engram-sqlite-lock-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

describe('the SQLite scope lock across processes', () => {
  it('four processes adding the same fact for one user at once store it once', async () => {
    const path = join(directory, 'adds.db');
    // With a memory already there, each add asks the model to reconcile before it writes.
    expect(await run('adder.mjs', [path, 'alice', 'Lives in Oslo']).exited).toBe(0);
    const startAt = String(Date.now() + 2500);
    const adders = [0, 1, 2, 3].map(() =>
      run('adder.mjs', [path, 'alice', 'Likes green tea'], { START_AT: startAt }),
    );
    const codes = await Promise.all(adders.map((adder) => adder.exited));
    expect(codes, adders.map((adder) => adder.output()).join('\n')).toEqual([0, 0, 0, 0]);
    const database = new Database(path, { readonly: true });
    try {
      const texts = database
        .prepare("SELECT text FROM engram_memories WHERE user_id = 'alice' ORDER BY text")
        .pluck()
        .all();
      expect(texts).toEqual(['Likes green tea', 'Lives in Oslo']);
    } finally {
      database.close();
    }
  });

  it('lets one process at a time hold a key', async () => {
    const path = join(directory, 'turns.db');
    const log = join(directory, 'turns.log');
    writeFileSync(log, '');
    const holders = [0, 1, 2].map(() =>
      run('lock-holder.mjs', [path, '10000', 'p|u:alice|a:|r:', '50', '3'], { LOCK_LOG: log }),
    );
    const codes = await Promise.all(holders.map((holder) => holder.exited));
    expect(codes, holders.map((holder) => holder.output()).join('\n')).toEqual([0, 0, 0]);
    const events = readLockLog(log);
    expect(events).toHaveLength(18);
    expect(holdsTakeTurns(events), JSON.stringify(events)).toBe(true);
  });

  it('hands the key of a process killed while holding it to the next one once the lease expires', async () => {
    const path = join(directory, 'crash.db');
    const log = join(directory, 'crash.log');
    writeFileSync(log, '');
    const crashed = run('lock-holder.mjs', [path, '1000', 'k', '60000', '1'], { LOCK_LOG: log });
    await crashed.printed('holding');
    crashed.child.kill('SIGKILL');
    await crashed.exited;
    const killedAt = Date.now();
    const next = run('lock-holder.mjs', [path, '1000', 'k', '10', '1'], { LOCK_LOG: log });
    expect(await next.exited, next.output()).toBe(0);
    const [first, second] = readLockLog(log);
    expect(first!.event).toBe('enter');
    expect(second).toMatchObject({ event: 'enter' });
    // The lease (1 s) runs from taking the key, a moment before the first "enter" was logged.
    expect(second!.time - first!.time).toBeGreaterThanOrEqual(900);
    expect(second!.time - killedAt).toBeLessThan(1000 + 5000);
  });
});

describe('the SQLite store scope lock', () => {
  it('is there for a file, and not for :memory: or with scopeLock: false', async () => {
    const store = createSqliteStore({ path: join(directory, 'own.db') });
    expect(store.scopeLock?.provider).toBe('sqlite');
    await store.ensureCollection({ collection: 'memories', dimensions: 2 });
    expect(await store.scopeLock!.withLocks({ keys: ['b', 'a'] }, async () => 'done')).toBe('done');
    await store.close();
    await expect(store.scopeLock!.withLocks({ keys: ['a'] }, async () => 1)).rejects.toThrow(
      /closed/,
    );
    expect(createSqliteStore({ path: ':memory:' }).scopeLock).toBeUndefined();
    expect(
      createSqliteStore({ path: join(directory, 'off.db'), scopeLock: false }).scopeLock,
    ).toBeUndefined();
  });

  it('releases every key of a lock at once, to its owner only', async () => {
    const path = join(directory, 'release.db');
    const store = createSqliteStore({ path });
    const keys = Array.from({ length: 200 }, (_, index) => `scope-${index}`);
    const rows = () => {
      const database = new Database(path, { readonly: true });
      try {
        return database.prepare('SELECT count(*) FROM engram_locks').pluck().get();
      } finally {
        database.close();
      }
    };
    expect(await store.scopeLock!.withLocks({ keys }, async () => rows())).toBe(200);
    expect(rows()).toBe(0);
    // Another owner's row is left alone.
    const other = new Database(path);
    other.prepare("INSERT INTO engram_locks VALUES ('scope-0', 'someone else', 0)").run();
    other.close();
    await store.scopeLock!.withLocks({ keys: ['scope-1'] }, async () => undefined);
    expect(rows()).toBe(1);
    await store.close();
  });

  it('takes keys asked for in one turn together, each holder on its own', async () => {
    const store = createSqliteStore({ path: join(directory, 'turn.db') });
    const lock = store.scopeLock!;
    let started = 0;
    let allStarted!: () => void;
    const everyoneIn = new Promise<void>((resolve) => {
      allStarted = resolve;
    });
    // Fifty holders of different keys hold them at the same time.
    await Promise.all(
      Array.from({ length: 50 }, (_, index) =>
        lock.withLocks({ keys: [`scope-${index}`] }, async () => {
          started += 1;
          if (started === 50) allStarted();
          await everyoneIn;
        }),
      ),
    );
    // Two holders of one key asked for in the same turn still take turns.
    let inside = 0;
    let overlapped = false;
    const hold = () =>
      lock.withLocks({ keys: ['scope-same'] }, async () => {
        inside += 1;
        if (inside > 1) overlapped = true;
        await new Promise((resolve) => setTimeout(resolve, 20));
        inside -= 1;
      });
    await Promise.all([hold(), hold(), hold()]);
    expect(overlapped).toBe(false);
    await store.close();
  });

  it('takes the keys of a lock in one transaction, or none when one is held', async () => {
    const path = join(directory, 'many.db');
    const store = createSqliteStore({ path });
    await store.scopeLock!.withLocks({ keys: ['a'] }, async () => undefined);
    const other = new Database(path);
    const held = Date.now() + 300;
    other.prepare("INSERT INTO engram_locks VALUES ('scope-b', 'someone else', ?)").run(held);
    const owners = () =>
      other.prepare('SELECT key FROM engram_locks ORDER BY key').pluck().all() as string[];
    let seen: string[] = [];
    // scope-b is busy until its lease passes: the lock waits, then holds all three.
    await store.scopeLock!.withLocks({ keys: ['scope-c', 'scope-b', 'scope-a'] }, async () => {
      seen = owners();
    });
    expect(Date.now()).toBeGreaterThanOrEqual(held);
    expect(seen).toEqual(['scope-a', 'scope-b', 'scope-c']);
    expect(owners()).toEqual([]);
    other.close();
    await store.close();
  });
});
