import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiKeyStore, apiKeyStorePath, openApiKeyStore } from './api-keys.js';
import { readArchivedHistory } from './backup-storage.js';
import {
  maintenanceSchedule,
  pagedMaintenanceJob,
  registerMaintenanceJob,
  runMaintenanceJob,
  scheduleMaintenance,
} from './maintenance.js';
import { progressBar } from './maintenance-command.js';
import { createServerMetrics } from './metrics.js';
import { createProjectMemories, type ProjectMemories } from './project-memories.js';
import { loadServerConfig, type ServerConfig } from './server-config.js';

let directory: string;
let config: ServerConfig;
let keys: ApiKeyStore;
let projects: ProjectMemories;
const logger = pino({ level: 'silent' });

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), 'engram-maintenance-'));
  config = loadServerConfig(
    { dataDir: directory },
    { ENGRAM_LLM: 'none', ENGRAM_EMBEDDER: 'hash', ENGRAM_HISTORY_TEXT_RETENTION: '1h' },
  );
  keys = openApiKeyStore(apiKeyStorePath(directory));
  keys.create({ project: 'alpha' });
  keys.create({ project: 'beta' });
  projects = createProjectMemories(config, createServerMetrics());
  const alpha = await projects.memory('alpha');
  await alpha.import([
    { userId: 'u', text: 'Likes green tea' },
    { userId: 'u', text: 'Likes green tea' },
    { userId: 'v', text: 'Likes green tea' },
  ]);
  const beta = await projects.memory('beta');
  await beta.import([{ userId: 'u', text: 'Plays go' }]);
});

afterAll(async () => {
  await projects.close();
  keys.close();
  rmSync(directory, { recursive: true, force: true });
});

describe('maintenance jobs', () => {
  it('dedupe --dry-run lists the pairs of each project and changes nothing; a run merges them', async () => {
    const lines: string[] = [];
    const progress: unknown[] = [];
    const context = { config, keys, projects, logger };
    const dry = await runMaintenanceJob(context, {
      job: 'dedupe',
      dryRun: true,
      onReport: (line) => lines.push(line),
      onProgress: (update) => progress.push(update),
    });
    expect(progress).toContainEqual({
      job: 'dedupe',
      project: 'alpha',
      done: 3,
      changed: 1,
      total: 3,
    });
    expect(progressBar(1, 4, 8)).toBe('[##------]  25%');
    expect(dry).toEqual({ alpha: { done: 3, changed: 1 }, beta: { done: 1, changed: 0 } });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^alpha\texact\t/);
    const run = await runMaintenanceJob(context, { job: 'dedupe', project: 'alpha' });
    expect(run).toEqual({ alpha: { done: 3, changed: 1 } });
    const alpha = await projects.memory('alpha');
    expect((await alpha.list({ userId: 'u' })).results).toHaveLength(1);
    expect((await alpha.list({ userId: 'v' })).results).toHaveLength(1);
  });

  it('an interrupted run resumes from its checkpoint with --resume', async () => {
    const pages: Array<string | undefined> = [];
    let failOnce = true;
    registerMaintenanceJob(
      pagedMaintenanceJob('test-paged', 'pages of three', async (_memory, { cursor }) => {
        pages.push(cursor);
        const at = Number(cursor ?? 0);
        if (at === 3 && failOnce) {
          failOnce = false;
          throw new Error('interrupted');
        }
        return { done: 3, changed: 1, ...(at < 6 ? { nextCursor: String(at + 3) } : {}) };
      }),
    );
    const context = { config, keys, projects, logger };
    await expect(
      runMaintenanceJob(context, { job: 'test-paged', project: 'alpha' }),
    ).rejects.toThrow('interrupted');
    const resumed = await runMaintenanceJob(context, {
      job: 'test-paged',
      project: 'alpha',
      resume: true,
    });
    expect(pages).toEqual([undefined, '3', '3', '6']);
    expect(resumed).toEqual({ alpha: { done: 9, changed: 3 } });
  });

  it('history-retention --archive-to archives each project before erasing its texts', async () => {
    const archiveTo = join(directory, 'archive');
    await new Promise((resolve) => setTimeout(resolve, 5));
    const outcomes = await runMaintenanceJob(
      { config, keys, projects, logger },
      { job: 'history-retention', settings: { 'archive-to': archiveTo, 'older-than': '0s' } },
    );
    expect(outcomes.beta).toEqual({ done: 1, changed: 1 });
    expect(outcomes.alpha!.changed).toBeGreaterThanOrEqual(3);
    const archived = await readArchivedHistory(join(archiveTo, 'beta'));
    expect(archived.map((event) => [event.event, event.newText])).toEqual([['ADD', 'Plays go']]);
    const beta = await projects.memory('beta');
    const [memory] = (await beta.list({ userId: 'u' })).results;
    expect((await beta.history(memory!.id))[0]!.newText).toBeNull();
    // Nothing is left to archive or erase.
    const again = await runMaintenanceJob(
      { config, keys, projects, logger },
      { job: 'history-retention', settings: { 'archive-to': archiveTo, 'older-than': '0s' } },
    );
    expect(again.beta).toEqual({ done: 0, changed: 0 });
  });

  it('names unknown jobs and reads the schedule from the environment', () => {
    expect(() => maintenanceSchedule({ ENGRAM_MAINTENANCE_SCHEDULE: 'nope=1h' }, config)).toThrow(
      /no maintenance job "nope"/,
    );
    const schedule = maintenanceSchedule(
      { ENGRAM_MAINTENANCE_SCHEDULE: 'dedupe=24h', ENGRAM_MAINTENANCE_HISTORY_RETENTION: 'off' },
      config,
    );
    expect(Object.fromEntries(schedule)).toEqual({ dedupe: 24 * 60 * 60 * 1000 });
    expect(Object.fromEntries(maintenanceSchedule({}, config))).toEqual({
      'history-retention': 60 * 60 * 1000,
    });
  });
  it('the worker runs a scheduled job at once, logs it and counts it in its metrics', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const recording = pino(
      { level: 'info' },
      { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) },
    );
    const registry = new Registry();
    const stop = scheduleMaintenance(
      { config, keys, projects, logger: recording },
      new Map([['dedupe', 60 * 60 * 1000]]),
      registry,
    );
    try {
      for (
        let poll = 0;
        poll < 400 && !lines.some((line) => line.msg === 'maintenance done');
        poll++
      ) {
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      expect(lines.find((line) => line.msg === 'maintenance done')).toMatchObject({
        job: 'dedupe',
      });
      expect(await registry.metrics()).toMatch(
        /engram_maintenance_runs_total\{job="dedupe",outcome="done"\} 1/,
      );
    } finally {
      stop();
    }
  });
});
