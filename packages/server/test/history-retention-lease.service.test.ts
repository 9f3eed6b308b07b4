import { describe, expect, it } from 'vitest';
import {
  type EngramProcess,
  eventually,
  startEngramServer,
  startTestRedis,
  withQueueProject,
} from './service-harness.js';

const everyMs = 2000;
// A run's start is measured a little after the lease check that let it run.
const slackMs = 500;

function runs(processes: EngramProcess[]): Array<{ start: number; end: number; pid: unknown }> {
  return processes
    .flatMap((process) => process.logs)
    .filter((line) => line.msg === 'maintenance done' && line.job === 'history-retention')
    .map((line) => {
      const end = typeof line.time === 'number' ? line.time : Date.parse(String(line.time));
      return { start: end - (line.durationMs as number), end, pid: line.pid };
    })
    .sort((left, right) => left.start - right.start);
}

const variants = [
  { leases: 'sqlite', withWorker: false, environment: () => ({}) },
  { leases: 'redis', withWorker: true, environment: () => ({ REDIS_URL: startTestRedis() }) },
];

describe('history retention across engram serve processes', { timeout: 240_000 }, () => {
  for (const variant of variants) {
    it(`runs once per interval across servers${variant.withWorker ? ' and a worker' : ''} [leases: ${variant.leases}]`, async () => {
      await withQueueProject({}, async ({ path, config, startWorker }) => {
        const env = {
          ...variant.environment(),
          ENGRAM_HISTORY_TEXT_RETENTION: '30d',
          ENGRAM_MAINTENANCE_HISTORY_RETENTION: `${everyMs / 1000}s`,
          ENGRAM_JOB_CHECK_MS: '100',
          ENGRAM_JOB_LEASE_MS: '1000',
        };
        const processes: EngramProcess[] = [];
        try {
          for (let index = 0; index < 2; index++) {
            processes.push(
              await startEngramServer(path, { env, args: ['--workers', '1', '--config', config] }),
            );
          }
          if (variant.withWorker) processes.push(await startWorker(env));
          await eventually(async () => (runs(processes).length >= 4 ? true : undefined), {
            timeoutMs: 90_000,
          });
        } finally {
          for (const process of processes) expect(await process.stop()).toBe(0);
        }
        const seen = runs(processes);
        for (let index = 1; index < seen.length; index++) {
          const [previous, next] = [seen[index - 1]!, seen[index]!];
          expect(next.start - previous.start).toBeGreaterThanOrEqual(everyMs - slackMs);
          expect(next.start).toBeGreaterThanOrEqual(previous.end - 5);
        }
      });
    });
  }
});
