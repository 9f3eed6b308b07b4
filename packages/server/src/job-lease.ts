import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Redis } from 'ioredis';
import { redisCall, releaseScript, renewScript } from './redis-scope-lock.js';

/** Where leases and the time of each job's last run are kept. */
export interface JobLeaseBackend {
  /** Takes the lease of `name` for `leaseMs` unless another holder's lease is still running. */
  tryAcquire(name: string, token: string, leaseMs: number): Promise<boolean>;
  /** Extends the lease; false when it is no longer this token's (it expired and was taken). */
  renew(name: string, token: string, leaseMs: number): Promise<boolean>;
  /** Gives the lease up, if it is still this token's. */
  release(name: string, token: string): Promise<void>;
  /** When the last finished run of `name` started (ms since the epoch), if any. */
  lastRun(name: string): Promise<number | undefined>;
  /** Records the start time of a finished run of `name`. */
  recordRun(name: string, startedAt: number): Promise<void>;
  /** Releases connections. */
  close(): Promise<void>;
}

/** What {@link JobLeases.runDue} did. */
export type LeaseOutcome = 'ran' | 'held' | 'not due';

/** Options of {@link JobLeases.runDue}. */
export interface RunDueOptions {
  /** Time between runs, start to start, whichever process runs them. */
  everyMs: number;
  /** With no run recorded yet, record now instead of running: the first run comes one interval later. */
  firstAfterInterval?: boolean;
}

/**
 * Runs scheduled work once per interval across every process that shares the leases (all
 * `engram worker` processes and replicas): the one that takes the lease runs the work and renews
 * the lease while it runs; the others skip. A holder that dies stops renewing, its lease expires,
 * and the next process to look takes the work over (a resumable job goes on from its checkpoint).
 */
export interface JobLeases {
  /** `redis` (shared by every machine) or `sqlite` (a file beside the data directory). */
  readonly kind: 'redis' | 'sqlite';
  /** How long a dead holder keeps a lease. */
  readonly leaseMs: number;
  /**
   * Runs `work` if no other process holds the lease of `name` and its last run started at least
   * `everyMs` ago. A run that throws counts as run (the error is the caller's to log); only a
   * holder that dies leaves the work to be taken over.
   */
  runDue(name: string, options: RunDueOptions, work: () => Promise<void>): Promise<LeaseOutcome>;
  /** Releases connections. */
  close(): Promise<void>;
}

/** Options of {@link createJobLeases}. */
export interface JobLeasesOptions {
  /** The store of the leases. */
  backend: JobLeaseBackend;
  /** `redis` or `sqlite`. */
  kind: JobLeases['kind'];
  /** How long a dead holder keeps a lease; renewed every third of it. Default 30,000 ms. */
  leaseMs?: number;
  /** Told when a renewal fails or finds the lease taken. */
  onLost?: (name: string, error?: unknown) => void;
}

/** {@link JobLeases} over a backend. */
export function createJobLeases(options: JobLeasesOptions): JobLeases {
  const { backend } = options;
  const leaseMs = options.leaseMs ?? 30_000;
  return {
    kind: options.kind,
    leaseMs,
    async runDue(name, { everyMs, firstAfterInterval = false }, work) {
      const token = randomUUID();
      if (!(await backend.tryAcquire(name, token, leaseMs))) return 'held';
      let renewal: NodeJS.Timeout | undefined;
      try {
        const now = Date.now();
        const last = await backend.lastRun(name);
        if (last === undefined && firstAfterInterval) {
          await backend.recordRun(name, now);
          return 'not due';
        }
        if (last !== undefined && now - last < everyMs) return 'not due';
        renewal = setInterval(
          () => {
            backend.renew(name, token, leaseMs).then(
              (held) => {
                if (!held) options.onLost?.(name);
              },
              (error: unknown) => options.onLost?.(name, error),
            );
          },
          Math.max(100, Math.floor(leaseMs / 3)),
        );
        renewal.unref();
        try {
          await work();
        } finally {
          await backend.recordRun(name, now);
        }
        return 'ran';
      } finally {
        if (renewal) clearInterval(renewal);
        await backend.release(name, token).catch(() => {});
      }
    },
    close: () => backend.close(),
  };
}

/**
 * Leases in a SQLite file (`<dataDir>/leases.db`): for the processes of one machine, which
 * share its data directory. Processes on several machines share Redis instead.
 */
export function createSqliteLeaseBackend(path: string): JobLeaseBackend {
  const database = new Database(path);
  database.pragma('journal_mode = WAL');
  database.pragma('busy_timeout = 5000');
  database.exec(
    'CREATE TABLE IF NOT EXISTS engram_leases (name TEXT PRIMARY KEY, owner TEXT, expires_at INTEGER NOT NULL DEFAULT 0, last_run INTEGER)',
  );
  const select = database.prepare<[string], { owner: string | null; expires_at: number }>(
    'SELECT owner, expires_at FROM engram_leases WHERE name = ?',
  );
  const take = database.prepare(
    'INSERT INTO engram_leases (name, owner, expires_at) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at',
  );
  const extend = database.prepare(
    'UPDATE engram_leases SET expires_at = ? WHERE name = ? AND owner = ?',
  );
  const free = database.prepare(
    'UPDATE engram_leases SET owner = NULL, expires_at = 0 WHERE name = ? AND owner = ?',
  );
  const last = database.prepare<[string], { last_run: number | null }>(
    'SELECT last_run FROM engram_leases WHERE name = ?',
  );
  const record = database.prepare(
    'INSERT INTO engram_leases (name, last_run) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET last_run = excluded.last_run',
  );
  const acquire = database.transaction((name: string, token: string, leaseMs: number) => {
    const now = Date.now();
    const row = select.get(name);
    if (row?.owner && row.owner !== token && row.expires_at > now) return false;
    take.run(name, token, now + leaseMs);
    return true;
  });
  return {
    async tryAcquire(name, token, leaseMs) {
      return acquire.immediate(name, token, leaseMs);
    },
    async renew(name, token, leaseMs) {
      return extend.run(Date.now() + leaseMs, name, token).changes === 1;
    },
    async release(name, token) {
      free.run(name, token);
    },
    async lastRun(name) {
      return last.get(name)?.last_run ?? undefined;
    },
    async recordRun(name, startedAt) {
      record.run(name, startedAt);
    },
    async close() {
      if (database.open) database.close();
    },
  };
}

/** Leases in Redis (`REDIS_URL`), shared by workers on every machine. */
export function createRedisLeaseBackend(url: string, prefix = 'engram:lease:'): JobLeaseBackend {
  const connection = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 3 });
  // Errors surface through the calls that need Redis; an unhandled 'error' event would crash.
  connection.on('error', () => {});
  return {
    tryAcquire: (name, token, leaseMs) =>
      redisCall('Taking a job lease', async () => {
        return (await connection.set(`${prefix}${name}`, token, 'PX', leaseMs, 'NX')) === 'OK';
      }),
    renew: (name, token, leaseMs) =>
      redisCall('Renewing a job lease', async () => {
        return (await connection.eval(renewScript, 1, `${prefix}${name}`, token, leaseMs)) === 1;
      }),
    release: (name, token) =>
      redisCall('Releasing a job lease', async () => {
        await connection.eval(releaseScript, 1, `${prefix}${name}`, token);
      }),
    lastRun: (name) =>
      redisCall('Reading a job lease', async () => {
        const value = await connection.get(`${prefix}last:${name}`);
        return value === null ? undefined : Number(value);
      }),
    recordRun: (name, startedAt) =>
      redisCall('Recording a job run', async () => {
        await connection.set(`${prefix}last:${name}`, String(startedAt));
      }),
    async close() {
      if (connection.status === 'wait') connection.disconnect();
      else await connection.quit().catch(() => connection.disconnect());
    },
  };
}

/**
 * The leases of a server configuration: in Redis when `REDIS_URL` is set (keys
 * `engram:lease:<queue name>:*`), else in
 * `<dataDir>/leases.db`. `ENGRAM_JOB_LEASE_MS` sets how long a dead worker keeps a job
 * (default 30 s).
 */
export function openJobLeases(
  config: {
    dataDir: string;
    queue: { redisUrl?: string; name: string };
    env: Record<string, string | undefined>;
  },
  onLost?: (name: string, error?: unknown) => void,
): JobLeases {
  const leaseText = config.env.ENGRAM_JOB_LEASE_MS?.trim();
  const leaseMs = leaseText ? Number(leaseText) : 30_000;
  if (!Number.isInteger(leaseMs) || leaseMs < 300) {
    throw new Error(
      `ENGRAM_JOB_LEASE_MS must be a whole number of at least 300, got "${leaseText}".`,
    );
  }
  const redisUrl = config.queue.redisUrl;
  if (redisUrl) {
    return createJobLeases({
      kind: 'redis',
      // Deployments sharing one Redis tell their leases apart by their queue's name.
      backend: createRedisLeaseBackend(redisUrl, `engram:lease:${config.queue.name}:`),
      leaseMs,
      ...(onLost ? { onLost } : {}),
    });
  }
  mkdirSync(config.dataDir, { recursive: true });
  return createJobLeases({
    kind: 'sqlite',
    backend: createSqliteLeaseBackend(join(config.dataDir, 'leases.db')),
    leaseMs,
    ...(onLost ? { onLost } : {}),
  });
}

/** How often a process looks whether a job of interval `everyMs` is due (at most once a minute). */
export function leaseCheckMs(everyMs: number, env: Record<string, string | undefined>): number {
  const configured = Number(env.ENGRAM_JOB_CHECK_MS?.trim() || 60_000);
  return Math.max(50, Math.min(everyMs, Number.isFinite(configured) ? configured : 60_000));
}
