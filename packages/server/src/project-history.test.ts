import { mkdtempSync, rmSync } from 'node:fs';
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

/** Project engines of a fresh data directory, configured by `env`. */
function projectsOf(env: Environment) {
  const dataDir = mkdtempSync(join(tmpdir(), 'engram-project-history-'));
  directories.push(dataDir);
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
