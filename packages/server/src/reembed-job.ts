import {
  embedderIdentity,
  fileReembedState,
  InvalidArgumentError,
  readEmbedderRecords,
  resolveEmbedderFromEnvironment,
} from '@engram/core';
import type { MaintenanceJob } from './maintenance.js';
import { projectCollection } from './project-memories.js';

function batchSizeOf(settings: Record<string, string>): number | undefined {
  const raw = settings['batch-size'];
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 10_000) {
    throw new InvalidArgumentError({
      source: 'server',
      message: `--batch-size must be an integer from 1 to 10000, got "${raw}".`,
    });
  }
  return value;
}

/**
 * `reembed`: computes every memory's vector of each project again with the embedder named by
 * `--embedder` (default the configured `ENGRAM_EMBEDDER`), in batches, through `Memory.reembed`:
 * reads keep working meanwhile, and a run stopped by a crash goes on from its last batch when run
 * again with the same embedder. A project already recorded with that embedder and with no
 * re-embedding under way is left alone, so the job can stay on the worker's schedule.
 */
export const reembedJob: MaintenanceJob = {
  name: 'reembed',
  description:
    "compute every memory's vector again with --embedder (default ENGRAM_EMBEDDER); resumes an interrupted run; skips projects already recorded with it",
  async run({ project, memory, context, settings, progress, report }) {
    const { env, dataDir } = context.config;
    const name = (settings.embedder ?? env.ENGRAM_EMBEDDER ?? '').trim();
    if (!name) {
      throw new InvalidArgumentError({
        source: 'server',
        message:
          'Name the embedder to re-embed with: --embedder local (or hash, <provider>:<model>), or set ENGRAM_EMBEDDER.',
      });
    }
    const batchSize = batchSizeOf(settings);
    const embedder = await resolveEmbedderFromEnvironment(
      { ...env, ENGRAM_EMBEDDER: name },
      { importModule: (specifier) => import(specifier) },
    );
    try {
      const collection = projectCollection(project);
      const record = readEmbedderRecords(dataDir)[collection];
      const pending = fileReembedState(dataDir, collection).load();
      if (
        !pending &&
        settings.force !== 'true' &&
        record &&
        `${record.provider}:${record.modelId}` === embedderIdentity(embedder) &&
        record.dimensions === embedder.dimensions
      ) {
        return { done: 0, changed: 0 };
      }
      let said = false;
      const result = await memory.reembed({
        embedder,
        embedderName: name,
        ...(batchSize === undefined ? {} : { batchSize }),
        onProgress: (step) => {
          if (step.resumed && !said) {
            said = true;
            report(
              `${project}\tresuming the interrupted re-embedding (${step.phase}: ${step.processed} of ${step.total} done)`,
            );
          }
          progress(step.processed, step.processed, step.total);
        },
      });
      return { done: result.reembedded, changed: result.reembedded };
    } finally {
      await (embedder as { close?: () => Promise<void> }).close?.();
    }
  },
};
