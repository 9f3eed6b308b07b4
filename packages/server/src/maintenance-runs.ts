import { randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { AppContext } from './app-context.js';
import { jobError } from './job-queue.js';
import { runMaintenanceJob } from './maintenance.js';

/** Where a maintenance run started over the API is. */
export type MaintenanceRunState = 'running' | 'completed' | 'failed' | 'interrupted';

/** A maintenance run started over the API, as `GET /v1/admin/jobs/{id}` reports it. */
export interface MaintenanceRun {
  /** The run's id. */
  id: string;
  /** The job, e.g. `reembed`. */
  job: string;
  /** The project it works on. */
  project: string;
  /** `interrupted`: the process running it stopped (crash, restart); start the job again to resume. */
  state: MaintenanceRunState;
  /** Items done so far (for `reembed`: memories re-embedded in the current phase). */
  done: number;
  /** Items in all, once known. */
  total?: number;
  /** Job settings, e.g. `{ embedder: 'local' }`. */
  settings: Record<string, string>;
  /** What the job said on the way (e.g. that it resumed an interrupted run). */
  messages: string[];
  /** ISO-8601 start time. */
  startedAt: string;
  /** ISO-8601 time of the last progress. */
  updatedAt: string;
  /** ISO-8601 end time, once completed or failed. */
  finishedAt?: string;
  /** Why it failed. */
  error?: { code: string; message: string };
  /** The process running it: `<host>:<pid>`. */
  runner: string;
}

const runner = `${hostname()}:${process.pid}`;
const writeEveryMs = 250;

function runsDirectory(dataDir: string): string {
  return join(dataDir, 'maintenance', 'runs');
}

function writeRun(dataDir: string, run: MaintenanceRun): void {
  const directory = runsDirectory(dataDir);
  mkdirSync(directory, { recursive: true });
  const path = join(directory, `${run.id}.json`);
  const staging = `${path}.${process.pid}.tmp`;
  writeFileSync(staging, JSON.stringify(run));
  renameSync(staging, path);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A run left `running` by a process of this machine that is gone was interrupted. */
function withLiveness(run: MaintenanceRun, active: ReadonlySet<string>): MaintenanceRun {
  if (run.state !== 'running' || active.has(run.id)) return run;
  const [host, pid] = [
    run.runner.slice(0, run.runner.lastIndexOf(':')),
    run.runner.split(':').pop(),
  ];
  if (host === hostname() && (Number(pid) === process.pid || !isAlive(Number(pid)))) {
    return { ...run, state: 'interrupted' };
  }
  return run;
}

/**
 * Maintenance runs started over the API: each runs in the process that received the request,
 * one job per project at a time, its state kept in `<dataDir>/maintenance/runs/<id>.json` so
 * that every process of the machine can report it, and so that a run whose process died shows
 * as `interrupted` (starting the job again resumes it from its checkpoint).
 */
export function createMaintenanceRuns(
  context: Pick<AppContext, 'config' | 'keys' | 'projects' | 'logger'>,
) {
  const { dataDir } = context.config;
  const active = new Map<string, Promise<void>>();

  function read(id: string): MaintenanceRun | undefined {
    if (!/^[A-Za-z0-9-]{1,128}$/.test(id)) return undefined;
    try {
      const run = JSON.parse(
        readFileSync(join(runsDirectory(dataDir), `${id}.json`), 'utf8'),
      ) as MaintenanceRun;
      return withLiveness(run, new Set(active.keys()));
    } catch {
      return undefined;
    }
  }

  /** The run of `job` under way in `project`, in any process of this machine. */
  function running(job: string, project: string): MaintenanceRun | undefined {
    let names: string[];
    try {
      names = readdirSync(runsDirectory(dataDir)).filter((name) => name.endsWith('.json'));
    } catch {
      return undefined;
    }
    for (const name of names) {
      const run = read(name.slice(0, -'.json'.length));
      if (run?.state === 'running' && run.job === job && run.project === project) return run;
    }
    return undefined;
  }

  return {
    /** A run of the project, or `undefined` (also for other projects' runs). */
    get(id: string, project: string): MaintenanceRun | undefined {
      const run = read(id);
      return run?.project === project ? run : undefined;
    },

    /**
     * Starts `job` on `project` unless one is under way (then answers that one with
     * `started: false`), resuming an interrupted run from its checkpoint.
     */
    start(
      job: string,
      project: string,
      settings: Record<string, string>,
    ): { run: MaintenanceRun; started: boolean } {
      const under = running(job, project);
      if (under) return { run: under, started: false };
      const now = new Date().toISOString();
      const run: MaintenanceRun = {
        id: randomUUID(),
        job,
        project,
        state: 'running',
        done: 0,
        settings,
        messages: [],
        startedAt: now,
        updatedAt: now,
        runner,
      };
      writeRun(dataDir, run);
      let lastWrite = 0;
      const work = runMaintenanceJob(context, {
        job,
        project,
        settings,
        onProgress: ({ done, total }) => {
          Object.assign(run, { done, updatedAt: new Date().toISOString() });
          if (total !== undefined) run.total = total;
          const at = Date.now();
          if (at - lastWrite >= writeEveryMs) {
            lastWrite = at;
            writeRun(dataDir, run);
          }
        },
        onReport: (line) => run.messages.push(line.replace(/^[^\t]*\t/, '')),
      })
        .then((outcomes) => {
          const outcome = outcomes[project];
          Object.assign(run, { state: 'completed', done: outcome?.done ?? run.done });
          run.total ??= run.done;
        })
        .catch((error: unknown) => {
          Object.assign(run, { state: 'failed', error: jobError(error) });
          context.logger.error({ err: error, job, project, runId: run.id }, 'maintenance failed');
        })
        .finally(() => {
          run.finishedAt = run.updatedAt = new Date().toISOString();
          writeRun(dataDir, run);
          active.delete(run.id);
        });
      active.set(run.id, work);
      return { run: { ...run }, started: true };
    },

    /** Waits for the runs of this process (for shutdown and tests). */
    async settle(): Promise<void> {
      await Promise.all(active.values());
    },
  };
}

/** The runs of {@link createMaintenanceRuns}. */
export type MaintenanceRuns = ReturnType<typeof createMaintenanceRuns>;
