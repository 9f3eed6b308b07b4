import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  checkAgainstMeasurement,
  extractFigures,
  type Figure,
  type FiguresFile,
  formatCount,
  formatPlan,
  loadPrices,
  planDeployment,
  type Workload,
} from '@engram/capacity';
import type { BenchContext, WorkloadReport } from './context.js';
import { markdownTable, replaceSection } from './report.js';

/** Where the capacity model reads its figures from, relative to the repository root. */
export const figuresPath = join('packages', 'capacity', 'data', 'figures.json');

/** Re-reads every figure out of docs/benchmarks.md into the capacity model's figures file. */
export function writeFigures(root: string, documentPath: string): Figure[] {
  const figures = extractFigures(readFileSync(documentPath, 'utf8'));
  const file: FiguresFile = { formatVersion: 1, source: 'docs/benchmarks.md', figures };
  writeFileSync(join(root, figuresPath), `${JSON.stringify(file, null, 1)}\n`);
  return figures;
}

/** The usual tiers of docs/scaling.md: 100 memories per user, 10 adds per user per day. */
export const tiers: { label: string; workload: Workload }[] = [
  { label: '10K', workload: tier(10_000, 1, 'sqlite') },
  { label: '100K', workload: tier(100_000, 10, 'sqlite') },
  { label: '1M', workload: tier(1_000_000, 100, 'sqlite') },
  { label: '10M', workload: { ...tier(10_000_000, 500, 'pgvector'), workerConcurrency: 8 } },
  { label: '100M', workload: { ...tier(100_000_000, 2_000, 'qdrant'), workerConcurrency: 16 } },
];

function tier(memories: number, searchesPerSecond: number, backend: string): Workload {
  return {
    memories,
    addsPerDay: (memories / 100) * 10,
    searchesPerSecond,
    dimensions: 1536,
    backend,
    llm: 'openai:gpt-4.1-mini',
    embedder: 'openai:text-embedding-3-small',
  };
}

function planCommand(workload: Workload): string {
  return [
    'engram plan',
    `--memories ${formatCount(workload.memories)}`,
    `--adds-per-day ${formatCount(workload.addsPerDay)}`,
    `--searches-per-second ${workload.searchesPerSecond}`,
    `--backend ${workload.backend}`,
    ...(workload.workerConcurrency === undefined
      ? []
      : [`--worker-concurrency ${workload.workerConcurrency}`]),
  ].join(' ');
}

/** The tiers section of docs/scaling.md: each tier's `engram plan` command and output. */
export function tiersMarkdown(figures: readonly Figure[]): string {
  const prices = loadPrices();
  const rows: string[][] = [];
  const outputs: string[] = [];
  for (const { label, workload } of tiers) {
    const plan = planDeployment(workload, figures, prices);
    const t = plan.totals;
    rows.push([
      label,
      workload.backend,
      String(workload.searchesPerSecond),
      formatCount(workload.addsPerDay),
      workload.backend === 'sqlite'
        ? `1 node, ${t.apiCores} process${t.apiCores === 1 ? '' : 'es'}`
        : `${t.apiReplicas} x 2 cores`,
      String(t.workers),
      `${t.storeDiskGiB.toFixed(1)} GiB`,
      `${t.storeIndexRamGiB.toFixed(1)} GiB`,
      t.modelCostPerMonth === null ? '?' : t.modelCostPerMonth.toFixed(0),
      t.computeCostPerMonth === null ? '?' : t.computeCostPerMonth.toFixed(0),
    ]);
    outputs.push(
      `### ${label} memories\n\n\`\`\`\n$ ${planCommand(workload)}\n${formatPlan(plan)}\n\`\`\``,
    );
  }
  const table = markdownTable(
    [
      'tier',
      'store',
      'searches/s',
      'adds/day',
      'API',
      'workers',
      'store disk',
      'index RAM',
      `models ${prices.currency}/month`,
      `compute ${prices.currency}/month`,
    ],
    rows,
  );
  return `${table}\n\nPrices: ${prices.note} (as of ${prices.asOf}).\n\n${outputs.join('\n\n')}`;
}

/**
 * The capacity model against measurement: predicts the embedded store at 1M memories from the
 * figures measured at smaller sizes and prints the error of each prediction; with a document to
 * write, also refreshes the figures file and the tiers of docs/scaling.md.
 */
export async function runCapacity(context: BenchContext): Promise<WorkloadReport> {
  const document = context.documentPath ?? join(context.root, 'docs', 'benchmarks.md');
  const figures = context.documentPath
    ? writeFigures(context.root, document)
    : extractFigures(readFileSync(document, 'utf8'));
  const rows = checkAgainstMeasurement(figures, loadPrices());
  const format = (value: number, unit: string) =>
    unit === 'bytes'
      ? `${(value / 1024 ** 3).toFixed(2)} GiB`
      : `${value >= 100 ? Math.round(value).toLocaleString('en-US') : value.toFixed(2)} ${unit}`;
  const table = markdownTable(
    ['quantity', 'predicted from the sizes below 1M', 'measured at 1M', 'error'],
    rows.map((row) => [
      row.quantity,
      format(row.predicted, row.unit),
      format(row.measured, row.unit),
      `${row.error >= 0 ? '+' : ''}${(row.error * 100).toFixed(0)}%`,
    ]),
  );
  const measured = figures.filter((figure) => figure.section.startsWith('1.'));
  const dates = [
    ...new Set(measured.map((figure) => `${formatCount(figure.size ?? 0)}: ${figure.measuredAt}`)),
  ];
  const markdown = [
    `Command: \`${context.command}\``,
    '',
    `Figures read from this document (${figures.length} figures; scale columns ${dates.join(', ')}); the model of \`@engram/capacity\` given only the figures measured below 1M memories, set against the 1M column of section 1.`,
    '',
    rows.length > 0 ? table : 'No 1M figures to check against: run `pnpm bench scale --size 1M`.',
  ].join('\n');
  if (context.documentPath) {
    const scalingPath = join(context.root, 'docs', 'scaling.md');
    const scaling = readFileSync(scalingPath, 'utf8');
    writeFileSync(scalingPath, replaceSection(scaling, 'tiers', tiersMarkdown(figures)));
    context.log(`  tiers written to ${scalingPath}`);
  }
  return { key: 'capacity', markdown };
}
