import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';

const writerScript = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  'test',
  'fixtures',
  'writer.mjs',
);
const directory = mkdtempSync(join(tmpdir(), 'engram-sqlite-processes-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

function startWriter(path: string, prefix: string, count: number | 'forever') {
  const child = spawn(process.execPath, [writerScript, path, prefix, String(count)], {
    stdio: ['ignore', 'pipe', 'pipe'],
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
  return { child, exited, printed, errors: () => errors };
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

function kill(child: ChildProcess) {
  if (child.exitCode === null && child.pid !== undefined) child.kill('SIGKILL');
}

describe('several processes on one file', () => {
  it('two processes writing at once keep every write and a sound file', async () => {
    const path = join(directory, 'shared.db');
    const writers = [startWriter(path, 'left', 300), startWriter(path, 'right', 300)];
    try {
      const results = await Promise.all(writers.map((writer) => writer.exited));
      for (const [index, result] of results.entries()) {
        expect(result, writers[index]!.errors()).toEqual({ code: 0, signal: null });
      }
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
