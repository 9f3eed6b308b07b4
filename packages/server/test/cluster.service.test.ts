import { describe, expect, it } from 'vitest';
import { createKey, runKeys, startEngramServer, temporaryDataDir } from './service-harness.js';

const metricsToken = 'cluster-metrics-token-0123456789';

describe('engram serve --workers 2: one service from several processes', () => {
  it('shares jobs, metrics, rate limits and key revocation, and stops every process', async () => {
    const directory = await temporaryDataDir();
    try {
      const alpha = createKey(directory.path, 'alpha');
      const server = await startEngramServer(directory.path, {
        args: ['--workers', '2'],
        env: {
          ENGRAM_METRICS_TOKEN: metricsToken,
          ENGRAM_RATE_LIMIT_RPS: '0.01',
          ENGRAM_RATE_LIMIT_BURST: '30',
        },
      });
      try {
        await server.waitForLog((line) => line.msg === 'cluster started');
        // Each process writes its log lines once per event-loop turn, so a worker's "listening"
        // line may reach the output after the primary's "cluster started".
        const listeningPids = () =>
          new Set(server.logs.filter((line) => line.msg === 'listening').map((line) => line.pid));
        await server.waitForLog(() => listeningPids().size >= 2);
        expect(listeningPids().size).toBe(2);

        const accepted = await server.request('/v1/memories', {
          method: 'POST',
          key: alpha.key,
          body: { messages: 'I live in Porto', userId: 'clustered', async: true },
        });
        expect(accepted.status).toBe(202);
        const { statusUrl } = accepted.body as { statusUrl: string };
        // Connections go to the processes in turn: every lookup must find the job.
        for (let attempt = 0; attempt < 6; attempt++) {
          const job = await server.request(statusUrl, { key: alpha.key });
          expect(job.status).toBe(200);
        }

        const metrics = await server.request('/metrics', { key: metricsToken });
        expect(metrics.status).toBe(200);
        const answered = /engram_requests_total\{[^}]*route="\/v1\/jobs\/:id"[^}]*\} (\d+)/.exec(
          metrics.text,
        );
        expect(Number(answered?.[1])).toBe(6);

        // 30 tokens for the whole service, not 30 per process.
        const statuses: number[] = [];
        for (let attempt = 0; attempt < 30; attempt++) {
          statuses.push(
            (await server.request('/v1/memories?userId=clustered', { key: alpha.key })).status,
          );
        }
        expect(statuses.filter((status) => status === 429).length).toBeGreaterThan(0);
        expect(statuses.filter((status) => status === 200).length).toBeLessThanOrEqual(23);

        const other = createKey(directory.path, 'beta');
        expect((await server.request('/v1/memories?userId=x', { key: other.key })).status).toBe(
          200,
        );
        expect(runKeys(directory.path, ['keys', 'revoke', other.id]).code).toBe(0);
        for (let attempt = 0; attempt < 4; attempt++) {
          expect((await server.request('/v1/memories?userId=x', { key: other.key })).status).toBe(
            401,
          );
        }
      } finally {
        expect(await server.stop('SIGTERM')).toBe(0);
      }
      expect(server.logs.filter((line) => line.msg === 'stopped').length).toBe(3);
    } finally {
      await directory.dispose();
    }
  });

  it('holds a project rate limit across its processes, for every key of the project', async () => {
    const directory = await temporaryDataDir();
    try {
      const keys = [createKey(directory.path, 'alpha'), createKey(directory.path, 'alpha')];
      const server = await startEngramServer(directory.path, {
        args: ['--workers', '2'],
        env: {
          // One token an hour: the run's duration cannot change the counts.
          ENGRAM_RATE_LIMIT_RPS: String(1 / 3600),
          ENGRAM_RATE_LIMIT_BURST: '100',
          ENGRAM_PROJECT_RATE_LIMIT_RPS: String(1 / 3600),
          ENGRAM_PROJECT_RATE_LIMIT_BURST: '10',
        },
      });
      try {
        const listeningPids = () =>
          new Set(server.logs.filter((line) => line.msg === 'listening').map((line) => line.pid));
        await server.waitForLog(() => listeningPids().size >= 2);
        const statuses: number[] = [];
        for (let attempt = 0; attempt < 30; attempt++) {
          const key = keys[attempt % 2]!.key;
          statuses.push((await server.request('/v1/memories?userId=limited', { key })).status);
        }
        const admitted = statuses.filter((status) => status === 200).length;
        expect(statuses.filter((status) => status !== 200 && status !== 429)).toEqual([]);
        // 10 tokens for the project in the whole service, not 10 per process.
        expect(admitted, JSON.stringify(statuses)).toBeGreaterThan(0);
        expect(admitted, JSON.stringify(statuses)).toBeLessThanOrEqual(10);
      } finally {
        expect(await server.stop('SIGTERM')).toBe(0);
      }
    } finally {
      await directory.dispose();
    }
  });
});
