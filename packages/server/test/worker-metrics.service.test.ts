import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import {
  createKey,
  eventually,
  spawnEngram,
  startEngramServer,
  startTestRedis,
  temporaryDataDir,
} from './service-harness.js';

describe('engram worker metrics', { timeout: 120_000 }, () => {
  it('serves its own /metrics on --metrics-port, counting the jobs it ran', async () => {
    const redisUrl = startTestRedis();
    const directory = await temporaryDataDir();
    try {
      const { key } = createKey(directory.path, 'alpha');
      const config = `${directory.path}/engram.yaml`;
      await writeFile(config, `queue:\n  name: metrics-${randomUUID()}\n`);
      const env = { REDIS_URL: redisUrl, ENGRAM_INPROCESS_WORKERS: '0' };
      const server = await startEngramServer(directory.path, { env, args: ['--config', config] });
      const worker = spawnEngram(
        ['--data-dir', directory.path, 'worker', '--config', config, '--metrics-port', '0'],
        env,
      );
      try {
        const listening = await worker.waitForLog((line) => line.msg === 'metrics listening');
        await worker.waitForLog((line) => line.msg === 'worker started');
        const accepted = await server.request('/v1/memories', {
          method: 'POST',
          key,
          body: { messages: 'Likes oolong', userId: 'bob', async: true, infer: false },
        });
        expect(accepted.status).toBe(202);
        const metricsUrl = `http://127.0.0.1:${listening.port as number}/metrics`;
        const text = await eventually(async () => {
          const body = await (await fetch(metricsUrl)).text();
          return body.includes('engram_jobs_processed_total{outcome="completed"} 1')
            ? body
            : undefined;
        });
        expect(text).toContain('engram_memories_added_total 1');
        expect(text).toContain('engram_job_duration_seconds_count 1');
      } finally {
        expect(await worker.stop()).toBe(0);
        await server.stop();
      }
    } finally {
      await directory.dispose();
    }
  });
});
