import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHashEmbedder, createInMemoryStore, createMemoryFromEnvironment } from '@engram/core';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

const directories: string[] = [];
afterAll(() => {
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});

function temporary(label: string): string {
  const directory = mkdtempSync(join(tmpdir(), `engram-cli-${label}-`));
  directories.push(directory);
  return directory;
}

/** The CLI over one in-memory store, as one data directory would be. */
function harness() {
  const store = createInMemoryStore();
  const shared = { ...store, close: async () => {} };
  const dataDir = temporary('data');
  return async (...argv: string[]) => {
    let stdout = '';
    let stderr = '';
    const code = await runCli(['--data-dir', dataDir, ...argv], {
      stdout: {
        write: (chunk) => {
          stdout += chunk;
          return true;
        },
      },
      stderr: {
        write: (chunk) => {
          stderr += chunk;
          return true;
        },
      },
      env: { ENGRAM_LLM: 'none' },
      createMemory: (env, options) =>
        createMemoryFromEnvironment(env, {
          ...options,
          vectorStore: shared,
          embedder: createHashEmbedder(),
        }),
    });
    return { code, stdout, stderr };
  };
}

describe('engram backup, restore, export --all and expiry flags', () => {
  it('backs up a project, restores it into an empty store, and exports the same bytes', async () => {
    const source = harness();
    const people: [string, string][] = [
      ['alice', 'Alice is vegetarian'],
      ['bob', 'Bob plays chess'],
      ['carol', 'Carol lives in Porto'],
    ];
    for (const [user, text] of people) {
      expect((await source('add', text, '--user', user)).code).toBe(0);
    }
    expect((await source('add', 'Gone soon', '--user', 'bob', '--ttl', '30d')).code).toBe(0);
    const before = await source('export', '--all');
    expect(before.code).toBe(0);
    const lines = before.stdout.trim().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines.some((line) => JSON.parse(line).expiresAt !== undefined)).toBe(true);

    const backupDirectory = join(temporary('backup'), 'b1');
    const backup = await source('backup', '--to', backupDirectory);
    expect(backup.code).toBe(0);
    expect(backup.stdout).toContain('Backed up 4 memories');
    expect(backup.stderr).toContain('backup: memories 4 records');

    const target = harness();
    const restored = await target('restore', '--from', backupDirectory, '--into-empty-only');
    expect(restored.code).toBe(0);
    expect((await target('export', '--all')).stdout).toBe(before.stdout);

    const again = await target('restore', '--from', backupDirectory, '--into-empty-only');
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('already holds 4 memories');
  });

  it('refuses export --all with a scope, and --ttl with --expires-at', async () => {
    const engram = harness();
    expect((await engram('export', '--all', '--user', 'a')).code).toBe(2);
    const both = await engram(
      'add',
      'x',
      '--user',
      'a',
      '--ttl',
      '2s',
      '--expires-at',
      '2030-01-01',
    );
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('not both');
    const bad = await engram('add', 'x', '--user', 'a', '--ttl', 'soon');
    expect(bad.code).toBe(2);
  });

  it('sets, shows and clears an expiry', async () => {
    const engram = harness();
    const added = await engram(
      'add',
      'tea',
      '--user',
      'a',
      '--expires-at',
      '2999-01-01T00:00:00Z',
      '--json',
    );
    const id = JSON.parse(added.stdout).results[0].id as string;
    expect(JSON.parse((await engram('get', id, '--json')).stdout).expiresAt).toBe(
      '2999-01-01T00:00:00.000Z',
    );
    const cleared = await engram('update', id, '--no-expiry', '--json');
    expect(cleared.code).toBe(0);
    expect(JSON.parse(cleared.stdout).expiresAt).toBeUndefined();
  });
});
