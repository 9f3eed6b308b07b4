import type { Memory, PruneHistoryResult } from '@engram/core';
import type { Registry } from 'prom-client';
import type { AppContext } from './app-context.js';
import { openBackupStorage } from './backup-storage.js';
import type { JobLeases } from './job-lease.js';
import { knownProjects, scheduleMaintenance } from './maintenance.js';

/** Options of {@link pruneProjectHistory}. */
export interface PruneProjectHistoryOptions {
  /** The cutoff: texts of events created before it are erased (after archiving). */
  before?: string;
  /** Or an age, measured with the memory's clock. */
  olderThan?: number;
  /** A directory or `s3://bucket/prefix`; the project's archives go to `<archiveTo>/<project>/`. */
  archiveTo?: string;
  /** Environment of the S3-compatible storage (`ENGRAM_S3_*`, `AWS_*`). */
  env?: Record<string, string | undefined>;
}

/**
 * Erases the texts of a project's history events created before the cutoff; with `archiveTo`,
 * archives those events first (`<archiveTo>/<project>/until-<cutoff>/`: compressed JSONL and a
 * manifest, read back and checked), so a crash between the two loses nothing, and a run
 * repeated with the same cutoff rewrites the same archive.
 */
export function pruneProjectHistory(
  memory: Memory,
  project: string,
  options: PruneProjectHistoryOptions,
): Promise<PruneHistoryResult> {
  const archive = options.archiveTo
    ? openBackupStorage(`${options.archiveTo.replace(/\/+$/, '')}/${project}`, options.env)
    : undefined;
  return memory.pruneHistory({
    ...(options.before === undefined
      ? { olderThan: options.olderThan }
      : { before: options.before }),
    ...(archive ? { archive } : {}),
  });
}

/** How often the server erases history texts past the retention. */
export const historyPruneIntervalMs = 60 * 60 * 1000;

/**
 * Erases the texts of history events older than the configured retention in every project (and
 * archives them first when `ENGRAM_HISTORY_ARCHIVE_TO` is set);
 * returns how many events each project's history erased. Does nothing without a retention.
 */
export async function pruneProjectHistories(
  context: Pick<AppContext, 'config' | 'keys' | 'projects' | 'logger'>,
): Promise<Record<string, number>> {
  const erased: Record<string, number> = {};
  const retention = context.config.historyTextRetentionMs;
  if (retention === undefined) return erased;
  const { historyArchiveTo, env } = context.config;
  for (const project of knownProjects(context)) {
    try {
      const memory = await context.projects.memory(project);
      erased[project] = (
        await pruneProjectHistory(memory, project, {
          olderThan: retention,
          ...(historyArchiveTo ? { archiveTo: historyArchiveTo, env } : {}),
        })
      ).erased;
    } catch (error) {
      // One unreachable project must not keep the others' texts.
      context.logger.error({ err: error, project }, 'history retention failed');
    }
  }
  return erased;
}

/** Options of {@link scheduleHistoryRetention}. */
export interface ScheduleHistoryRetentionOptions {
  /**
   * Leases shared with every other `engram serve` process and `engram worker`: retention then
   * runs as the `history-retention` maintenance job, once per interval across all of them.
   */
  leases?: JobLeases;
  /** Where the maintenance job counts its runs, with leases. */
  registry?: Registry;
  /** How often a process with leases looks whether retention is due. Default: `leaseCheckMs`. */
  checkMs?: number;
}

/**
 * Runs {@link pruneProjectHistories} now and then every hour, while the process runs; returns
 * the function that stops it. Does nothing without a retention. With leases, it runs the
 * `history-retention` maintenance job under the lease `engram worker` takes for it, so one run
 * happens per interval whichever processes and replicas share the leases.
 */
export function scheduleHistoryRetention(
  context: Pick<AppContext, 'config' | 'keys' | 'projects' | 'logger'>,
  intervalMs = historyPruneIntervalMs,
  options: ScheduleHistoryRetentionOptions = {},
): () => void {
  if (context.config.historyTextRetentionMs === undefined) return () => {};
  if (options.leases) {
    return scheduleMaintenance(
      context,
      new Map([['history-retention', intervalMs]]),
      options.registry,
      { leases: options.leases, ...(options.checkMs ? { checkMs: options.checkMs } : {}) },
    );
  }
  let busy = false;
  const run = () => {
    if (busy) return;
    busy = true;
    pruneProjectHistories(context)
      .then((erased) => {
        const total = Object.values(erased).reduce((sum, count) => sum + count, 0);
        if (total > 0) context.logger.info({ erased }, 'history texts past retention erased');
      })
      .catch((error: unknown) => context.logger.error({ err: error }, 'history retention failed'))
      .finally(() => {
        busy = false;
      });
  };
  const timer = setInterval(run, intervalMs);
  timer.unref();
  run();
  return () => clearInterval(timer);
}
