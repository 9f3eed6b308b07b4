import { existsSync } from 'node:fs';
import { type BackupManifest, parseDuration } from '@engram/core';
import { apiKeyStorePath, openApiKeyStore } from './api-keys.js';
import type { AppContext } from './app-context.js';
import { type BackupEnvironment, openBackupStorage } from './backup-storage.js';
import { type JobLeases, leaseCheckMs } from './job-lease.js';

/** A backup schedule of the worker, from `ENGRAM_BACKUP_*`. */
export interface BackupSchedule {
  /** Time between backups (`ENGRAM_BACKUP_SCHEDULE`: `24h`, `30m`, ...). */
  intervalMs: number;
  /** Where backups go (`ENGRAM_BACKUP_TO`): a directory or `s3://bucket/prefix`; one folder per project. */
  to: string;
  /** How many backups of each project to keep, newest first (`ENGRAM_BACKUP_KEEP`, default 7). */
  keep: number;
}

/** The schedule named by the environment, or undefined when `ENGRAM_BACKUP_SCHEDULE` is not set. */
export function backupScheduleFromEnvironment(env: BackupEnvironment): BackupSchedule | undefined {
  const interval = env.ENGRAM_BACKUP_SCHEDULE?.trim();
  if (!interval) return undefined;
  const to = env.ENGRAM_BACKUP_TO?.trim();
  if (!to) {
    throw new Error(
      'ENGRAM_BACKUP_SCHEDULE is set but not ENGRAM_BACKUP_TO: name a directory or s3://bucket/prefix for the backups.',
    );
  }
  const keepText = env.ENGRAM_BACKUP_KEEP?.trim() || '7';
  const keep = /^\d+$/.test(keepText) ? Number(keepText) : Number.NaN;
  if (!Number.isInteger(keep) || keep < 1) {
    throw new Error(`ENGRAM_BACKUP_KEEP must be a whole number of at least 1, got "${keepText}".`);
  }
  const intervalMs = parseDuration(interval, 'ENGRAM_BACKUP_SCHEDULE');
  if (intervalMs < 1000) throw new Error('ENGRAM_BACKUP_SCHEDULE must be at least 1s.');
  return { intervalMs, to, keep };
}

/** The projects of the data directory's API keys (and `default` in local mode). */
export function backupProjectNames(context: Pick<AppContext, 'config'>): string[] {
  const projects = new Set<string>();
  if (context.config.insecureLocal) projects.add('default');
  const path = apiKeyStorePath(context.config.dataDir);
  if (existsSync(path)) {
    const keys = openApiKeyStore(path);
    try {
      for (const key of keys.list()) projects.add(key.project);
    } finally {
      keys.close();
    }
  }
  return [...projects].sort();
}

/** A backup name that sorts by time: `2026-12-06T14-00-00-000Z`. */
export function backupName(time: Date): string {
  return time.toISOString().replace(/[:.]/g, '-');
}

const joinLocation = (root: string, name: string) => `${root.replace(/\/+$/, '')}/${name}`;

/**
 * Backs up every project once into `<to>/<project>/<time>/`, then deletes all but the newest
 * `keep` backups of each; returns each project's manifest. A project that fails is logged and
 * the others go on.
 */
export async function backupProjects(
  context: Pick<AppContext, 'projects' | 'logger'>,
  options: { schedule: BackupSchedule; projects: string[]; env: BackupEnvironment; now?: Date },
): Promise<Record<string, BackupManifest>> {
  const done: Record<string, BackupManifest> = {};
  const name = backupName(options.now ?? new Date());
  for (const project of options.projects) {
    try {
      const storage = openBackupStorage(joinLocation(options.schedule.to, project), options.env);
      const memory = await context.projects.memory(project);
      done[project] = await memory.backup({ target: storage.target(name) });
      const names = await storage.list();
      for (const old of names.slice(0, Math.max(0, names.length - options.schedule.keep))) {
        await storage.remove(old);
      }
    } catch (error) {
      context.logger.error({ err: error, project }, 'backup failed');
    }
  }
  return done;
}

/**
 * Runs {@link backupProjects} every `intervalMs` (the first one after one interval), while the
 * process runs; returns the function that stops it. Does nothing without a schedule. With
 * leases shared by every worker, one backup is made per interval across all of them (a worker
 * that dies mid-backup leaves it to the next one that looks).
 */
export function scheduleBackups(
  context: Pick<AppContext, 'config' | 'projects' | 'logger'>,
  env: BackupEnvironment,
  leases?: JobLeases,
): () => void {
  const schedule = backupScheduleFromEnvironment(env);
  if (!schedule) return () => {};
  let busy = false;
  const backup = async () => {
    const done = await backupProjects(context, {
      schedule,
      projects: backupProjectNames(context),
      env,
    });
    const counts = Object.fromEntries(
      Object.entries(done).map(([project, manifest]) => [project, manifest.counts.memories]),
    );
    context.logger.info({ to: schedule.to, memories: counts }, 'backup done');
  };
  const run = () => {
    if (busy) return;
    busy = true;
    (leases
      ? leases.runDue('backup', { everyMs: schedule.intervalMs, firstAfterInterval: true }, backup)
      : backup()
    )
      .catch((error: unknown) => context.logger.error({ err: error }, 'backup failed'))
      .finally(() => {
        busy = false;
      });
  };
  const timer = setInterval(
    run,
    leases ? leaseCheckMs(schedule.intervalMs, context.config.env) : schedule.intervalMs,
  );
  timer.unref();
  // With leases, the first look records the schedule's start, so the first backup is one interval on.
  if (leases) run();
  context.logger.info(
    { to: schedule.to, everyMs: schedule.intervalMs, keep: schedule.keep },
    'backups scheduled',
  );
  return () => clearInterval(timer);
}
