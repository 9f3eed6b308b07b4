import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AdapterCallError, createHashEmbedder, createInMemoryStore, Memory } from '@engram/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { OutputStream } from './format-output.js';
import { importJsonl, parseImportLine } from './import-command.js';

function capture(isTTY = false): OutputStream & { text: () => string } {
  const chunks: string[] = [];
  return { write: (chunk: string) => chunks.push(chunk) > 0, isTTY, text: () => chunks.join('') };
}

describe('parseImportLine', () => {
  it.each([
    ['{"text":"a","userId":"u"}', {}, { userId: 'u', text: 'a' }],
    ['{"text":"a"}', { userId: 'flag' }, { userId: 'flag', text: 'a' }],
    ['{"text":"a","userId":"line"}', { userId: 'flag' }, { userId: 'line', text: 'a' }],
    [
      '{"text":"a","runId":"r","metadata":{"k":1}}',
      {},
      { runId: 'r', text: 'a', metadata: { k: 1 } },
    ],
  ])('%s with %j', (line, defaults, expected) => {
    expect(parseImportLine(line, defaults)).toEqual(expected);
  });

  it.each([
    ['{"text":', 'invalid JSON'],
    ['[1,2]', 'expected a JSON object'],
    ['{"userId":"u"}', 'missing "text"'],
    ['{"text":"  ","userId":"u"}', 'missing "text"'],
    ['{"text":"a"}', 'no scope'],
    ['{"text":"a","userId":"u","metadata":[1]}', '"metadata" must be a JSON object'],
    ['{"text":"a","userId":5}', 'userId must be a string'],
  ])('rejects %s', (line, message) => {
    const parsed = parseImportLine(line, {});
    expect('error' in parsed && parsed.error).toContain(message);
  });
});

describe('importJsonl', () => {
  let directory: string;
  let memory: Memory;

  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'engram-cli-import-'));
    memory = new Memory({
      vectorStore: createInMemoryStore(),
      embedder: createHashEmbedder(),
      llm: null,
    });
  });

  afterEach(async () => {
    await memory.close();
    await rm(directory, { recursive: true, force: true });
  });

  async function file(lines: string[]): Promise<string> {
    const path = join(directory, 'memories.jsonl');
    await writeFile(path, `${lines.join('\n')}\n`);
    return path;
  }

  it('skips bad lines with their numbers and imports the rest in batches', async () => {
    const stderr = capture();
    const path = await file([
      '{"text":"one"}',
      '{"text":"two","userId":"bob"}',
      'not json',
      '',
      '{"text":"three","metadata":{"topic":"x"}}',
      '{"nope":1}',
      '{"text":"four"}',
    ]);
    const summary = await importJsonl(memory, {
      file: path,
      scope: { userId: 'alice' },
      infer: false,
      batchSize: 2,
      stderr,
    });
    expect(summary).toMatchObject({ imported: 4, skipped: 2 });
    expect(summary.errors.map((error) => error.line)).toEqual([3, 6]);
    expect(stderr.text()).toContain('line 3: invalid JSON');
    expect(stderr.text()).toContain('line 6: missing "text"');
    const alice = await memory.list({ userId: 'alice' });
    expect(alice.results.map((item) => item.memory).sort()).toEqual(['four', 'one', 'three']);
    expect((await memory.list({ userId: 'bob' })).results).toHaveLength(1);
  });

  it('isolates a line the engine rejects without losing the rest of its batch', async () => {
    const stderr = capture();
    const path = await file([
      '{"text":"fine"}',
      JSON.stringify({ text: 'x'.repeat(30_000) }),
      '{"text":"also fine"}',
    ]);
    const summary = await importJsonl(memory, {
      file: path,
      scope: { userId: 'alice' },
      infer: false,
      batchSize: 256,
      stderr,
    });
    expect(summary).toMatchObject({ imported: 2, skipped: 1 });
    expect(stderr.text()).toMatch(/line 2: text is 30000 characters long/);
  });

  it('draws progress on a terminal and clears it at the end', async () => {
    const stderr = capture(true);
    const path = await file(['{"text":"one"}']);
    await importJsonl(memory, {
      file: path,
      scope: { userId: 'a' },
      infer: false,
      batchSize: 1,
      stderr,
    });
    expect(stderr.text()).toContain('100%');
    expect(stderr.text().endsWith('\r\u001b[K')).toBe(true);
  });

  it('stops on a store failure and says how far it got', async () => {
    const stderr = capture();
    const failing = new Memory({
      vectorStore: createInMemoryStore(),
      llm: null,
      embedder: {
        ...createHashEmbedder(),
        embed: async () => {
          throw new AdapterCallError({ source: 'test', message: 'down' });
        },
      },
    });
    const path = await file(['{"text":"one"}']);
    await expect(
      importJsonl(failing, {
        file: path,
        scope: { userId: 'a' },
        infer: false,
        batchSize: 1,
        stderr,
      }),
    ).rejects.toThrow('down');
    expect(stderr.text()).toContain('Import stopped at line 1 after storing 0 memories');
    await failing.close();
  });

  it('reports a missing file as bad input', async () => {
    await expect(
      importJsonl(memory, {
        file: join(directory, 'missing.jsonl'),
        scope: {},
        infer: false,
        batchSize: 1,
        stderr: capture(),
      }),
    ).rejects.toThrow(/Cannot read .*missing\.jsonl/);
  });

  it('reports ids that a later line of the same file replaced', async () => {
    const stderr = capture();
    const path = await file([
      '{"id":"m-1","text":"first version"}',
      '{"id":"m-2","text":"other"}',
      '{"id":"m-1","text":"second version"}',
      '{"id":"m-3","text":"third"}',
      '{"id":"m-1","text":"last version"}',
    ]);
    const summary = await importJsonl(memory, {
      file: path,
      scope: { userId: 'alice' },
      infer: false,
      batchSize: 256,
      stderr,
    });
    expect(summary).toMatchObject({
      imported: 5,
      skipped: 0,
      replaced: [
        { id: 'm-1', line: 3, replacedLine: 1 },
        { id: 'm-1', line: 5, replacedLine: 3 },
      ],
    });
    expect(stderr.text()).toContain('line 3: id "m-1" replaces the memory of line 1');
    expect(stderr.text()).toContain('line 5: id "m-1" replaces the memory of line 3');
    const alice = await memory.list({ userId: 'alice' });
    expect(alice.results.map((item) => item.memory).sort()).toEqual([
      'last version',
      'other',
      'third',
    ]);
  });
});
