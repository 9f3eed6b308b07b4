import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type FakeChatRequest, type FakeOpenAIServer, startFakeOpenAI } from '@engram/fake-openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The built command with an LLM behind the real OpenAI wire format (a local fake server), as a
// user configures it with OPENAI_API_KEY and OPENAI_BASE_URL.
const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));

/** Query rewriting asks for free text; anything else is unexpected here. */
function answer(request: FakeChatRequest): unknown {
  if (request.responseFormat) return {};
  return 'spicy ramen';
}

describe('engram search --rewrite-query (fake OpenAI server)', () => {
  let server: FakeOpenAIServer;
  let dataDir: string;

  beforeAll(async () => {
    server = await startFakeOpenAI({ chat: answer, apiKey: 'sk-test' });
    dataDir = await mkdtemp(join(tmpdir(), 'engram-cli-rewrite-'));
  });
  afterAll(async () => {
    await server.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  function engram(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        OPENAI_API_KEY: 'sk-test',
        OPENAI_BASE_URL: server.url,
        ENGRAM_EMBEDDER: 'hash',
        ENGRAM_LLM: 'openai:gpt-4o-mini',
      };
      delete env.ENGRAM_RERANKER;
      delete env.ENGRAM_GRAPH;
      execFile(
        process.execPath,
        [bin, '--data-dir', dataDir, ...args],
        { env },
        (error, out, err) => {
          // A non-zero exit is a result to check; only a failure to run at all rejects.
          if (error && typeof error.code !== 'number') reject(error);
          else resolve({ code: error ? (error.code as number) : 0, stdout: out, stderr: err });
        },
      );
    });
  }

  it('searches for the rewritten query, prints it with --json, and reports its tokens', async () => {
    for (const text of ['My favourite food is spicy ramen', 'Walks the dog at noon']) {
      const added = await engram(['add', text, '--user', 'al', '--no-infer', '--json']);
      expect(added.code, added.stderr).toBe(0);
    }
    // Verbatim adds make no LLM call.
    expect(server.requests.filter((request) => request.path.endsWith('/chat/completions'))).toEqual(
      [],
    );

    const rewritten = await engram([
      'search',
      'what was that dish I told you about?',
      '--user',
      'al',
      '--rewrite-query',
      '--json',
    ]);
    expect(rewritten.code, rewritten.stderr).toBe(0);
    const result = JSON.parse(rewritten.stdout) as {
      rewrittenQuery?: string;
      results: { memory: string }[];
      usage: Record<string, number>;
    };
    expect(result.rewrittenQuery).toBe('spicy ramen');
    expect(result.results[0]?.memory).toBe('My favourite food is spicy ramen');
    expect(result.usage.llmCalls).toBe(1);
    expect(result.usage.inputTokens).toBeGreaterThan(0);
    expect(result.usage.outputTokens).toBeGreaterThan(0);

    const calls = server.requests.filter((request) => request.path.endsWith('/chat/completions'));
    expect(calls).toHaveLength(1);
    expect(calls[0]?.headers.authorization).toBe('Bearer sk-test');
    const body = calls[0]?.body as { model: string; messages: { content: unknown }[] };
    expect(body.model).toBe('gpt-4o-mini');
    expect(JSON.stringify(body.messages)).toContain('what was that dish I told you about?');

    const human = await engram(['search', 'that dish', '--user', 'al', '--rewrite-query']);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toContain('Searched for: spicy ramen');

    // Without the flag, no LLM call and no rewritten query.
    server.requests.length = 0;
    const plain = await engram(['search', 'spicy ramen', '--user', 'al', '--json']);
    expect(JSON.parse(plain.stdout).rewrittenQuery).toBeUndefined();
    expect(server.requests.filter((request) => request.path.endsWith('/chat/completions'))).toEqual(
      [],
    );
  }, 120_000);
});
