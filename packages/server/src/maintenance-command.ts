import { pino } from 'pino';
import { apiKeyStorePath, openApiKeyStore } from './api-keys.js';
import {
  type MaintenanceOutcome,
  type RunMaintenanceOptions,
  runMaintenanceJob,
} from './maintenance.js';
import { createServerMetrics } from './metrics.js';
import { createProjectMemories } from './project-memories.js';
import type { ServerConfig } from './server-config.js';

/** Options of {@link runMaintenanceCommand}. */
export interface MaintenanceCommandOptions
  extends Omit<RunMaintenanceOptions, 'onProgress' | 'onReport'> {
  /** Receives the findings of a dry run, one per line. */
  stdout: { write(text: string): unknown };
  /** Receives the progress line. */
  stderr: { write(text: string): unknown; isTTY?: boolean };
}

/** `[#####---------------]  25%` */
export function progressBar(done: number, total: number, width = 20): string {
  const share = Math.min(1, total === 0 ? 1 : done / total);
  const filled = Math.round(share * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.round(share * 100)).padStart(3)}%`;
}

/**
 * `engram maintenance <job>`: runs a job once with the server's configuration, a progress line on
 * stderr (redrawn in place on a terminal, at most one line per second otherwise).
 */
export async function runMaintenanceCommand(
  config: ServerConfig,
  options: MaintenanceCommandOptions,
): Promise<Record<string, MaintenanceOutcome>> {
  const { stdout, stderr, ...run } = options;
  const keys = openApiKeyStore(apiKeyStorePath(config.dataDir));
  const projects = createProjectMemories(config, createServerMetrics());
  const logger = pino({ level: 'warn' }, pino.destination(2));
  let last = 0;
  let drawn = false;
  try {
    return await runMaintenanceJob(
      { config, keys, projects, logger },
      {
        ...run,
        onProgress: ({ job, project, done, changed, total }) => {
          const now = Date.now();
          if (now - last < (stderr.isTTY ? 100 : 1000)) return;
          last = now;
          const counts = `${done} examined, ${changed} ${run.dryRun ? 'to change' : 'changed'}`;
          const line = `${job} ${project} ${total ? `${progressBar(done, total)} ` : ''}${counts}`;
          stderr.write(stderr.isTTY ? `\r\x1b[2K${line}` : `${line}\n`);
          drawn = true;
        },
        onReport: (line) => stdout.write(`${line}\n`),
      },
    );
  } finally {
    if (drawn && stderr.isTTY) stderr.write('\n');
    await projects.close();
    keys.close();
  }
}
