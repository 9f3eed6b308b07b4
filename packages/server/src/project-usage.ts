import type { OperationUsage } from '@engram/core';

/** What one project used since the process started: its calls, and what they cost. */
export interface ProjectUsage extends OperationUsage {
  /** Adds answered (synchronous or as queue jobs run by this process). */
  adds: number;
  /** Memories created by add and import. */
  memoriesAdded: number;
  /** Searches answered. */
  searches: number;
}

/**
 * Usage per project, kept in this process beside the Prometheus metrics (which carry no project
 * label unless configured to). Counts start at zero when the process starts.
 */
export interface ProjectUsageTally {
  /** ISO-8601 time the counts started. */
  readonly since: string;
  /** Counts an add and what it cost. */
  recordAdd(project: string, memoriesAdded: number, usage: OperationUsage | undefined): void;
  /** Counts memories created by an import. */
  recordImport(project: string, memoriesAdded: number): void;
  /** Counts a search and what it cost. */
  recordSearch(project: string, usage: OperationUsage | undefined): void;
  /** The project's counts (zeros for a project with none). */
  get(project: string): ProjectUsage;
}

const empty = (): ProjectUsage => ({
  adds: 0,
  memoriesAdded: 0,
  searches: 0,
  llmCalls: 0,
  inputTokens: 0,
  outputTokens: 0,
  embeddingCalls: 0,
  embeddingTokens: 0,
  rerankCalls: 0,
  rerankTokens: 0,
  rerankSearchUnits: 0,
});

/** Creates an empty tally. */
export function createProjectUsageTally(now: () => Date = () => new Date()): ProjectUsageTally {
  const byProject = new Map<string, ProjectUsage>();
  const entry = (project: string) => {
    let usage = byProject.get(project);
    if (!usage) {
      usage = empty();
      byProject.set(project, usage);
    }
    return usage;
  };
  const addCosts = (usage: ProjectUsage, cost: OperationUsage | undefined) => {
    if (!cost) return;
    for (const key of Object.keys(cost) as Array<keyof OperationUsage>) {
      if (typeof cost[key] === 'number') usage[key] += cost[key];
    }
  };
  return {
    since: now().toISOString(),
    recordAdd(project, memoriesAdded, cost) {
      const usage = entry(project);
      usage.adds += 1;
      usage.memoriesAdded += memoriesAdded;
      addCosts(usage, cost);
    },
    recordImport(project, memoriesAdded) {
      entry(project).memoriesAdded += memoriesAdded;
    },
    recordSearch(project, cost) {
      const usage = entry(project);
      usage.searches += 1;
      addCosts(usage, cost);
    },
    get(project) {
      return { ...(byProject.get(project) ?? empty()) };
    },
  };
}
