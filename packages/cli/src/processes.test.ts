import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type FakeChatRequest, type FakeOpenAIServer, startFakeOpenAI } from '@engram/fake-openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Several `engram add` processes on one data directory at once, as several terminals or cron
// jobs would run them, with a model behind the real OpenAI wire format.
const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));

/** Extraction: the message is the fact. Reconciliation: a fact already stored is left alone. */
function answer(request: FakeChatRequest): unknown {
  const format = request.responseFormat as { json_schema?: { name?: string } } | undefined;
  const content = String(request.messages.at(-1)?.content ?? '');
  switch (format?.json_schema?.name) {
    case 'engram_facts':
      return { facts: [content.replace(/^Conversation:\nuser: /, '')] };
    case 'engram_memory_changes': {
      const [, existing, facts] = /^Existing memories:\n(.*)\n\nNew facts:\n(.*)$/s.exec(content)!;
      const stored = JSON.parse(existing!) as { id: string; text: string }[];
      return {
        memory: (JSON.parse(facts!) as string[]).map((fact) => {
          const same = stored.find((memory) => memory.text === fact);
          return same
            ? { event: 'NONE', id: same.id, text: '' }
            : { event: 'ADD', id: '', text: fact };
        }),
      };
    }
    default:
      return 'unexpected';
  }
}

describe('engram add from several processes on one data directory', () => {
  let server: FakeOpenAIServer;
  let dataDir: string;

  beforeAll(async () => {
    server = await startFakeOpenAI({ chat: answer, latencyMs: 150 });
    dataDir = await mkdtemp(join(tmpdir(), 'engram-cli-processes-'));
  });
  afterAll(async () => {
    await server.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  function engram(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        OPENAI_API_KEY: 'test',
        OPENAI_BASE_URL: server.url,
        ENGRAM_EMBEDDER: 'hash',
      };
      for (const name of ['ENGRAM_LLM', 'ENGRAM_GRAPH', 'ENGRAM_HOME', 'ENGRAM_COLLECTION'])
        delete env[name];
      execFile(
        process.execPath,
        [bin, '--data-dir', dataDir, ...args],
        { env },
        (error, stdout, stderr) => {
          if (error && typeof error.code !== 'number') reject(error);
          else resolve({ code: error ? (error.code as number) : 0, stdout, stderr });
        },
      );
    });
  }

  it('four processes adding the same fact for one user at once store it once', async () => {
    const first = await engram(['add', 'Lives in Oslo', '--user', 'alice', '--json']);
    expect(first.stderr).toBe('');
    const runs = await Promise.all(
      [0, 1, 2, 3].map(() => engram(['add', 'Likes green tea', '--user', 'alice', '--json'])),
    );
    for (const run of runs) expect(run.code, run.stderr).toBe(0);
    const listed = await engram(['list', '--user', 'alice', '--json']);
    const memories = (JSON.parse(listed.stdout) as { results: { memory: string }[] }).results;
    expect(memories.map((item) => item.memory).sort()).toEqual([
      'Likes green tea',
      'Lives in Oslo',
    ]);
  });
});
