import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type FakeChatRequest, type FakeOpenAIServer, startFakeOpenAI } from '@engram/fake-openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The built command with graph memory on the embedded Kuzu store and an LLM behind the real
// OpenAI wire format (a local fake server answering from a table).
const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));

const relationsByMessage: Record<string, [string, string, string][]> = {
  'I work at Acme and live in Oslo': [
    ['alice', 'works_at', 'acme'],
    ['alice', 'lives_in', 'oslo'],
  ],
  'I moved to Bergen': [['alice', 'lives_in', 'bergen']],
  'I work at Globex': [['bob', 'works_at', 'globex']],
};

function answer(request: FakeChatRequest): unknown {
  const format = request.responseFormat as { json_schema?: { name?: string } } | undefined;
  const content = String(request.messages.at(-1)?.content ?? '');
  const message = content.replace(/^Conversation:\nuser: /, '');
  switch (format?.json_schema?.name) {
    case 'engram_facts':
      return { facts: [message] };
    case 'engram_memory_changes':
      return { memory: [{ event: 'ADD', id: '', text: message }] };
    case 'engram_graph':
      return {
        entities: [],
        relations: (relationsByMessage[message] ?? []).map(
          ([source, relationship, destination]) => ({
            source,
            relationship,
            destination,
          }),
        ),
      };
    case 'engram_graph_invalidation': {
      const existing = JSON.parse(
        /Existing relations:\n(.*)\n\nNew relations/s.exec(content)![1]!,
      ) as {
        id: string;
        relation: string;
      }[];
      return {
        invalidate: existing
          .filter((entry) => entry.relation.includes('lives_in'))
          .map((entry) => entry.id),
      };
    }
    default:
      return 'unexpected';
  }
}

describe('engram with graph memory (ENGRAM_GRAPH=kuzu)', () => {
  let server: FakeOpenAIServer;
  let dataDir: string;

  beforeAll(async () => {
    server = await startFakeOpenAI({ chat: answer });
    dataDir = await mkdtemp(join(tmpdir(), 'engram-cli-graph-'));
  });
  afterAll(async () => {
    await server.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  function engram(
    args: string[],
  ): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        OPENAI_API_KEY: 'test',
        OPENAI_BASE_URL: server.url,
        ENGRAM_EMBEDDER: 'hash',
        ENGRAM_GRAPH: 'kuzu',
      };
      delete env.ENGRAM_LLM;
      const argv = [bin, '--data-dir', dataDir, ...args];
      execFile(process.execPath, argv, { env }, (error, stdout, stderr) => {
        // A non-zero exit is a result to check; only a failure to run at all rejects.
        if (error && typeof error.code !== 'number') reject(error);
        else resolve({ code: error ? (error.code as number) : 0, stdout, stderr });
      });
    });
  }

  it('adds relations, invalidates a contradicted one, and prints them with search', async () => {
    for (const [text, user] of [
      ['I work at Acme and live in Oslo', 'alice'],
      ['I moved to Bergen', 'alice'],
      ['I work at Globex', 'bob'],
    ] as const) {
      const run = await engram(['add', text, '--user', user, '--json']);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
    }
    const search = await engram([
      'search',
      'where does alice live and work',
      '--user',
      'alice',
      '--json',
    ]);
    expect(search.code).toBe(0);
    const relations = (
      JSON.parse(search.stdout) as {
        relations: { source: string; relationship: string; destination: string }[];
      }
    ).relations
      .map((relation) => `${relation.source} ${relation.relationship} ${relation.destination}`)
      .sort();
    expect(relations).toEqual(['alice lives_in bergen', 'alice works_at acme']);

    const human = await engram(['search', 'where does bob work', '--user', 'bob']);
    expect(human.stdout).toContain('Relations:');
    expect(human.stdout).toContain('bob -[works_at]-> globex');
    expect(human.stdout).not.toContain('alice');
  }, 120_000);
});
