import { existsSync } from 'node:fs';
import { mkdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createKey, spawnEngram, startEngramServer, temporaryDataDir } from './service-harness.js';

// An embedded vector store that keeps no history, installed beside the server the way an
// operator adds an adapter package: found from the working directory.
const lancedbPackage = fileURLToPath(new URL('../../../adapters/lancedb', import.meta.url));

describe('engram serve: durable history whatever the vector store', () => {
  it('keeps the history of a store without one in <dataDir>/history/<project>.db across a restart', async () => {
    const directory = await temporaryDataDir();
    try {
      const workingDirectory = join(directory.path, 'app');
      await mkdir(join(workingDirectory, 'node_modules', '@engram'), { recursive: true });
      await symlink(lancedbPackage, join(workingDirectory, 'node_modules', '@engram', 'lancedb'));
      const dataDir = join(directory.path, 'data');
      const alpha = createKey(dataDir, 'alpha');
      const options = {
        env: {
          ENGRAM_VECTOR_STORE: 'lancedb',
          ENGRAM_VECTOR_STORE_URL: join(directory.path, 'lancedb'),
        },
        cwd: workingDirectory,
      };

      const first = await startEngramServer(dataDir, options);
      let id: string;
      try {
        const configuration = first.logs.find((line) => line.msg === 'configuration');
        expect(configuration?.vectorStore).toBe('lancedb');
        expect(configuration?.historyStore).toBe(
          `sqlite, one file per project in ${join(dataDir, 'history')}`,
        );
        const added = await first.request('/v1/memories', {
          method: 'POST',
          key: alpha.key,
          body: { messages: 'Likes green tea', userId: 'u', infer: false },
        });
        expect(added.status).toBe(200);
        id = (added.body as { results: Array<{ id: string }> }).results[0]!.id;
      } finally {
        expect(await first.stop()).toBe(0);
      }
      expect(existsSync(join(dataDir, 'history', 'alpha.db'))).toBe(true);

      const second = await startEngramServer(dataDir, options);
      try {
        const history = await second.request(`/v1/memories/${id}/history`, { key: alpha.key });
        expect(history.status).toBe(200);
        expect(
          (history.body as { results: Array<{ event: string; newText: string }> }).results.map(
            (event) => [event.event, event.newText],
          ),
        ).toEqual([['ADD', 'Likes green tea']]);
      } finally {
        await second.stop();
      }
    } finally {
      await directory.dispose();
    }
  });

  it('refuses to start with history kept in process memory, naming the setting', async () => {
    const directory = await temporaryDataDir();
    try {
      createKey(directory.path, 'alpha');
      const refused = spawnEngram(['--data-dir', directory.path, 'serve', '--port', '0'], {
        ENGRAM_HISTORY_STORE: 'memory',
      });
      const outcome = await Promise.race([
        refused.exited.then((code) => ({ exited: code })),
        refused.waitForLog((line) => line.msg === 'listening').then(() => 'listening'),
      ]);
      await refused.stop();
      expect(outcome).toEqual({ exited: 1 });
      expect(refused.output()).toContain('ENGRAM_HISTORY_STORE=memory');
    } finally {
      await directory.dispose();
    }
  });
});
