import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  eventually,
  runKeys,
  spawnEngram,
  startEngramServer,
  temporaryDataDir,
} from './service-harness.js';

// The local model when the test has it (CI does), else a hash embedder of another length.
const newEmbedder = process.env.ENGRAM_MODELS_DIR ? 'local' : 'hash:64';
const count = 400;

interface Run {
  id: string;
  state: string;
  done: number;
  total?: number;
  messages: string[];
}

describe('re-embedding as a maintenance job', () => {
  it('survives a killed server: the run shows as interrupted, starting it again resumes it', async () => {
    const directory = await temporaryDataDir();
    try {
      const { key } = JSON.parse(
        runKeys(directory.path, ['--json', 'keys', 'create', '--project', 'alpha', '--admin'])
          .stdout,
      ) as { key: string };
      const env = { ENGRAM_EMBEDDER: 'hash' };
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

        const resumed = await second.request('/v1/admin/reembed', {
          method: 'POST',
          key,
          body: { embedder: newEmbedder, batchSize: 16 },
        });
        expect(resumed.status, resumed.text).toBe(202);
        const run = await eventually(
          async () => {
            const answer = await second.request(`/v1/admin/jobs/${(resumed.body as Run).id}`, {
              key,
            });
            const body = answer.body as Run;
            return body.state === 'running' ? undefined : body;
          },
          { timeoutMs: 120_000 },
        );
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
      const back = spawnEngram([
        '--data-dir',
        directory.path,
        '--json',
        'maintenance',
        'reembed',
        '--embedder',
        'hash',
      ]);
      expect(await back.exited, back.output()).toBe(0);
      expect(back.output()).toMatch(
        new RegExp(`"alpha": \\{\\s*"done": ${count},\\s*"changed": ${count}`),
      );
    } finally {
      await directory.dispose();
    }
  });
});
