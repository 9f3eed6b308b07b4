import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  archiveHistoryTexts,
  createDirectoryBackupTarget,
  createHashEmbedder,
  createInMemoryStore,
  createMemoryFromEnvironment,
  type HistoryEvent,
  type LLM,
} from '@engram/core';
import { afterAll, describe, expect, it } from 'vitest';
import { type CliContext, runCli } from './run-cli.js';

const directories: string[] = [];
afterAll(() => {
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});

// One store shared by every invocation, as one data directory would be; the engine's close must
// not end it between commands. `run` also takes what a call reads (stdin, extra environment).
function harness(store = createInMemoryStore(), models: { llm?: LLM } = {}) {
  const shared = { ...store, close: async () => {} };
  const dataDir = mkdtempSync(join(tmpdir(), 'engram-cli-unit-'));
  directories.push(dataDir);
  const run = async (argv: string[], extra: Pick<Partial<CliContext>, 'stdin' | 'env'> = {}) => {
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
      env: { ENGRAM_LLM: 'none', ...extra.env },
      ...(extra.stdin ? { stdin: extra.stdin } : {}),
      createMemory: (env, options) =>
        createMemoryFromEnvironment(env, {
          ...options,
          vectorStore: shared,
          embedder: createHashEmbedder(),
          ...models,
        }),
    });
    return { code, stdout, stderr };
  };
  return Object.assign((...argv: string[]) => run(argv), { run, store });
}

describe('runCli with an injected store', () => {
  it('adds, searches, lists, updates, shows history and deletes', async () => {
    const engram = harness();
    const added = await engram(
      'add',
      'Alice is vegetarian',
      '--user',
      'alice',
      '--json',
      '--metadata',
      '{"topic":"food"}',
    );
    expect(added).toMatchObject({ code: 0, stderr: '' });
    const id = JSON.parse(added.stdout).results[0].id as string;

    const found = await engram(
      'search',
      'vegetarian',
      '--user',
      'alice',
      '--json',
      '--filter',
      '{"topic":"food"}',
    );
    expect(JSON.parse(found.stdout).results[0]).toMatchObject({
      id,
      memory: 'Alice is vegetarian',
    });

    const updated = await engram('update', id, '--text', 'Alice is vegan', '--json');
    expect(JSON.parse(updated.stdout)).toMatchObject({
      memory: 'Alice is vegan',
      metadata: { topic: 'food' },
    });

    const history = await engram('history', id);
    expect(history.stdout).toMatch(/ADD\s+Alice is vegetarian/);
    expect(history.stdout).toContain('Alice is vegetarian -> Alice is vegan');

    const shown = await engram('get', id);
    expect(shown.stdout).toContain('memory:   Alice is vegan');

    expect((await engram('delete', id)).stdout).toBe(`Deleted ${id}\n`);
    const missing = await engram('get', id, '--json');
    expect(missing).toMatchObject({ code: 1, stdout: '' });
    expect(JSON.parse(missing.stderr)).toEqual({
      error: { code: 'not_found', message: `[engram/cli] No memory with id "${id}".` },
    });
  });

  it('prints scores in the order of the results, and explains them with --explain', async () => {
    const engram = harness();
    for (const text of [
      'I love hiking in the Swiss Alps every summer',
      'My favourite food is spicy ramen',
      'Hiking boots need new laces',
    ]) {
      await engram('add', text, '--user', 'alice');
    }
    const found = await engram('search', 'hiking in the Alps', '--user', 'alice');
    const scores = found.stdout
      .split('\n')
      .slice(1)
      .filter((line) => /^\d/.test(line))
      .map((line) => Number(line.split(/\s+/)[0]));
    expect(scores.length).toBeGreaterThan(1);
    expect(scores).toEqual([...scores].sort((left, right) => right - left));
    const explained = await engram('search', 'hiking in the Alps', '--user', 'alice', '--explain');
    expect(explained.stdout).toMatch(/score [\d.]+ \(ranked by fusion\)/);
    expect(explained.stdout).toMatch(/keyword\s+raw [\d.]+ {2}normalized 1\.000/);
    const json = JSON.parse(
      (await engram('search', 'hiking', '--user', 'alice', '--explain', '--json')).stdout,
    );
    expect(json.results[0].explanation.contributions[0].signal).toBe('vector');
    expect(json.results[0].scores.fused).toBe(json.results[0].score);
  });

  it('pages through list with cursors and --all', async () => {
    const engram = harness();
    for (const text of ['one', 'two', 'three']) await engram('add', text, '--user', 'u');
    const first = JSON.parse(
      (await engram('list', '--user', 'u', '--limit', '2', '--json')).stdout,
    );
    expect(first.results).toHaveLength(2);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = JSON.parse(
      (await engram('list', '--user', 'u', '--limit', '2', '--cursor', first.nextCursor, '--json'))
        .stdout,
    );
    expect(second.results).toHaveLength(1);
    expect(second.nextCursor).toBeUndefined();
    const all = JSON.parse(
      (await engram('list', '--user', 'u', '--limit', '1', '--all', '--json')).stdout,
    );
    expect(all.results).toHaveLength(3);
    const human = await engram('list', '--user', 'u', '--limit', '2');
    expect(human.stdout).toMatch(/^ID\s+UPDATED\s+MEMORY\n/);
    expect(human.stdout).toContain('Next page: --cursor ');
  });

  it.each([
    [['search', 'x'], 'Give --user <id>'],
    [
      ['add', 'x', '--user', 'u', '--metadata', '[1]'],
      `--metadata must be a JSON object, e.g. '{"topic":"food"}'`,
    ],
    [
      ['search', 'x', '--user', 'u', '--limit', '0'],
      '--limit must be a whole number from 1 to 1000',
    ],
    [['update', 'some-id'], 'update needs --text'],
    [['import', 'x.jsonl', '--infer'], '--infer needs an LLM'],
  ])('rejects %j with exit code 2', async (argv, message) => {
    const result = await harness()(...argv);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(message);
  });

  it('prints usage for unknown commands and options', async () => {
    const engram = harness();
    const unknown = await engram('remember', 'x');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown command 'remember'");
    expect(unknown.stderr).toContain('Usage: engram');
    const option = await engram('search', 'x', '--user', 'u', '--colour', '--json');
    expect(option).toMatchObject({ code: 2, stdout: '' });
    expect(JSON.parse(option.stderr)).toEqual({
      error: { code: 'usage', message: "unknown option '--colour'" },
    });
  });

  it('prints help and the version on stdout with exit code 0', async () => {
    const engram = harness();
    const help = await engram('--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: engram');
    const version = await engram('--version');
    expect(version).toMatchObject({ code: 0, stdout: expect.stringMatching(/^\d+\.\d+\.\d+\n$/) });
  });

  it('checks the scope given to get, update, delete and history', async () => {
    const engram = harness();
    const added = await engram('add', 'Alice likes tea', '--user', 'alice', '--json');
    const id = JSON.parse(added.stdout).results[0].id as string;
    for (const argv of [
      ['get', id, '--user', 'bob'],
      ['update', id, '--text', 'Bob likes tea', '--user', 'bob'],
      ['history', id, '--user', 'bob'],
      ['delete', id, '--user', 'bob'],
    ]) {
      const refused = await engram(...argv);
      expect(refused.code, argv.join(' ')).toBe(1);
      expect(refused.stderr, argv.join(' ')).toContain(`No memory with id "${id}"`);
    }
    expect((await engram('get', id, '--user', 'alice')).stdout).toContain('Alice likes tea');
    expect((await engram('history', id, '--user', 'alice')).code).toBe(0);
    const updated = await engram('update', id, '--text', 'Alice likes coffee', '--user', 'alice');
    expect(updated.code).toBe(0);
    expect((await engram('delete', id, '--user', 'alice', '--agent', 'x')).code).toBe(1);
    expect((await engram('delete', id, '--user', 'alice')).code).toBe(0);
  });

  it('refuses control characters with exit code 2, naming the character', async () => {
    const engram = harness();
    const refused = await engram('add', 'ring the bell\u0007', '--user', 'alice');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('U+0007 (BEL) at character 14');
    expect(refused.stderr).not.toContain('\u0007');
    const metadata = await engram('add', 'x', '--user', 'a', '--metadata', '{"a":"\\u001b[2J"}');
    expect(metadata.code).toBe(2);
    expect(metadata.stderr).toContain('metadata.a contains U+001B (ESC)');
  });

  it('escapes what it prints, so a stored string cannot drive the terminal', async () => {
    const store = createInMemoryStore();
    const engram = harness(store);
    await engram('list', '--user', 'mallory');
    // Written past the engine, as an older version or another client could have.
    const now = new Date().toISOString();
    await store.upsert({
      collection: 'memories',
      records: [
        {
          id: 'id\u001b]0;owned\u0007',
          text: 'clears \u001b[2J the \u009b screen \u202e and \r overwrites',
          hash: 'h',
          userId: 'mallory',
          metadata: { note: 'bell\u0007' },
          vector: Array.from({ length: 384 }, () => 0.05),
          createdAt: now,
          updatedAt: now,
        },
      ],
    });
    for (const argv of [
      ['list', '--user', 'mallory'],
      ['search', 'screen', '--user', 'mallory', '--threshold', '0'],
      ['get', 'id\u001b]0;owned\u0007'],
      ['list', '--user', 'mallory', '--json'],
    ]) {
      const shown = await engram(...argv);
      expect(shown.code, argv[0]).toBe(0);
      // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
      expect(shown.stdout, argv[0]).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/);
      expect(shown.stdout, argv[0]).toMatch(/\\(x1b|u001b)/);
    }
  });

  it('refuses a threshold outside 0..1 with the message of the API', async () => {
    const engram = harness();
    for (const value of ['1.5', '-0.2']) {
      const refused = await engram('search', 'tea', '--user', 'alice', '--threshold', value);
      expect(refused.code).toBe(2);
      // Word for word what the API answers with its 400.
      expect(refused.stderr).toContain(
        `threshold must be a number from 0 to 1 (a similarity, e.g. 0.3; 0 turns the cut-off off), got ${value}.`,
      );
    }
    expect((await engram('search', 'tea', '--user', 'alice', '--threshold', '0.5')).code).toBe(0);
  });

  it('fails on the history of an unknown id, as the API answers 404', async () => {
    const engram = harness();
    const unknown = await engram('history', 'never-existed');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('No memory with id "never-existed"');
    const json = await engram('history', 'never-existed', '--json');
    expect(JSON.parse(json.stderr)).toMatchObject({ error: { code: 'not_found' } });
  });
});

/** Standard input as a terminal (or not) that answers one line. */
function terminal(answer: string, isTTY = true): NodeJS.ReadableStream {
  return Object.assign(Readable.from([`${answer}\n`]), { isTTY });
}

async function added(engram: ReturnType<typeof harness>, text: string, user: string) {
  const result = await engram('add', text, '--user', user, '--json');
  expect(result).toMatchObject({ code: 0, stderr: '' });
  return JSON.parse(result.stdout).results[0].id as string;
}

async function history(engram: ReturnType<typeof harness>, id: string): Promise<HistoryEvent[]> {
  const result = await engram('history', id, '--json');
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout).results;
}

const texts = (events: HistoryEvent[]) =>
  events.map((event) => [event.previousText, event.newText]);

describe('erasure from the command line', () => {
  it('delete --erase and delete-all --erase leave history events without texts', async () => {
    const engram = harness();
    const secret = await added(engram, 'Alice lives at 12 Rue X', 'alice');
    await engram('update', secret, '--text', 'Alice lives at 3 Rue Y');
    const kept = await added(engram, 'Bob likes tea', 'bob');
    expect((await engram('delete', secret, '--erase')).stdout).toBe(
      `Deleted ${secret} and erased the texts of its history.\n`,
    );
    expect(texts(await history(engram, secret))).toEqual([
      [null, null],
      [null, null],
      [null, null],
    ]);
    expect((await history(engram, secret)).map((event) => event.event)).toEqual([
      'ADD',
      'UPDATE',
      'DELETE',
    ]);

    const ids = [await added(engram, 'a one', 'carol'), await added(engram, 'a two', 'carol')];
    const all = await engram('delete-all', '--user', 'carol', '--erase');
    expect(all.stdout).toBe('Deleted 2 memories and erased the texts of their history.\n');
    for (const id of ids)
      expect(texts(await history(engram, id))).toEqual([
        [null, null],
        [null, null],
      ]);
    expect(texts(await history(engram, kept))).toEqual([[null, 'Bob likes tea']]);
  });

  it('reset asks on a terminal, refuses without one unless --yes, and forgets the scope', async () => {
    const engram = harness();
    const id = await added(engram, 'Dave fact', 'dave');
    const other = await added(engram, 'Erin fact', 'erin');

    const refused = await engram.run(['reset', '--user', 'dave'], {
      stdin: terminal('yes', false),
    });
    expect(refused).toMatchObject({ code: 2, stdout: '' });
    expect(refused.stderr).toContain('--yes');

    const declined = await engram.run(['reset', '--user', 'dave'], { stdin: terminal('no') });
    expect(declined.code).toBe(1);
    expect(declined.stderr).toContain('Forget every memory of user "dave"');
    expect(declined.stderr).toContain('Nothing was reset.');
    expect(await history(engram, id)).toHaveLength(1);

    const confirmed = await engram.run(['reset', '--user', 'dave'], { stdin: terminal('yes') });
    expect(confirmed).toMatchObject({
      code: 0,
      stdout: 'Reset user "dave": deleted 1 memory and its history.\n',
    });
    // Neither the memory nor an event is left: the id is unknown, as the API answers 404.
    const forgotten = await engram('history', id);
    expect(forgotten.code).toBe(1);
    expect(forgotten.stderr).toContain('No memory with id');

    const scripted = await engram.run(['reset', '--user', 'erin', '--yes', '--json'], {
      stdin: terminal('', false),
    });
    expect(JSON.parse(scripted.stdout)).toEqual({ deleted: 1 });
    expect((await engram('get', other)).code).toBe(1);
    expect((await engram('reset', '--yes')).code).toBe(2);
  });

  it('history prune erases texts older than --older-than or ENGRAM_HISTORY_TEXT_RETENTION', async () => {
    const engram = harness();
    const id = await added(engram, 'Frank fact', 'frank');
    expect(await engram('history', 'prune', '--older-than', '1d')).toMatchObject({
      code: 0,
      stdout: 'Erased the texts of 0 history events older than 1d.\n',
    });
    const missing = await engram('history', 'prune');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('ENGRAM_HISTORY_TEXT_RETENTION');
    expect((await engram('history', 'prune', '--older-than', 'soon')).code).toBe(2);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const pruned = await engram.run(['history', 'prune', '--json'], {
      env: { ENGRAM_HISTORY_TEXT_RETENTION: '0s' },
    });
    expect(JSON.parse(pruned.stdout)).toEqual({ erased: 1 });
    expect(texts(await history(engram, id))).toEqual([[null, null]]);
  });

  it('history --from-archive brings erased texts back from the history archives', async () => {
    const engram = harness();
    const id = await added(engram, 'Grace fact', 'grace');
    const [event] = await history(engram, id);
    const archiveDirectory = temporaryDirectory('archive');
    await new Promise((resolve) => setTimeout(resolve, 5));
    const archive = await archiveHistoryTexts(engram.store, event!.namespace, {
      destination: {
        location: archiveDirectory,
        target: (name) => createDirectoryBackupTarget(join(archiveDirectory, name)),
      },
      before: new Date().toISOString(),
    });
    expect(archive?.counts.events).toBe(1);
    await engram.run(['history', 'prune'], { env: { ENGRAM_HISTORY_TEXT_RETENTION: '0s' } });
    expect(texts(await history(engram, id))).toEqual([[null, null]]);
    const restored = await engram('history', id, '--from-archive', archiveDirectory, '--json');
    expect(restored.code).toBe(0);
    expect(
      (JSON.parse(restored.stdout) as { results: HistoryEvent[] }).results.map(
        (item) => item.newText,
      ),
    ).toEqual(['Grace fact']);
    const empty = await engram('history', id, '--from-archive', temporaryDirectory('no-archive'));
    expect(empty.code).not.toBe(0);
    expect(empty.stderr).toContain('no history archives');
  });
});

function temporaryDirectory(label: string): string {
  const directory = mkdtempSync(join(tmpdir(), `engram-cli-${label}-`));
  directories.push(directory);
  return directory;
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

    const backupDirectory = join(temporaryDirectory('backup'), 'b1');
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

describe('search --rewrite-query', () => {
  it('searches for the rewritten query, shows it, and needs an LLM', async () => {
    const prompts: string[] = [];
    const llm: LLM = {
      specificationVersion: 'v1',
      provider: 'scripted',
      modelId: 'rewriter',
      async generate(options) {
        prompts.push(JSON.stringify(options.messages));
        return { text: 'spicy ramen', usage: { inputTokens: 20, outputTokens: 3 } };
      },
    };
    const engram = harness(createInMemoryStore(), { llm });
    const run = (env: Record<string, string>, ...argv: string[]) => engram.run(argv, { env });
    const withLLM = { ENGRAM_LLM: 'scripted:rewriter' };
    await run(withLLM, 'add', 'My favourite food is spicy ramen', '--user', 'al', '--no-infer');
    await run(withLLM, 'add', 'Walks the dog at noon', '--user', 'al', '--no-infer');
    const found = await run(withLLM, 'search', 'what was that dish?', '--user', 'al', '--json');
    const plain = JSON.parse(found.stdout);
    expect(plain.rewrittenQuery).toBeUndefined();
    const rewritten = await run(
      withLLM,
      'search',
      'what was that dish?',
      '--user',
      'al',
      '--rewrite-query',
      '--json',
    );
    const result = JSON.parse(rewritten.stdout);
    expect(result.rewrittenQuery).toBe('spicy ramen');
    expect(result.results[0].memory).toBe('My favourite food is spicy ramen');
    expect(result.usage).toMatchObject({ llmCalls: 1, inputTokens: 20, outputTokens: 3 });
    expect(prompts).toHaveLength(1);
    const human = await run(withLLM, 'search', 'that dish', '--user', 'al', '--rewrite-query');
    expect(human.stdout).toContain('Searched for: spicy ramen');
    const refused = await run(
      { ENGRAM_LLM: 'none' },
      'search',
      'x',
      '--user',
      'al',
      '--rewrite-query',
    );
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--rewrite-query needs an LLM');
  });
});
