import type { AppContext } from './app-context.js';
import { knownProjects } from './maintenance.js';

/** How often the server erases history texts past the retention. */
export const historyPruneIntervalMs = 60 * 60 * 1000;

/**
 * Erases the texts of history events older than the configured retention in every project;
 * returns how many events each project's history erased. Does nothing without a retention.
 */
export async function pruneProjectHistories(
  context: Pick<AppContext, 'config' | 'keys' | 'projects' | 'logger'>,
): Promise<Record<string, number>> {
  const erased: Record<string, number> = {};
  if (context.config.historyTextRetentionMs === undefined) return erased;
  for (const project of knownProjects(context)) {
    try {
      const memory = await context.projects.memory(project);
      erased[project] = (await memory.pruneHistory()).erased;
    } catch (error) {
      // One unreachable project must not keep the others' texts.
      context.logger.error({ err: error, project }, 'history retention failed');
    }
  }
  return erased;
}

/**
 * Runs {@link pruneProjectHistories} now and then every hour, while the process runs; returns
 * the function that stops it. Does nothing without a retention.
 */
export function scheduleHistoryRetention(
  context: Pick<AppContext, 'config' | 'keys' | 'projects' | 'logger'>,
  intervalMs = historyPruneIntervalMs,
): () => void {
  if (context.config.historyTextRetentionMs === undefined) return () => {};
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
