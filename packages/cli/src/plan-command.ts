import { readFileSync } from 'node:fs';
import {
  formatPlan,
  loadFigures,
  loadPrices,
  mergePrices,
  type Plan,
  type PriceOverrides,
  parseCount,
  planDeployment,
} from '@engram/capacity';
import { usageError } from './parse-options.js';

/** The flags of `engram plan`, as commander gives them. */
export interface PlanFlags {
  users?: string;
  memoriesPerUser?: string;
  memories?: string;
  addsPerDay?: string;
  searchesPerSecond?: string;
  dimensions?: string;
  backend?: string;
  llm?: string;
  embedder?: string;
  peakFactor?: string;
  coresPerReplica?: string;
  nodeMemory?: string;
  tokensPerAdd?: string;
  workerConcurrency?: string;
  cloud?: string;
  prices?: string;
  figures?: string;
}

function count(flag: string, value: string | undefined, fallback?: number): number {
  if (value === undefined) {
    if (fallback === undefined) usageError(`${flag} is required, e.g. ${flag} 10k.`);
    return fallback;
  }
  const parsed = parseCount(value);
  if (!Number.isFinite(parsed) || parsed < 0) {
    usageError(`${flag} must be a number such as 500, 10k or 1M, got "${value}".`);
  }
  return parsed;
}

function positive(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed <= 0) {
    usageError(`${flag} must be a positive number, got "${value}".`);
  }
  return parsed;
}

function readJson(flag: string, path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    usageError(`${flag} ${path}: cannot read it as JSON (${(error as Error).message}).`, error);
  }
}

/** Builds the plan `engram plan` prints from its flags. */
export function planFromFlags(flags: PlanFlags): Plan {
  const users = flags.users === undefined ? undefined : count('--users', flags.users);
  let memories: number;
  if (flags.memories !== undefined) {
    memories = count('--memories', flags.memories);
  } else if (users !== undefined) {
    memories = users * count('--memories-per-user', flags.memoriesPerUser, 100);
  } else {
    usageError('Give --memories (e.g. 1M) or --users with --memories-per-user (default 100).');
  }
  if (memories < 1) usageError('--memories must be at least 1.');
  const figuresFile = loadFigures(flags.figures);
  if (!Array.isArray(figuresFile.figures)) usageError('--figures: the file has no "figures" list.');
  const overrides =
    flags.prices === undefined ? undefined : (readJson('--prices', flags.prices) as PriceOverrides);
  const prices = mergePrices(loadPrices(), overrides);
  return planDeployment(
    {
      memories,
      ...(users === undefined ? {} : { users }),
      addsPerDay: count('--adds-per-day', flags.addsPerDay, 0),
      searchesPerSecond: positive('--searches-per-second', flags.searchesPerSecond, 1),
      dimensions: Math.round(positive('--dimensions', flags.dimensions, 1536)),
      backend: flags.backend ?? 'sqlite',
      llm: flags.llm ?? 'openai:gpt-4.1-mini',
      embedder: flags.embedder ?? 'openai:text-embedding-3-small',
      peakFactor: positive('--peak-factor', flags.peakFactor, 3),
      coresPerReplica: Math.round(positive('--cores-per-replica', flags.coresPerReplica, 2)),
      nodeMemoryGiB: positive('--node-memory', flags.nodeMemory, 64),
      workerConcurrency: Math.round(positive('--worker-concurrency', flags.workerConcurrency, 2)),
      ...(flags.tokensPerAdd === undefined
        ? {}
        : { tokensPerAdd: positive('--tokens-per-add', flags.tokensPerAdd, 1) }),
      cloud: flags.cloud ?? 'aws',
    },
    figuresFile.figures,
    prices,
  );
}

export { formatPlan };
