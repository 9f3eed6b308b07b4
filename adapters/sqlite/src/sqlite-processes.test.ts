import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), '..', 'test', 'fixtures');
const writerScript = join(fixtures, 'writer.mjs');
const directory = mkdtempSync(join(tmpdir(), 'engram-sqlite-processes-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

function startWriter(path: string, prefix: string, count: number | 'forever') {
  return startChild(writerScript, [path, prefix, String(count)]);
}

/** A child that commits `count` memories, `concurrency` at a time, and answers "read" lines. */
function startBusyWriter(path: string, prefix: string, count: number, concurrency: number) {
  return startChild(join(fixtures, 'busy-writer.mjs'), [
    path,
    prefix,
    String(count),
    String(concurrency),
  ]);
}

function startChild(script: string, args: string[]) {
  const child = spawn(process.execPath, [script, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  let errors = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    errors += chunk;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const printed = (text: string) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (output.includes(text)) resolve();
        else if (child.exitCode !== null) reject(new Error(`writer exited early: ${errors}`));
        else setTimeout(check, 10);
      };
      check();
    });
  return { child, exited, printed, errors: () => errors, output: () => output };
}

function inspect(path: string) {
  const database = new Database(path);
  try {
    let keywordIndexError: unknown;
    try {
      database.exec(
        "INSERT INTO engram_memories_fts (engram_memories_fts) VALUES ('integrity-check')",
      );
    } catch (error) {
      keywordIndexError = error;
    }
    return {
      integrity: database.pragma('integrity_check', { simple: true }),
      keywordIndexError,
      memories: database
        .prepare('SELECT id FROM engram_memories ORDER BY id')
        .pluck()
        .all() as string[],
      added: database
        .prepare("SELECT memory_id FROM engram_history WHERE event = 'ADD' ORDER BY memory_id")
        .pluck()
        .all() as string[],
      keywordIndexed: database
        .prepare(
          "SELECT count(*) FROM engram_memories_fts WHERE engram_memories_fts MATCH 'memory'",
        )
        .pluck()
        .get() as number,
    };
  } finally {
    database.close();
  }
}

async function expectCleanExits(children: readonly ReturnType<typeof startChild>[]) {
  const results = await Promise.all(children.map((child) => child.exited));
  for (const [index, result] of results.entries()) {
    expect(result, children[index]!.errors()).toEqual({ code: 0, signal: null });
  }
}

function kill(child: ChildProcess) {
  if (child.exitCode === null && child.pid !== undefined) child.kill('SIGKILL');
}

describe('several processes on one file', () => {
  it('two processes writing at once keep every write and a sound file', async () => {
    const path = join(directory, 'shared.db');
    const writers = [startWriter(path, 'left', 300), startWriter(path, 'right', 300)];
    try {
      await expectCleanExits(writers);
    } finally {
      for (const writer of writers) kill(writer.child);
    }
    const state = inspect(path);
    expect(state.integrity).toBe('ok');
    expect(state.memories).toHaveLength(600);
    expect(state.added).toEqual(state.memories);
    expect(state.keywordIndexed).toBe(600);
    expect(state.keywordIndexError).toBeUndefined();
  });

  it('a process waiting for the write lock of another keeps answering reads', async () => {
    const path = join(directory, 'waiting.db');
    const writer = startBusyWriter(path, 'waiter', 50, 8);
    try {
      await writer.printed('ready');
      // This connection takes the write lock and keeps it while the child's writes wait.
      const holder = new Database(path);
      holder.exec('BEGIN IMMEDIATE');
      try {
        writer.child.stdin!.write('start\n');
        for (const round of [1, 2, 3]) {
          writer.child.stdin!.write('read\n');
          await writer.printed(`${'read 0\n'.repeat(round)}`.trimEnd());
        }
        expect(writer.output()).not.toContain('done');
      } finally {
        holder.exec('COMMIT');
        holder.close();
      }
      expect(await writer.exited, writer.errors()).toEqual({ code: 0, signal: null });
      expect(writer.output()).toContain('done 50');
    } finally {
      kill(writer.child);
    }
    const state = inspect(path);
    expect(state.memories).toHaveLength(50);
    expect(state.added).toEqual(state.memories);
  });

  it('two processes each writing many commits at once lose nothing and duplicate nothing', async () => {
    const path = join(directory, 'concurrent.db');
    const writers = [
      startBusyWriter(path, 'left', 400, 16),
      startBusyWriter(path, 'right', 400, 16),
    ];
    try {
      await Promise.all(writers.map((writer) => writer.printed('ready')));
      for (const writer of writers) writer.child.stdin!.write('start\n');
      await expectCleanExits(writers);
      for (const writer of writers) {
        const reads = Number(/reads (\d+)/.exec(writer.output())?.[1] ?? 0);
        // Each process answered reads of its own while both were writing.
        expect(reads, writer.output()).toBeGreaterThan(0);
      }
    } finally {
      for (const writer of writers) kill(writer.child);
    }
    const state = inspect(path);
    expect(state.integrity).toBe('ok');
    expect(state.memories).toHaveLength(800);
    expect(new Set(state.memories).size).toBe(800);
    expect(state.added).toEqual(state.memories);
    expect(state.keywordIndexed).toBe(800);
  });

  it('a process killed mid-write leaves memories and their history consistent', async () => {
    const path = join(directory, 'crash.db');
    for (const round of [1, 2]) {
      const writer = startWriter(path, `crash-${round}`, 'forever');
      try {
        await writer.printed('ready');
        await new Promise((resolve) => setTimeout(resolve, 150 + Math.random() * 200));
        kill(writer.child);
        expect((await writer.exited).signal).toBe('SIGKILL');
      } finally {
        kill(writer.child);
      }
    }
    const state = inspect(path);
    expect(state.integrity).toBe('ok');
    expect(state.memories.length).toBeGreaterThan(20);
    expect(state.added).toEqual(state.memories);
    expect(state.keywordIndexed).toBe(state.memories.length);
    expect(state.keywordIndexError).toBeUndefined();
  });
});
