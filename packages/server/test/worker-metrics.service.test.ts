import { describe, expect, it } from 'vitest';
import {
  eventually,
  startEngramServer,
  startTestRedis,
  withQueueProject,
} from './service-harness.js';

describe('engram worker metrics', { timeout: 120_000 }, () => {
  it('serves its own /metrics on --metrics-port, counting the jobs it ran', async () => {
    const env = { REDIS_URL: startTestRedis(), ENGRAM_INPROCESS_WORKERS: '0' };
    await withQueueProject({}, async ({ path, key, config, startWorker }) => {
      const server = await startEngramServer(path, { env, args: ['--config', config] });
      try {
        const worker = await startWorker(env, ['--metrics-port', '0']);
        try {
          const listening = await worker.waitForLog((line) => line.msg === 'metrics listening');
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
        }
      } finally {
        await server.stop();
      }
    });
  });
});
