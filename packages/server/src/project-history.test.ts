import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Environment } from '@engram/core';
import { afterAll, describe, expect, it } from 'vitest';
import type { AppContext } from './app-context.js';
import { createServerMetrics } from './metrics.js';
import { createProjectMemories, type ProjectMemories } from './project-memories.js';
import { projectHistory } from './route-kit.js';
import { loadServerConfig } from './server-config.js';

const directories: string[] = [];
const opened: ProjectMemories[] = [];
afterAll(async () => {
  for (const projects of opened) await projects.close();
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});

function temporaryDirectory() {
  const directory = mkdtempSync(join(tmpdir(), 'engram-project-history-'));
  directories.push(directory);
  return directory;
}

/** Project engines of a data directory (a fresh one by default), configured by `env`. */
function projectsOf(env: Environment, dataDir = temporaryDirectory()) {
  const config = loadServerConfig(
    { dataDir },
    { ENGRAM_LLM: 'none', ENGRAM_EMBEDDER: 'hash', ...env },
  );
  const projects = createProjectMemories(config, createServerMetrics());
  opened.push(projects);
  return { dataDir, projects, context: { projects } as AppContext };
}

describe('history of a project', () => {
  it('with one store shared by every project, a project reads the history of its deleted memory and another project does not', async () => {
    const { projects, context } = projectsOf({
      ENGRAM_VECTOR_STORE: 'sqlite',
      ENGRAM_VECTOR_STORE_URL: 'shared',
    });
    const alpha = await projects.memory('alpha');
    const [added] = (await alpha.add('likes tea', { userId: 'u', infer: false })).results;
    await alpha.delete(added!.id);
    expect((await alpha.history(added!.id)).map((event) => event.namespace)).toEqual([
      'p_alpha',
      'p_alpha',
    ]);
    const events = await projectHistory(context, 'alpha', added!.id);
    expect(events.map((event) => event.event)).toEqual(['ADD', 'DELETE']);
    expect(events[0]).not.toHaveProperty('namespace');
    await expect(projectHistory(context, 'beta', added!.id)).rejects.toMatchObject({
      status: 404,
    });
  });
});

describe('which history store the server uses', () => {
  it('refuses history in process memory, naming the setting to change', () => {
    const dataDir = temporaryDirectory();
    expect(() => loadServerConfig({ dataDir }, { ENGRAM_HISTORY_STORE: 'memory' })).toThrow(
      /ENGRAM_HISTORY_STORE=memory .*lost on restart/,
    );
    const file = join(dataDir, 'engram.yaml');
    writeFileSync(file, 'historyStore:\n  provider: memory\n');
    expect(() => loadServerConfig({ dataDir, configFile: file }, {})).toThrow(
      /historyStore\.provider/,
    );
  });

  it('uses the embedded store of each project, and says so', async () => {
    const { projects } = projectsOf({});
    expect((await projects.describe()).historyStore).toBe(
      "the vector store's own (sqlite, one file per project)",
    );
    const memory = await projects.memory('alpha');
    expect(await memory.describeHistory()).toEqual({ provider: 'sqlite', durable: true });
  });

  it('with ENGRAM_HISTORY_STORE=sqlite, keeps a history file per project that outlives the process', async () => {
    const env = { ENGRAM_HISTORY_STORE: 'sqlite' };
    const first = projectsOf(env);
    expect((await first.projects.describe()).historyStore).toBe(
      `sqlite, one file per project in ${join(first.dataDir, 'history')}`,
    );
    const alpha = await first.projects.memory('alpha');
    const [added] = (await alpha.add('likes tea', { userId: 'u', infer: false })).results;
    await first.projects.close();
    expect(existsSync(join(first.dataDir, 'history', 'alpha.db'))).toBe(true);

    const second = projectsOf(env, first.dataDir);
    const events = await projectHistory(second.context, 'alpha', added!.id);
    expect(events.map((event) => [event.event, event.newText])).toEqual([['ADD', 'likes tea']]);
    await expect(projectHistory(second.context, 'beta', added!.id)).rejects.toMatchObject({
      status: 404,
    });
  });

  it('with ENGRAM_HISTORY_STORE=sqlite and a URL, keeps one history file at that path', async () => {
    const path = join(temporaryDirectory(), 'audit.db');
    const { projects, context } = projectsOf({
      ENGRAM_HISTORY_STORE: 'sqlite',
      ENGRAM_HISTORY_STORE_URL: path,
    });
    expect((await projects.describe()).historyStore).toBe(
      `sqlite, one file for every project: ${path}`,
    );
    const alpha = await projects.memory('alpha');
    const [added] = (await alpha.add('likes tea', { userId: 'u', infer: false })).results;
    expect(existsSync(path)).toBe(true);
    expect(await projectHistory(context, 'alpha', added!.id)).toHaveLength(1);
    await expect(projectHistory(context, 'beta', added!.id)).rejects.toMatchObject({
      status: 404,
    });
  });
});
