import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { createSqliteStore } from './sqlite-store.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), '..', 'test', 'fixtures');
const directory = mkdtempSync(join(tmpdir(), 'engram-sqlite-lock-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

function run(script: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, [join(fixtures, script), ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const printed = async (text: string) => {
    while (!output.includes(text)) {
      if (child.exitCode !== null) throw new Error(`exited early: ${output}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };
  return { child, exited, printed, output: () => output };
}

/** Enter and leave times per process, from the log the holders append to. */
function holds(log: string) {
  const lines = readFileSync(log, 'utf8').trim().split('\n');
  return lines
    .map((line) => line.split(' '))
    .map(([event, pid, time]) => ({ event: event!, pid: pid!, time: Number(time) }))
    .sort((left, right) => left.time - right.time);
}

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
      run('lock-holder.mjs', [path, 'p|u:alice|a:|r:', '50', '10000', '3'], { LOCK_LOG: log }),
    );
    const codes = await Promise.all(holders.map((holder) => holder.exited));
    expect(codes, holders.map((holder) => holder.output()).join('\n')).toEqual([0, 0, 0]);
    const events = holds(log);
    expect(events).toHaveLength(18);
    for (const [index, entry] of events.entries()) {
      expect(entry.event).toBe(index % 2 === 0 ? 'enter' : 'leave');
      if (index % 2 === 1) expect(entry.pid).toBe(events[index - 1]!.pid);
    }
  });

  it('hands the key of a process killed while holding it to the next one once the lease expires', async () => {
    const path = join(directory, 'crash.db');
    const log = join(directory, 'crash.log');
    writeFileSync(log, '');
    const crashed = run('lock-holder.mjs', [path, 'k', '60000', '1000', '1'], { LOCK_LOG: log });
    await crashed.printed('holding');
    crashed.child.kill('SIGKILL');
    await crashed.exited;
    const killedAt = Date.now();
    const next = run('lock-holder.mjs', [path, 'k', '10', '1000', '1'], { LOCK_LOG: log });
    expect(await next.exited, next.output()).toBe(0);
    const [first, second] = holds(log);
    expect(first!.event).toBe('enter');
    expect(second).toMatchObject({ event: 'enter' });
    expect(second!.time - killedAt).toBeLessThan(1000 + 3000);
    expect(second!.time - first!.time).toBeGreaterThanOrEqual(1000);
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
});
