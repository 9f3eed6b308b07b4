import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFakeOpenAI } from '@engram/fake-openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// These tests run the built command against the real embedded SQLite store, as a user would.
const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function childEnvironment(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ENGRAM_LLM: 'none' };
  for (const name of ['OPENAI_API_KEY', 'ENGRAM_EMBEDDER', 'ENGRAM_HOME', 'ENGRAM_COLLECTION'])
    delete env[name];
  // The default embedder is the local model: from ENGRAM_MODELS_DIR when set (CI sets it), never
  // fetched from the hub by a test; without it, the hash embedder, named so that no notice is said.
  if (!process.env.ENGRAM_MODELS_DIR) env.ENGRAM_EMBEDDER = 'hash';
  return env;
}

function spawnEngram(
  args: string[],
  options: { input?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], {
      env: { ...childEnvironment(), ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

function engram(dataDir: string, args: string[], input?: string): Promise<Run> {
  return spawnEngram(['--data-dir', dataDir, ...args], input === undefined ? {} : { input });
}

function json<T = Record<string, unknown>>(run: Run): T {
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  return JSON.parse(run.stdout) as T;
}

interface Item {
  id: string;
  memory: string;
  score?: number;
  userId?: string;
  agentId?: string;
  metadata: Record<string, unknown>;
}

describe('the engram command (built, real SQLite store)', () => {
  let root: string;
  let dataDir: string;

  beforeAll(async () => {
    if (!existsSync(bin))
      throw new Error('Build the package first: pnpm --filter @engram/cli build');
    root = await mkdtemp(join(tmpdir(), 'engram-cli-bin-'));
    dataDir = join(root, 'data');
  });

  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('adds, searches, lists and deletes a scope with --json', async () => {
    const alice = [
      'I am vegetarian and allergic to peanuts',
      'I am planning a trip to Japan in April',
      'My sister lives in Lisbon',
    ];
    for (const text of alice) {
      const added = json<{ results: Item[] }>(
        await engram(dataDir, ['add', text, '--user', 'alice', '--json']),
      );
      expect(added.results).toEqual([expect.objectContaining({ memory: text, event: 'ADD' })]);
    }
    json(
      await engram(dataDir, [
        'add',
        'I am vegetarian too',
        '--user',
        'bob',
        '--json',
        '--metadata',
        '{"topic":"food"}',
      ]),
    );

    const found = json<{ results: Item[] }>(
      await engram(dataDir, [
        'search',
        'vegetarian peanuts',
        '--user',
        'alice',
        '--json',
        '--limit',
        '2',
      ]),
    );
    expect(found.results[0]).toMatchObject({
      memory: alice[0],
      userId: 'alice',
      score: expect.any(Number),
    });
    expect(found.results.length).toBeLessThanOrEqual(2);

    const bobOnly = json<{ results: Item[] }>(
      await engram(dataDir, [
        'search',
        'vegetarian',
        '--user',
        'bob',
        '--json',
        '--filter',
        '{"topic":"food"}',
      ]),
    );
    expect(bobOnly.results.map((item) => item.memory)).toEqual(['I am vegetarian too']);

    const listed = json<{ results: Item[]; nextCursor?: string }>(
      await engram(dataDir, ['list', '--user', 'alice', '--json']),
    );
    expect(listed.results.map((item) => item.memory).sort()).toEqual([...alice].sort());
    expect(listed.nextCursor).toBeUndefined();

    const paged = json<{ results: Item[]; nextCursor?: string }>(
      await engram(dataDir, ['list', '--user', 'alice', '--limit', '2', '--json']),
    );
    expect(paged.results).toHaveLength(2);
    expect(paged.nextCursor).toEqual(expect.any(String));
    const all = json<{ results: Item[] }>(
      await engram(dataDir, ['list', '--user', 'alice', '--limit', '2', '--all', '--json']),
    );
    expect(all.results).toHaveLength(3);

    expect(json(await engram(dataDir, ['delete-all', '--user', 'alice', '--json']))).toEqual({
      deleted: 3,
    });
    expect(
      json<{ results: Item[] }>(await engram(dataDir, ['list', '--user', 'alice', '--json']))
        .results,
    ).toEqual([]);
    expect(
      json<{ results: Item[] }>(await engram(dataDir, ['list', '--user', 'bob', '--json'])).results,
    ).toHaveLength(1);
  });

  it("never returns another user's memories", async () => {
    const directory = join(root, 'isolation');
    const lines = [
      ...Array.from({ length: 20 }, (_, index) => ({
        text: `carol likes coffee number ${index}`,
        userId: 'carol',
      })),
      ...Array.from({ length: 20 }, (_, index) => ({
        text: `dave likes coffee number ${index}`,
        userId: 'dave',
      })),
      { text: 'coffee coffee coffee', userId: 'dave', agentId: 'barista' },
    ];
    const file = join(root, 'isolation.jsonl');
    await writeFile(file, lines.map((line) => JSON.stringify(line)).join('\n'));
    json(await engram(directory, ['import', file, '--json']));
    const found = json<{ results: Item[] }>(
      await engram(directory, ['search', 'coffee', '--user', 'carol', '--limit', '100', '--json']),
    );
    expect(found.results).toHaveLength(20);
    expect(found.results.every((item) => item.userId === 'carol')).toBe(true);
    const agent = json<{ results: Item[] }>(
      await engram(directory, [
        'search',
        'coffee',
        '--user',
        'dave',
        '--agent',
        'barista',
        '--json',
      ]),
    );
    expect(agent.results.map((item) => item.memory)).toEqual(['coffee coffee coffee']);
  });

  it('imports a file with a bad line in the middle, reporting its number', async () => {
    const directory = join(root, 'import');
    const file = join(root, 'bad-line.jsonl');
    await writeFile(
      file,
      [
        '{"text":"first memory"}',
        '{"text":"second memory","metadata":{"topic":"x"}}',
        '{"text": broken',
        '{"text":"fourth memory","userId":"someone-else"}',
        '{"metadata":{}}',
        '{"text":"sixth memory"}',
      ].join('\n'),
    );
    const run = await engram(directory, ['import', file, '--user', 'erin', '--batch-size', '2']);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('line 3: invalid JSON');
    expect(run.stderr).toContain('line 5: missing "text"');
    expect(run.stdout).toBe('Imported 4 memories, skipped 2 lines.\n');
    const erin = json<{ results: Item[] }>(
      await engram(directory, ['list', '--user', 'erin', '--json']),
    );
    expect(erin.results.map((item) => item.memory).sort()).toEqual([
      'first memory',
      'second memory',
      'sixth memory',
    ]);
    const other = json<{ results: Item[] }>(
      await engram(directory, ['list', '--user', 'someone-else', '--json']),
    );
    expect(other.results.map((item) => item.memory)).toEqual(['fourth memory']);

    const nothing = join(root, 'all-bad.jsonl');
    await writeFile(nothing, 'nope\n{"text":"no scope"}\n');
    const failed = await engram(directory, ['import', nothing, '--json']);
    expect(failed.code).toBe(2);
    expect(JSON.parse(failed.stdout)).toMatchObject({ imported: 0, skipped: 2 });
    expect(failed.stderr).toContain('line 2: no scope');
  });

  it('round-trips export -> import, through a file and through stdin', async () => {
    const source = join(root, 'export-source');
    json(
      await engram(source, [
        'add',
        'likes jazz',
        '--user',
        'finn',
        '--json',
        '--metadata',
        '{"topic":"music"}',
      ]),
    );
    json(
      await engram(source, [
        'add',
        'works nights',
        '--user',
        'finn',
        '--agent',
        'planner',
        '--json',
      ]),
    );
    json(await engram(source, ['add', 'not exported', '--user', 'gina', '--json']));

    const file = join(root, 'finn.jsonl');
    const exported = await engram(source, ['export', '--user', 'finn', '--output', file]);
    expect(exported).toMatchObject({ code: 0, stdout: `Exported 2 memories to ${file}.\n` });
    const lines = (await readFile(file, 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines).toHaveLength(2);

    const target = join(root, 'export-target');
    const imported = await engram(target, ['import', file]);
    expect(imported).toMatchObject({ code: 0, stdout: 'Imported 2 memories, skipped 0 lines.\n' });
    const restored = json<{ results: Item[] }>(
      await engram(target, ['list', '--user', 'finn', '--json']),
    );
    const shape = (items: Item[]) =>
      items
        .map(({ memory, userId, agentId, metadata }) => ({ memory, userId, agentId, metadata }))
        .sort((left, right) => left.memory.localeCompare(right.memory));
    const original = json<{ results: Item[] }>(
      await engram(source, ['list', '--user', 'finn', '--json']),
    );
    expect(shape(restored.results)).toEqual(shape(original.results));

    const piped = await engram(source, ['export', '--user', 'finn']);
    expect(piped.code).toBe(0);
    const viaStdin = join(root, 'export-stdin');
    expect((await engram(viaStdin, ['import', '-'], piped.stdout)).code).toBe(0);
    expect(
      json<{ results: Item[] }>(await engram(viaStdin, ['list', '--user', 'finn', '--json']))
        .results,
    ).toHaveLength(2);
  });

  it('runs the demo offline, in a temporary store unless --data-dir is given', async () => {
    const kept = join(root, 'demo-kept');
    for (let attempt = 0; attempt < 2; attempt += 1) {
      const run = await engram(kept, ['demo']);
      expect(run).toMatchObject({ code: 0, stderr: '' });
      expect(run.stdout).toContain('Loaded 25 memories');
      expect(run.stdout).toContain(`The memories stay in ${kept}`);
    }
    const demoUser = json<{ results: Item[] }>(
      await engram(kept, ['list', '--user', 'demo-maya', '--json']),
    );
    expect(demoUser.results).toHaveLength(25);

    const unused = join(root, 'must-not-be-used');
    const temporaryRoot = join(root, 'tmp');
    await mkdir(temporaryRoot);
    const fresh = await spawnEngram(['demo', '--json'], {
      env: { ENGRAM_HOME: unused, TMPDIR: temporaryRoot },
    });
    const outcome = json<{ loaded: number; searches: { query: string; results: Item[] }[] }>(fresh);
    expect(outcome.loaded).toBe(25);
    expect(outcome.searches.length).toBeGreaterThanOrEqual(3);
    for (const search of outcome.searches) expect(search.results.length).toBeGreaterThan(0);
    expect(outcome.searches[1]!.results[0]!.memory).toContain('Japan');
    expect(existsSync(unused)).toBe(false);
    expect(await readdir(temporaryRoot)).toEqual([]);
  });

  it('fails with a message on stderr, nothing on stdout in --json mode, and a non-zero code', async () => {
    const cases: [string[], number, string][] = [
      [['search', 'x', '--json'], 2, 'invalid_argument'],
      [['add', 'x', '--user', 'u', '--metadata', 'oops', '--json'], 2, 'invalid_argument'],
      [
        ['search', 'x', '--user', 'u', '--filter', '{"topic":{"$regex":"x"}}', '--json'],
        2,
        'invalid_argument',
      ],
      [['get', 'no-such-id', '--json'], 1, 'not_found'],
      [['delete', 'no-such-id', '--json'], 1, 'not_found'],
      [['import', join(root, 'missing.jsonl'), '--json'], 2, 'invalid_argument'],
      [['frobnicate', '--json'], 2, 'usage'],
    ];
    for (const [args, code, errorCode] of cases) {
      const run = await engram(dataDir, args);
      expect({ args, code: run.code, stdout: run.stdout }).toEqual({ args, code, stdout: '' });
      const error = JSON.parse(run.stderr) as { error: { code: string; message: string } };
      expect(error.error.code).toBe(errorCode);
      expect(error.error.message.length).toBeGreaterThan(10);
    }

    const human = await engram(dataDir, ['add', 'x', '--user', 'u', '--metadata', '[]']);
    expect(human.code).toBe(2);
    expect(human.stdout).toBe('');
    expect(human.stderr).toContain(`--metadata must be a JSON object, e.g. '{"topic":"food"}'`);
    expect(human.stderr).not.toContain('    at ');

    const unknownFlag = await engram(dataDir, ['list', '--user', 'u', '--everything']);
    expect(unknownFlag.code).toBe(2);
    expect(unknownFlag.stderr).toContain("unknown option '--everything'");
    expect(unknownFlag.stderr).toContain('Usage: engram list');
  });

  // The local model when the test has it (CI does), else a hash embedder of another length.
  const newEmbedder = process.env.ENGRAM_MODELS_DIR ? 'local' : 'hash:64';

  it('re-embeds with another embedder and back, after which search and add work', async () => {
    const moved = join(root, 'reembed');
    const withHash = (args: string[]) =>
      spawnEngram(['--data-dir', moved, ...args], { env: { ENGRAM_EMBEDDER: 'hash' } });
    // No ENGRAM_EMBEDDER: the embedder the data directory recorded is used.
    const plain = (args: string[]) =>
      spawnEngram(['--data-dir', moved, ...args], { env: { ENGRAM_EMBEDDER: '' } });
    for (const text of [
      'I love hiking in the Swiss Alps every summer',
      'My favourite food is spicy ramen',
    ]) {
      json(await withHash(['add', text, '--user', 'alice', '--json']));
    }
    const there = json<{ reembedded: number; mode: string }>(
      await plain(['reembed', '--embedder', newEmbedder, '--json']),
    );
    expect(there).toMatchObject({ reembedded: 2, resumed: false });
    const records = JSON.parse(await readFile(join(moved, 'embedders.json'), 'utf8'));
    expect(records.collections.memories.name).toBe(newEmbedder);
    const found = json<{ results: Item[] }>(
      await plain(['search', 'what does she like to do outdoors', '--user', 'alice', '--json']),
    );
    if (newEmbedder === 'local') expect(found.results[0]?.memory).toContain('hiking');
    json(await plain(['add', 'Plays the cello', '--user', 'alice', '--json']));
    // The old embedder is refused now, and moving back to it works the same way.
    expect((await withHash(['add', 'Likes jazz', '--user', 'alice'])).code).toBe(1);
    const back = json<{ reembedded: number }>(
      await plain(['reembed', '--embedder', 'hash', '--json']),
    );
    expect(back.reembedded).toBe(3);
    json(await withHash(['add', 'Likes jazz', '--user', 'alice', '--json']));
    const again = json<{ results: Item[] }>(
      await withHash(['search', 'spicy ramen', '--user', 'alice', '--json']),
    );
    expect(again.results[0]?.memory).toBe('My favourite food is spicy ramen');
  });

  it('resumes a re-embedding killed mid-way', async () => {
    const killed = join(root, 'reembed-killed');
    const lines = Array.from({ length: 400 }, (_, index) =>
      JSON.stringify({ text: `note ${index} about the garden`, userId: 'kim' }),
    ).join('\n');
    const imported = await spawnEngram(['--data-dir', killed, 'import', '-', '--json'], {
      input: lines,
      env: { ENGRAM_EMBEDDER: 'hash' },
    });
    expect(json<{ imported: number }>(imported).imported).toBe(400);
    const recordFile = join(killed, 'embedders.json');
    const progressOf = async () =>
      JSON.parse(await readFile(recordFile, 'utf8')).reembedding?.memories as
        | { processed: number; phase: string }
        | undefined;
    const child = spawn(
      process.execPath,
      [bin, '--data-dir', killed, 'reembed', '--embedder', newEmbedder, '--batch-size', '1'],
      { env: childEnvironment(), stdio: 'ignore' },
    );
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    // Killed once a few batches are saved: what a crash leaves behind.
    for (;;) {
      const saved = await progressOf();
      if (saved && (saved.processed >= 3 || saved.phase !== 'embed')) break;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    child.kill('SIGKILL');
    expect(await exited).toBeNull();
    const left = await progressOf();
    expect(left?.processed).toBeGreaterThan(0);
    const refused = await spawnEngram(['--data-dir', killed, 'add', 'new', '--user', 'kim'], {
      env: { ENGRAM_EMBEDDER: 'hash' },
    });
    expect(refused.stderr).toContain('is being re-embedded');

    const recorded = (args: string[]) =>
      spawnEngram(['--data-dir', killed, ...args], { env: { ENGRAM_EMBEDDER: '' } });
    const resumed = await recorded(['reembed', '--embedder', newEmbedder]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain('Resuming the interrupted re-embedding');
    expect(resumed.stdout).toContain('Re-embedded 400 memories');
    expect(await progressOf()).toBeUndefined();
    const listed = json<{ results: Item[] }>(
      await recorded(['list', '--user', 'kim', '--all', '--json']),
    );
    expect(listed.results).toHaveLength(400);
    const found = json<{ results: Item[] }>(
      await recorded(['search', 'note 123 garden', '--user', 'kim', '--json']),
    );
    expect(found.results.map((item) => item.memory)).toContain('note 123 about the garden');
  });

  it('keeps its data private and deletes data written by an embedder no longer configured', async () => {
    const privateDir = join(root, 'private', 'data');
    const stored = json<{ results: Item[] }>(
      await engram(privateDir, ['add', 'Lives at 12 Rue X', '--user', 'zoe', '--json']),
    );
    json(await engram(privateDir, ['add', 'Likes tea', '--user', 'zoe', '--json']));
    const mode = async (path: string) => ((await stat(path)).mode & 0o777).toString(8);
    expect(await mode(join(root, 'private'))).toBe('700');
    expect(await mode(privateDir)).toBe('700');
    // The -wal and -shm files are gone once the last connection closes; the store's own test
    // checks them while open.
    const files = (await readdir(privateDir)).filter((file) => file.startsWith('engram.db'));
    expect(files).toContain('engram.db');
    for (const file of files) expect(await mode(join(privateDir, file)), file).toBe('600');

    const other = (args: string[]) =>
      spawnEngram(['--data-dir', privateDir, ...args], { env: { ENGRAM_EMBEDDER: 'hash:128' } });
    const listed = json<{ results: Item[] }>(await other(['list', '--user', 'zoe', '--json']));
    expect(listed.results).toHaveLength(2);
    const refused = await other(['add', 'Likes jazz', '--user', 'zoe']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('ENGRAM_EMBEDDER');
    json(await other(['delete', stored.results[0]!.id, '--erase', '--json']));
    expect(
      json<{ deleted: number }>(await other(['delete-all', '--user', 'zoe', '--json'])),
    ).toEqual({
      deleted: 1,
    });
    const events = json<{
      results: Array<{ previousText: string | null; newText: string | null }>;
    }>(await other(['history', stored.results[0]!.id, '--json']));
    expect(events.results.map((event) => [event.previousText, event.newText])).toEqual([
      [null, null],
      [null, null],
    ]);
    const reset = await other(['reset', '--user', 'zoe']);
    expect(reset.code, 'no terminal and no --yes').toBe(2);
    expect(json(await other(['reset', '--user', 'zoe', '--yes', '--json']))).toEqual({
      deleted: 0,
    });
  });

  it('search --rewrite-query: an LLM behind the OpenAI wire format rewrites the question', async () => {
    // Query rewriting asks for free text: the fake OpenAI server answers the standalone query.
    const server = await startFakeOpenAI({
      apiKey: 'sk-test',
      chat: (request) => (request.responseFormat ? {} : 'spicy ramen'),
    });
    const rewriting = join(root, 'rewrite');
    const run = (args: string[]) =>
      spawnEngram(['--data-dir', rewriting, ...args], {
        env: {
          ENGRAM_EMBEDDER: 'hash',
          ENGRAM_LLM: 'openai:gpt-4o-mini',
          OPENAI_API_KEY: 'sk-test',
          OPENAI_BASE_URL: server.url,
        },
      });
    const chatCalls = () =>
      server.requests.filter((request) => request.path.endsWith('/chat/completions'));
    try {
      for (const text of ['My favourite food is spicy ramen', 'Walks the dog at noon']) {
        json(await run(['add', text, '--user', 'al', '--no-infer', '--json']));
      }
      expect(chatCalls()).toEqual([]);

      const result = json<{
        rewrittenQuery?: string;
        results: Item[];
        usage: Record<string, number>;
      }>(
        await run([
          'search',
          'what was that dish I told you about?',
          '--user',
          'al',
          '--rewrite-query',
          '--json',
        ]),
      );
      expect(result.rewrittenQuery).toBe('spicy ramen');
      expect(result.results[0]?.memory).toBe('My favourite food is spicy ramen');
      expect(result.usage.llmCalls).toBe(1);
      expect(result.usage.inputTokens).toBeGreaterThan(0);
      expect(result.usage.outputTokens).toBeGreaterThan(0);
      expect(chatCalls()).toHaveLength(1);
      expect(chatCalls()[0]?.headers.authorization).toBe('Bearer sk-test');
      const body = chatCalls()[0]?.body as { model: string; messages: unknown[] };
      expect(body.model).toBe('gpt-4o-mini');
      expect(JSON.stringify(body.messages)).toContain('what was that dish I told you about?');

      const human = await run(['search', 'that dish', '--user', 'al', '--rewrite-query']);
      expect(human.code, human.stderr).toBe(0);
      expect(human.stdout).toContain('Searched for: spicy ramen');

      // Without the flag: no LLM call, no rewritten query.
      server.requests.length = 0;
      const plain = json(await run(['search', 'spicy ramen', '--user', 'al', '--json']));
      expect(plain.rewrittenQuery).toBeUndefined();
      expect(chatCalls()).toEqual([]);
    } finally {
      await server.close();
    }
  });
});
