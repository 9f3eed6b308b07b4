import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { queueServer } from './queue-services.js';
import {
  bin,
  childEnvironment,
  createKey,
  eventually,
  spawnEngram,
  startEngramServer,
  temporaryDataDir,
} from './service-harness.js';

describe('async adds through RabbitMQ, and engram maintenance', { timeout: 240_000 }, () => {
  it('engram serve queues on RabbitMQ, engram worker runs the job; dedupe merges the repeat', async () => {
    const { url } = queueServer('rabbitmq', 'RABBITMQ_URL');
    const directory = await temporaryDataDir();
    try {
      const { key } = createKey(directory.path, 'alpha');
      const config = `${directory.path}/engram.yaml`;
      await writeFile(config, `queue:\n  name: test-${randomUUID()}\n  backoffMs: 100\n`);
      const env = { ENGRAM_QUEUE: 'rabbitmq', RABBITMQ_URL: url, ENGRAM_INPROCESS_WORKERS: '0' };
      const server = await startEngramServer(directory.path, { env, args: ['--config', config] });
      const worker = spawnEngram(['--data-dir', directory.path, 'worker', '--config', config], env);
      try {
        await worker.waitForLog((line) => line.msg === 'worker started');
        expect((await server.request('/readyz')).body).toMatchObject({ checks: { queue: 'ok' } });
        const statusUrls: string[] = [];
        for (const text of ['Likes oolong', 'Likes oolong']) {
          const accepted = await server.request('/v1/memories', {
            method: 'POST',
            key,
            body: { messages: text, userId: 'bob', async: true },
          });
          expect(accepted.status).toBe(202);
          statusUrls.push((accepted.body as { statusUrl: string }).statusUrl);
        }
        for (const statusUrl of statusUrls) {
          const job = await eventually(
            async () => {
              const body = (await server.request(statusUrl, { key })).body as { status: string };
              return body.status === 'completed' ? body : undefined;
            },
            { timeoutMs: 60_000, intervalMs: 200 },
          );
          expect(job).toMatchObject({ status: 'completed', attempts: 1 });
        }
      } finally {
        expect(await worker.stop()).toBe(0);
        await server.stop();
      }

      const maintenance = (args: string[]) =>
        execFileSync(
          process.execPath,
          [
            bin,
            '--data-dir',
            directory.path,
            'maintenance',
            'dedupe',
            '--project',
            'alpha',
            ...args,
          ],
          { env: childEnvironment(), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
        );
      const dry = maintenance(['--dry-run']);
      expect(dry).toMatch(/^alpha\texact\t\S+ <- \S+\t"Likes oolong" <- "Likes oolong"$/m);
      expect(dry).toContain('alpha: 2 examined, 1 would change');
      expect(maintenance([])).toContain('alpha: 2 examined, 1 changed');
      expect(maintenance([])).toContain('alpha: 1 examined, 0 changed');
    } finally {
      await directory.dispose();
    }
  });
});
