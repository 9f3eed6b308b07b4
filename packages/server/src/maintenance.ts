import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { InvalidArgumentError, type JsonValue, type Memory, parseDuration } from '@engram/core';
import { Counter, type Registry } from 'prom-client';
import type { AppContext } from './app-context.js';
import { pruneProjectHistory } from './history-retention.js';
import { type JobLeases, leaseCheckMs } from './job-lease.js';
import { reembedJob } from './reembed-job.js';

/** How far a maintenance job is, for the CLI's bar and the worker's logs. */
export interface MaintenanceProgress {
  /** The job. */
  job: string;
  /** The project it is working on. */
  project: string;
  /** Items (memories, events) examined so far in this project. */
  done: number;
  /** Items changed so far in this project (merged, deleted, erased, re-embedded). */
  changed: number;
  /** Items the job expects to examine in this project, when it knows. */
  total?: number;
}

/** What a maintenance job gets for one project. */
export interface MaintenanceJobContext {
  /** The project. */
  project: string;
  /** The project's memory. */
  memory: Memory;
  /** The server configuration (retention, models, ...). */
  context: Pick<AppContext, 'config' | 'logger'>;
  /** Where an interrupted run of this job stopped in this project; `undefined` to start over. */
  checkpoint: JsonValue | undefined;
  /** Records how far the job is, so a later `--resume` (or the worker's next run) goes on from there. */
  saveCheckpoint(checkpoint: JsonValue): Promise<void>;
  /** Reports progress; `total` when the job knows how many items there are. */
  progress(done: number, changed: number, total?: number): void;
  /** Only report what would change (jobs that support it, such as `dedupe`). */
  dryRun: boolean;
  /** Receives a line per finding of a dry run (e.g. a duplicate pair). */
  report(line: string): void;
  /** Job-specific settings: `threshold` for `dedupe`, ... */
  settings: Record<string, string>;
}

/** What one project's run of a job did. */
export interface MaintenanceOutcome {
  /** Items examined. */
  done: number;
  /** Items changed (or, in a dry run, that would change). */
  changed: number;
}

/** A maintenance job: runnable once (`engram maintenance <name>`) and on the worker's schedule. */
export interface MaintenanceJob {
  /** Name, in kebab-case: `history-retention`, `dedupe`, `expiry`, `reembed`. */
  name: string;
  /** One line for `engram maintenance --help`. */
  description: string;
  /** Runs the job on one project, resuming from `context.checkpoint` when set. */
  run(context: MaintenanceJobContext): Promise<MaintenanceOutcome>;
}

/** Adds a job to the registry (replacing one of the same name). */
export function registerMaintenanceJob(job: MaintenanceJob): void {
  registry.set(job.name, job);
}

/** The registered jobs, by name. */
export function maintenanceJobs(): ReadonlyMap<string, MaintenanceJob> {
  return registry;
}

/** One page of a paged job: what it examined and changed, and where the next page starts. */
export interface MaintenancePage {
  /** Items examined. */
  done: number;
  /** Items changed. */
  changed: number;
  /** Present when more follow. */
  nextCursor?: string;
  /** How many items there are in all, when known (the first page is enough). */
  total?: number;
}

/**
 * A job that walks a project page by page with a cursor, checkpointing after every page: e.g.
 * `pagedMaintenanceJob('expiry', 'delete expired memories', (memory, { cursor }) =>
 * memory.deleteExpired({ cursor }))`, once the page function answers a {@link MaintenancePage}.
 */
export function pagedMaintenanceJob(
  name: string,
  description: string,
  page: (
    memory: Memory,
    options: { cursor?: string; dryRun: boolean; settings: Record<string, string> },
    context: MaintenanceJobContext,
  ) => Promise<MaintenancePage>,
): MaintenanceJob {
  return {
    name,
    description,
    async run(context) {
      const saved = (context.checkpoint ?? {}) as {
        cursor?: string;
        done?: number;
        changed?: number;
        total?: number;
      };
      let cursor = saved.cursor;
      let done = saved.done ?? 0;
      let changed = saved.changed ?? 0;
      let total = saved.total;
      do {
        const answer = await page(
          context.memory,
          { ...(cursor ? { cursor } : {}), dryRun: context.dryRun, settings: context.settings },
          context,
        );
        done += answer.done;
        changed += answer.changed;
        total = answer.total ?? total;
        cursor = answer.nextCursor;
        context.progress(done, changed, total);
        if (cursor) {
          await context.saveCheckpoint({
            cursor,
            done,
            changed,
            ...(total === undefined ? {} : { total }),
          });
        }
      } while (cursor);
      return { done, changed };
    },
  };
}

function setting(settings: Record<string, string>, name: string, fallback: number): number {
  const raw = settings[name];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0 || value > 1) {
    throw new InvalidArgumentError({
      source: 'server',
      message: `--${name} must be a number from 0 to 1, got "${raw}".`,
    });
  }
  return value;
}

/**
 * `history-retention`: erases history texts past `ENGRAM_HISTORY_TEXT_RETENTION` (or
 * `--older-than`), archiving the events first to `--archive-to` / `ENGRAM_HISTORY_ARCHIVE_TO`.
 * The cutoff is saved before anything is written, so a resumed run archives and erases the same
 * events as the interrupted one.
 */
export const historyRetentionJob: MaintenanceJob = {
  name: 'history-retention',
  description:
    'erase the texts of history events older than ENGRAM_HISTORY_TEXT_RETENTION (--older-than), archiving them first with --archive-to (ENGRAM_HISTORY_ARCHIVE_TO)',
  async run({ project, memory, context, progress, checkpoint, saveCheckpoint, settings }) {
    const olderThan =
      settings['older-than'] === undefined
        ? context.config.historyTextRetentionMs
        : parseDuration(settings['older-than'], '--older-than');
    const saved = (checkpoint ?? {}) as { before?: string };
    if (olderThan === undefined && saved.before === undefined) return { done: 0, changed: 0 };
    const before = saved.before ?? new Date(Date.now() - olderThan!).toISOString();
    await saveCheckpoint({ before });
    const archiveTo = settings['archive-to'] ?? context.config.historyArchiveTo;
    const { erased, archive } = await pruneProjectHistory(memory, project, {
      before,
      ...(archiveTo ? { archiveTo, env: context.config.env } : {}),
    });
    if (archive) {
      context.logger.info(
        { project, events: archive.counts.events, range: archive.range },
        'history archived',
      );
    }
    progress(erased, erased);
    return { done: archive?.counts.events ?? erased, changed: erased };
  },
};

/**
 * `dedupe`: merges exact and near-duplicate memories of each scope (never across scopes)
 * through core's `mergeDuplicates`, with history events; `--dry-run` lists the pairs.
 */
export const dedupeJob: MaintenanceJob = pagedMaintenanceJob(
  'dedupe',
  'merge duplicate memories of each scope: same text, or vectors at least --threshold alike (default 0.95)',
  async (memory, { cursor, dryRun, settings }, context) => {
    const threshold = setting(settings, 'threshold', 0.95);
    const result = await memory.mergeDuplicates({
      threshold,
      dryRun,
      limit: 200,
      ...(cursor ? { cursor } : {}),
    });
    if (dryRun) {
      for (const pair of result.pairs) {
        context.report(
          `${context.project}\t${pair.exact ? 'exact' : pair.similarity.toFixed(3)}\t${pair.keptId} <- ${pair.removedId}\t${JSON.stringify(pair.keptText)} <- ${JSON.stringify(pair.removedText)}`,
        );
      }
    }
    return {
      done: result.scanned,
      changed: result.pairs.length,
      ...(result.nextCursor ? { nextCursor: result.nextCursor } : {}),
      ...(result.total === undefined ? {} : { total: result.total }),
    };
  },
);

/**
 * `expiry`: deletes the memories whose `expiresAt` has passed, with history events (actor
 * `expiry`) and erasure when the server erases; a second run goes on from what is left.
 */
export const expiryJob: MaintenanceJob = {
  name: 'expiry',
  description: 'delete memories whose expiresAt has passed (history events with actor "expiry")',
  async run({ memory, progress }) {
    const outcome = await memory.deleteExpired({
      onProgress: ({ deleted, scanned }) => progress(scanned, deleted),
    });
    return { done: outcome.scanned, changed: outcome.deleted };
  },
};

const registry = new Map<string, MaintenanceJob>(
  [historyRetentionJob, dedupeJob, expiryJob, reembedJob].map((job) => [job.name, job]),
);

/** Where the checkpoint of a job's interrupted run is kept. */
function checkpointPath(dataDir: string, job: string): string {
  return join(dataDir, 'maintenance', `${job}.json`);
}

interface Checkpoint {
  /** Projects finished in this run. */
  finished: string[];
  /** The project in progress and where it stopped. */
  project?: string;
  state?: JsonValue;
  updatedAt: string;
}

async function readCheckpoint(path: string): Promise<Checkpoint | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as Checkpoint;
  } catch {
    return undefined;
  }
}

async function writeCheckpoint(path: string, checkpoint: Checkpoint): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const staging = `${path}.${process.pid}.tmp`;
  await writeFile(staging, JSON.stringify(checkpoint));
  const { rename } = await import('node:fs/promises');
  await rename(staging, path);
}

/** Options of {@link runMaintenanceJob}. */
export interface RunMaintenanceOptions {
  /** The job's name. */
  job: string;
  /** Only this project; default every project with an API key (and `default` in local mode). */
  project?: string;
  /** Go on from the checkpoint of an interrupted run; default: start over. */
  resume?: boolean;
  /** Only report what would change. */
  dryRun?: boolean;
  /** Job settings, e.g. `{ threshold: '0.9' }`. */
  settings?: Record<string, string>;
  /** Receives progress. */
  onProgress?: (progress: MaintenanceProgress) => void;
  /** Receives the findings of a dry run. */
  onReport?: (line: string) => void;
}

/** The projects that may hold memories: those of the API keys (and `default` in local mode). */
export function knownProjects(context: Pick<AppContext, 'config' | 'keys'>): string[] {
  const projects = new Set(context.keys.list().map((key) => key.project));
  if (context.config.insecureLocal) projects.add('default');
  return [...projects].sort();
}

/**
 * Runs a maintenance job over one project or every project, checkpointing as it goes: after
 * every page and every finished project, in `<dataDir>/maintenance/<job>.json` (removed when
 * the run completes). Answers what it did per project.
 */
export async function runMaintenanceJob(
  context: Pick<AppContext, 'config' | 'keys' | 'projects' | 'logger'>,
  options: RunMaintenanceOptions,
): Promise<Record<string, MaintenanceOutcome>> {
  const job = registry.get(options.job);
  if (!job) {
    throw new InvalidArgumentError({
      source: 'server',
      message: `No maintenance job "${options.job}". Jobs: ${[...registry.keys()].join(', ')}.`,
    });
  }
  const path = checkpointPath(context.config.dataDir, job.name);
  const previous = options.resume ? await readCheckpoint(path) : undefined;
  const checkpoint: Checkpoint = previous ?? { finished: [], updatedAt: new Date().toISOString() };
  const projects = options.project ? [options.project] : knownProjects(context);
  const outcomes: Record<string, MaintenanceOutcome> = {};
  for (const project of projects) {
    if (checkpoint.finished.includes(project)) continue;
    const memory = await context.projects.memory(project);
    const resumed = checkpoint.project === project ? checkpoint.state : undefined;
    outcomes[project] = await job.run({
      project,
      memory,
      context,
      checkpoint: resumed,
      async saveCheckpoint(state) {
        Object.assign(checkpoint, { project, state, updatedAt: new Date().toISOString() });
        await writeCheckpoint(path, checkpoint);
      },
      progress: (done, changed, total) =>
        options.onProgress?.({
          job: job.name,
          project,
          done,
          changed,
          ...(total === undefined ? {} : { total }),
        }),
      dryRun: options.dryRun ?? false,
      report: (line) => options.onReport?.(line),
      settings: options.settings ?? {},
    });
    checkpoint.finished.push(project);
    delete checkpoint.project;
    delete checkpoint.state;
    await writeCheckpoint(path, { ...checkpoint, updatedAt: new Date().toISOString() });
  }
  await rm(path, { force: true });
  return outcomes;
}

/** How often each job runs in the worker, in milliseconds. */
export type MaintenanceSchedule = Map<string, number>;

/**
 * The worker's schedule: `ENGRAM_MAINTENANCE_SCHEDULE` (`dedupe=24h,history-retention=1h`),
 * then one variable per job (`ENGRAM_MAINTENANCE_DEDUPE=24h`, `..._HISTORY_RETENTION=1h`;
 * `off` turns a job off). `history-retention` runs hourly when a retention is configured.
 */
export function maintenanceSchedule(
  env: Record<string, string | undefined>,
  config: Pick<AppContext['config'], 'historyTextRetentionMs'>,
): MaintenanceSchedule {
  const schedule: MaintenanceSchedule = new Map();
  if (config.historyTextRetentionMs !== undefined)
    schedule.set('history-retention', 60 * 60 * 1000);
  const set = (job: string, every: string, setting: string) => {
    if (!registry.has(job)) {
      throw new InvalidArgumentError({
        source: 'server',
        message: `${setting} names no maintenance job "${job}". Jobs: ${[...registry.keys()].join(', ')}.`,
      });
    }
    if (every.trim() === 'off') schedule.delete(job);
    else schedule.set(job, parseDuration(every.trim(), setting));
  };
  for (const entry of (env.ENGRAM_MAINTENANCE_SCHEDULE ?? '').split(',')) {
    if (!entry.trim()) continue;
    const [job = '', every = ''] = entry.split('=');
    set(job.trim(), every, 'ENGRAM_MAINTENANCE_SCHEDULE');
  }
  for (const job of registry.keys()) {
    const name = `ENGRAM_MAINTENANCE_${job.toUpperCase().replaceAll('-', '_')}`;
    const every = env[name];
    if (every?.trim()) set(job, every, name);
  }
  return schedule;
}

/** Options of {@link scheduleMaintenance}. */
export interface ScheduleMaintenanceOptions {
  /**
   * Leases shared by every worker: each job then runs once per interval across all of them, and
   * a job whose worker died is taken over. Without them, each process runs every job.
   */
  leases?: JobLeases;
  /** How often a process with leases looks whether a job is due. Default: `leaseCheckMs`. */
  checkMs?: number;
}

/**
 * Runs the scheduled jobs in the worker, one at a time, each resuming an interrupted run;
 * logs progress at most every 10 s and a line per finished run, and, given a registry, counts
 * runs and items in `engram_maintenance_runs_total{job,outcome}` and
 * `engram_maintenance_items_total{job,kind}` (kind `examined` or `changed`). With leases, a
 * job runs once per interval across every worker. Returns the function that stops it.
 */
export function scheduleMaintenance(
  context: Pick<AppContext, 'config' | 'keys' | 'projects' | 'logger'>,
  schedule: MaintenanceSchedule,
  registry?: Registry,
  options: ScheduleMaintenanceOptions = {},
): () => void {
  const registers = registry ? [registry] : [];
  const runs = new Counter({
    name: 'engram_maintenance_runs_total',
    help: 'Maintenance job runs, by job and outcome (done, failed).',
    labelNames: ['job', 'outcome'],
    registers,
  });
  const items = new Counter({
    name: 'engram_maintenance_items_total',
    help: 'Items maintenance jobs examined and changed.',
    labelNames: ['job', 'kind'],
    registers,
  });
  const timers: NodeJS.Timeout[] = [];
  let chain = Promise.resolve();
  const runJob = async (job: string) => {
    const started = performance.now();
    let lastLog = started;
    try {
      const outcomes = await runMaintenanceJob(context, {
        job,
        resume: true,
        onProgress: (progress) => {
          const now = performance.now();
          if (now - lastLog < 10_000) return;
          lastLog = now;
          context.logger.info(progress, 'maintenance progress');
        },
      });
      for (const outcome of Object.values(outcomes)) {
        items.inc({ job, kind: 'examined' }, outcome.done);
        items.inc({ job, kind: 'changed' }, outcome.changed);
      }
      runs.inc({ job, outcome: 'done' });
      context.logger.info(
        { job, outcomes, durationMs: Math.round(performance.now() - started) },
        'maintenance done',
      );
    } catch (error) {
      runs.inc({ job, outcome: 'failed' });
      context.logger.error({ err: error, job }, 'maintenance failed');
    }
  };
  const { leases } = options;
  // A job waits in the chain at most once: frequent lease checks must not pile up behind a long run.
  const queued = new Set<string>();
  const run = (job: string, every: number) => {
    if (queued.has(job)) return;
    queued.add(job);
    chain = chain.then(async () => {
      queued.delete(job);
      if (!leases) return runJob(job);
      const outcome = await leases
        .runDue(`maintenance:${job}`, { everyMs: every }, () => runJob(job))
        .catch((error: unknown) => {
          context.logger.error({ err: error, job }, 'maintenance lease failed');
        });
      if (outcome === 'held') context.logger.debug({ job }, 'maintenance running elsewhere');
    });
  };
  for (const [job, every] of schedule) {
    const period = leases ? (options.checkMs ?? leaseCheckMs(every, context.config.env)) : every;
    const timer = setInterval(() => run(job, every), period);
    timer.unref();
    timers.push(timer);
    run(job, every);
  }
  return () => {
    for (const timer of timers) clearInterval(timer);
  };
}
