import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  type EngramServer,
  eventually,
  runKeys,
  spawnEngram,
  startEngramServer,
  temporaryDataDir,
} from './service-harness.js';

// The local model when the test has it (CI does), else a hash embedder of another length.
const newEmbedder = process.env.ENGRAM_MODELS_DIR ? 'local' : 'hash:64';
const count = 400;
/** `ENGRAM_EMBEDDER_CHECK_MS` of the cluster test: how often each process looks at the records. */
const recordCheckMs = 200;

interface Run {
  id: string;
  state: string;
  done: number;
  total?: number;
  messages: string[];
}

/** A new admin key of the project. */
function adminKey(dataDir: string, project: string): string {
  const created = runKeys(dataDir, ['--json', 'keys', 'create', '--project', project, '--admin']);
  return (JSON.parse(created.stdout) as { key: string }).key;
}

/** Starts `POST /v1/admin/reembed` and waits for the run to end. */
async function reembedToTheEnd(
  server: EngramServer,
  key: string,
  body: { embedder: string; batchSize?: number },
): Promise<Run> {
  const started = await server.request('/v1/admin/reembed', { method: 'POST', key, body });
  expect(started.status, started.text).toBe(202);
  return eventually(
    async () => {
      const answer = await server.request(`/v1/admin/jobs/${(started.body as Run).id}`, { key });
      const run = answer.body as Run;
      return run.state === 'running' ? undefined : run;
    },
    { timeoutMs: 120_000 },
  );
}

// The embedded store (one file per project), and one store every project shares (the SQLite
// adapter named with a URL takes the path other stores take): progress is saved for both.
const stores = [
  ['the embedded store', {}],
  ['a shared store', { ENGRAM_VECTOR_STORE: 'sqlite', ENGRAM_VECTOR_STORE_URL: 'shared' }],
] as const;

describe('re-embedding as a maintenance job', () => {
  it.each(stores)(
    'survives a killed server: the run shows as interrupted, starting it again resumes it (%s)',
    async (_name, storeEnv) => {
      const directory = await temporaryDataDir();
      try {
        const key = adminKey(directory.path, 'alpha');
        const env = { ENGRAM_EMBEDDER: 'hash', ...storeEnv };
        const first = await startEngramServer(directory.path, { env, args: ['--workers', '1'] });
        const imported = await first.request('/v1/import', {
          method: 'POST',
          key,
          body: {
            items: Array.from({ length: count }, (_, index) => ({
              text: `note ${index} about the garden`,
              userId: 'kim',
            })),
          },
        });
        expect(imported.status, imported.text).toBe(200);
        const started = await first.request('/v1/admin/reembed', {
          method: 'POST',
          key,
          body: { embedder: newEmbedder, batchSize: 1 },
        });
        expect(started.status, started.text).toBe(202);
        const { id } = started.body as Run;
        const recordFile = join(directory.path, 'embedders.json');
        const progressOf = async () =>
          JSON.parse(await readFile(recordFile, 'utf8').catch(() => '{}')).reembedding?.p_alpha as
            | { processed: number; phase: string }
            | undefined;
        // Killed once a few batches are saved: what a crash leaves behind.
        for (;;) {
          const saved = await progressOf();
          if (saved && (saved.processed >= 3 || saved.phase !== 'embed')) break;
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
        first.child.kill('SIGKILL');
        await first.exited;
        expect((await progressOf())?.processed).toBeGreaterThan(0);

        const second = await startEngramServer(directory.path, { env, args: ['--workers', '1'] });
        try {
          const left = await second.request(`/v1/admin/jobs/${id}`, { key });
          expect((left.body as Run).state).toBe('interrupted');
          const listed = await second.request('/v1/memories?userId=kim&limit=500', { key });
          expect(listed.status).toBe(200);

          const run = await reembedToTheEnd(second, key, { embedder: newEmbedder, batchSize: 16 });
          expect(run).toMatchObject({ state: 'completed', total: count });
          expect(run.messages.join('\n')).toContain('resuming the interrupted re-embedding');
          expect(await progressOf()).toBeUndefined();
          const records = JSON.parse(await readFile(recordFile, 'utf8'));
          expect(records.collections.p_alpha.name).toBe(newEmbedder);
          const after = await second.request('/v1/memories?userId=kim&limit=500', { key });
          expect((after.body as { results: unknown[] }).results).toHaveLength(count);
        } finally {
          await second.stop();
        }

        // The same job once from the command line, back to the hash embedder.
        const back = spawnEngram(
          ['--data-dir', directory.path, '--json', 'maintenance', 'reembed', '--embedder', 'hash'],
          storeEnv,
        );
        expect(await back.exited, back.output()).toBe(0);
        expect(back.output()).toMatch(
          new RegExp(`"alpha": \\{\\s*"done": ${count},\\s*"changed": ${count}`),
        );
      } finally {
        await directory.dispose();
      }
    },
  );

  it('a running cluster uses the new embedder once a re-embedding is done, in every process', async () => {
    const directory = await temporaryDataDir();
    try {
      const key = adminKey(directory.path, 'beta');
      // Another vector length: a process still on the old embedder fails loudly.
      const server = await startEngramServer(directory.path, {
        env: { ENGRAM_EMBEDDER: 'hash', ENGRAM_EMBEDDER_CHECK_MS: String(recordCheckMs) },
        args: ['--workers', '2'],
      });
      try {
        const imported = await server.request('/v1/import', {
          method: 'POST',
          key,
          body: {
            items: Array.from({ length: 20 }, (_, index) => ({
              text: `note ${index} about the garden`,
              userId: 'kim',
            })),
          },
        });
        expect(imported.status, imported.text).toBe(200);
        const search = () =>
          server.request('/v1/search', {
            method: 'POST',
            key,
            body: { query: 'garden', userId: 'kim', threshold: 0 },
          });
        // Both processes open the project with the old embedder.
        for (let round = 0; round < 10; round++) expect((await search()).status).toBe(200);
        const run = await reembedToTheEnd(server, key, { embedder: 'hash:64' });
        expect(run).toMatchObject({ state: 'completed' });
        // Each process looks at the embedder records at most once per interval: a request made
        // a full interval after the record was written sees it, whichever process answers.
        await new Promise((resolve) => setTimeout(resolve, recordCheckMs + 50));
        for (let round = 0; round < 10; round++) {
          const found = await search();
          expect(found.status, found.text).toBe(200);
          expect((found.body as { results: unknown[] }).results.length).toBeGreaterThan(0);
          const added = await server.request('/v1/memories', {
            method: 'POST',
            key,
            body: { messages: `note ${round} after the switch`, userId: 'kim', infer: false },
          });
          expect(added.status, added.text).toBe(200);
        }
        const records = JSON.parse(await readFile(join(directory.path, 'embedders.json'), 'utf8'));
        expect(records.collections.p_beta).toMatchObject({ name: 'hash:64', dimensions: 64 });
      } finally {
        await server.stop();
      }
    } finally {
      await directory.dispose();
    }
  });
});
