import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type FakeOpenAIServer, startFakeOpenAI } from '@engram/fake-openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DoctorReport } from './doctor-command.js';
import { runCli } from './run-cli.js';

let server: FakeOpenAIServer;
const directories: string[] = [];

beforeAll(async () => {
  server = await startFakeOpenAI({ apiKey: 'sk-test' });
});

afterAll(async () => {
  await server.close();
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});

async function doctor(env: Record<string, string>, flags: string[] = ['--json']) {
  const directory = mkdtempSync(join(tmpdir(), 'engram-doctor-'));
  directories.push(directory);
  let stdout = '';
  const code = await runCli(['doctor', ...flags, '--data-dir', directory], {
    env,
    stdout: {
      write: (chunk: string) => {
        stdout += chunk;
        return true;
      },
    } as never,
    stderr: { write: () => true } as never,
  });
  return { code, stdout };
}

describe('engram doctor', () => {
  it('resolves and checks each component with one call; exit 0 when all work', async () => {
    const { code, stdout } = await doctor({
      ENGRAM_LLM: 'openai:gpt-4.1-mini',
      ENGRAM_EMBEDDER: 'openai:text-embedding-3-small?dimensions=384',
      OPENAI_API_KEY: 'sk-test',
      OPENAI_BASE_URL: server.url,
    });
    const report = JSON.parse(stdout) as DoctorReport;
    expect(code).toBe(0);
    expect(report.ok).toBe(true);
    expect(report.checks.map((entry) => [entry.component, entry.status, entry.resolved])).toEqual([
      ['llm', 'ok', 'openai.chat:gpt-4.1-mini'],
      ['embedder', 'ok', 'openai.embedding:text-embedding-3-small'],
      ['reranker', 'off', undefined],
      ['vector store', 'ok', 'sqlite'],
      ['graph store', 'off', undefined],
    ]);
  });

  it('exits non-zero naming what failed and how to fix it', async () => {
    const { code, stdout } = await doctor(
      {
        ENGRAM_LLM: 'anthropic:claude-sonnet-4-5',
        ENGRAM_EMBEDDER: 'hash',
      },
      [],
    );
    expect(code).not.toBe(0);
    expect(stdout).toMatch(/FAIL llm: .*ANTHROPIC_API_KEY/);
    expect(stdout).toMatch(/fix: Check ENGRAM_LLM/);
    expect(stdout).toMatch(/ok {3}embedder hash/);
  });
});
