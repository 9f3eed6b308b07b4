import { randomUUID } from 'node:crypto';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { queueServer } from './queue-services.js';
import {
  createKey,
  type EngramProcess,
  eventually,
  spawnEngram,
  startTestRedis,
  temporaryDataDir,
} from './service-harness.js';

const everyMs = 2000;
// A run's start is measured a little after the lease check that let it run.
const slackMs = 500;

/** `2026-12-06T14-00-00-000Z` -> milliseconds since the epoch. */
const backupTime = (name: string) =>
  Date.parse(name.replace(/T(\d\d)-(\d\d)-(\d\d)-(\d{3})Z$/, 'T$1:$2:$3.$4Z'));

function runs(workers: EngramProcess[]): Array<{ start: number; end: number }> {
  return workers
    .flatMap((worker) => worker.logs)
    .filter((line) => line.msg === 'maintenance done' && line.job === 'expiry')
    .map((line) => {
      const end = typeof line.time === 'number' ? line.time : Date.parse(String(line.time));
      return { start: end - (line.durationMs as number), end };
    })
    .sort((left, right) => left.start - right.start);
}

const variants = [
  {
    leases: 'redis',
    environment: () => ({ REDIS_URL: startTestRedis() }),
  },
  {
    leases: 'sqlite',
    environment: () => ({
      ENGRAM_QUEUE: 'rabbitmq',
      RABBITMQ_URL: queueServer('rabbitmq', 'RABBITMQ_URL').url,
    }),
  },
];

describe('scheduled jobs across several engram worker processes', { timeout: 240_000 }, () => {
  for (const variant of variants) {
    it(`run once per interval, and go on when a worker dies [leases: ${variant.leases}]`, async () => {
      const directory = await temporaryDataDir();
      try {
        createKey(directory.path, 'alpha');
        const config = join(directory.path, 'engram.yaml');
        await writeFile(config, `queue:\n  name: test-lease-${randomUUID()}\n`);
        const backups = join(directory.path, 'backups');
        const env = {
          ...variant.environment(),
          ENGRAM_MAINTENANCE_SCHEDULE: `expiry=${everyMs / 1000}s`,
          ENGRAM_BACKUP_SCHEDULE: `${everyMs / 1000}s`,
          ENGRAM_BACKUP_TO: backups,
          ENGRAM_BACKUP_KEEP: '1000',
          ENGRAM_JOB_CHECK_MS: '100',
          ENGRAM_JOB_LEASE_MS: '1000',
        };
        const start = () =>
          spawnEngram(['--data-dir', directory.path, 'worker', '--config', config], env);
        let killed = Number.POSITIVE_INFINITY;
        const first = start();
        const second = start();
        const workers = [first, second];
        try {
          for (const worker of workers) {
            expect(
              await worker.waitForLog((line) => line.msg === 'worker started', 60_000),
            ).toMatchObject({ leases: variant.leases });
          }
          await eventually(async () => (runs(workers).length >= 3 ? true : undefined), {
            timeoutMs: 60_000,
          });
          // Dies without releasing anything: a lease it held expires, and the other goes on.
          first.child.kill('SIGKILL');
          await first.exited;
          killed = Date.now();
          await eventually(
            async () =>
              runs([second]).filter((run) => run.start > killed).length >= 2 ? true : undefined,
            { timeoutMs: 60_000 },
          );
        } finally {
          first.child.kill('SIGKILL');
          expect(await second.stop()).toBe(0);
        }
        const seen = runs(workers);
        for (let index = 1; index < seen.length; index++) {
          const [previous, next] = [seen[index - 1]!, seen[index]!];
          expect(next.start - previous.start).toBeGreaterThanOrEqual(everyMs - slackMs);
          expect(next.start).toBeGreaterThanOrEqual(previous.end - 5);
        }
        const names = (await readdir(join(backups, 'alpha'))).sort();
        expect(names.length).toBeGreaterThanOrEqual(1);
        for (let index = 1; index < names.length; index++) {
          const [previous, next] = [backupTime(names[index - 1]!), backupTime(names[index]!)];
          // A backup the kill cut short is made again once its lease expires (its run was never
          // recorded): that one pair, started before and after the kill, may be closer.
          if (previous <= killed && next >= killed) continue;
          expect(next - previous).toBeGreaterThanOrEqual(everyMs - slackMs);
        }
      } finally {
        await directory.dispose();
      }
    });
  }
});
