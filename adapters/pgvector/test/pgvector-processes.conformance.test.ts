import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { providedServer } from '@engram/conformance';
import { holdsTakeTurns, readLockLog, runNodeScript } from '@engram/conformance/processes';
import { AbortedError } from '@engram/core';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgvectorStore } from '../src/index.js';

// Several processes on one PostgreSQL, as replicas and workers of one deployment run.
const { url, skip } = providedServer();
const fixtures = fileURLToPath(new URL('fixtures/', import.meta.url));
const built = fileURLToPath(new URL('../dist/index.js', import.meta.url));
const directory = mkdtempSync(join(tmpdir(), 'engram-pgvector-processes-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));
const run = (script: string, args: string[], env: NodeJS.ProcessEnv = {}) =>
  runNodeScript(join(fixtures, script), args, { PGVECTOR_URL: url, ...env });

describe.skipIf(skip !== undefined)('pgvector scope lock across processes', () => {
  beforeAll(() => {
    if (!existsSync(built)) {
      throw new Error('Build the package first: pnpm --filter @engram/pgvector... build');
    }
  });

  it('four processes adding the same fact for one user at once store it once', async () => {
    const collection = `engram_processes_${randomUUID().slice(0, 8)}`;
    // With a memory already there, each add asks the model to reconcile before it writes.
    const seed = run('adder.mjs', [collection, 'alice', 'Lives in Oslo']);
    expect(await seed.exited, seed.output()).toBe(0);
    const startAt = String(Date.now() + 2500);
    const adders = [0, 1, 2, 3].map(() =>
      run('adder.mjs', [collection, 'alice', 'Likes green tea'], { START_AT: startAt }),
    );
    const codes = await Promise.all(adders.map((adder) => adder.exited));
    expect(codes, adders.map((adder) => adder.output()).join('\n')).toEqual([0, 0, 0, 0]);
    const store = createPgvectorStore({ connectionString: url });
    try {
      const page = await store.list({ collection, scope: { userId: 'alice' }, limit: 100 });
      expect(page.records.map((record) => record.text).sort()).toEqual([
        'Likes green tea',
        'Lives in Oslo',
      ]);
    } finally {
      await store.dropCollection({ collection });
      await store.close();
    }
  });

  it('lets one process at a time hold a key', async () => {
    const log = join(directory, 'turns.log');
    writeFileSync(log, '');
    const key = `turns|${randomUUID()}`;
    const holders = [0, 1, 2].map(() =>
      run('lock-holder.mjs', [key, '50', '3'], { LOCK_LOG: log }),
    );
    const codes = await Promise.all(holders.map((holder) => holder.exited));
    expect(codes, holders.map((holder) => holder.output()).join('\n')).toEqual([0, 0, 0]);
    const events = readLockLog(log);
    expect(events).toHaveLength(18);
    expect(holdsTakeTurns(events), JSON.stringify(events)).toBe(true);
  });

  it('releases the keys of a process killed while holding them as its session ends', async () => {
    const log = join(directory, 'crash.log');
    writeFileSync(log, '');
    const key = `crash|${randomUUID()}`;
    const crashed = run('lock-holder.mjs', [key, '60000', '1'], { LOCK_LOG: log });
    await crashed.printed('holding');
    crashed.child.kill('SIGKILL');
    await crashed.exited;
    const killedAt = Date.now();
    const next = run('lock-holder.mjs', [key, '10', '1'], { LOCK_LOG: log });
    expect(await next.exited, next.output()).toBe(0);
    const entered = readLockLog(log).filter((entry) => entry.event === 'enter');
    expect(entered).toHaveLength(2);
    expect(entered[1]!.time - killedAt).toBeLessThan(5000);
  });

  it('stops waiting when aborted, and frees its connection', async () => {
    const key = `abort|${randomUUID()}`;
    const holder = createPgvectorStore({ connectionString: url });
    const waiter = createPgvectorStore({ connectionString: url, maxConnections: 1 });
    try {
      let release!: () => void;
      const held = holder.scopeLock!.withLocks(
        { keys: [key] },
        () => new Promise<void>((resolve) => (release = resolve)),
      );
      await new Promise((resolve) => setTimeout(resolve, 200));
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 200);
      await expect(
        waiter.scopeLock!.withLocks({ keys: [key], abortSignal: controller.signal }, async () => 1),
      ).rejects.toSatisfy(AbortedError.isInstance);
      release();
      await held;
      expect(await waiter.scopeLock!.withLocks({ keys: [key] }, async () => 'next')).toBe('next');
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        const left = await client.query(
          `SELECT count(*)::int AS count FROM pg_locks JOIN pg_stat_activity USING (pid)
           WHERE locktype = 'advisory' AND granted AND application_name = 'engram-locks'`,
        );
        expect(left.rows[0].count).toBe(0);
      } finally {
        await client.end();
      }
    } finally {
      await holder.close();
      await waiter.close();
    }
  });
});
