#!/usr/bin/env node
// Runs the conformance suites of every adapter that has a `test:conformance` script (plus the
// in-memory reference), then writes conformance/MATRIX.md: adapter x suite section -> passed /
// skipped (reason) / failed, and where the server came from.
//
//   pnpm conformance [adapter ...]      (ENGRAM_CONFORMANCE_CONCURRENCY=2 by default)
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const reportsDirectory = join(root, 'conformance', '.reports');
mkdirSync(reportsDirectory, { recursive: true });

function packagesWithConformance() {
  const found = [];
  const candidates = [
    join(root, 'conformance'),
    ...readdirSync(join(root, 'adapters')).map((name) => join(root, 'adapters', name)),
  ];
  for (const directory of candidates) {
    const manifestPath = join(directory, 'package.json');
    if (!existsSync(manifestPath)) continue;
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
    if (!manifest.scripts?.['test:conformance']) continue;
    const adapter = directory.endsWith('conformance') ? 'memory' : directory.split('/').at(-1);
    found.push({ adapter, packageName: manifest.name, directory });
  }
  return found;
}

function runSuite({ adapter, packageName }) {
  const outputFile = join(reportsDirectory, `${adapter}.json`);
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(
      'pnpm',
      [
        '--filter',
        packageName,
        'run',
        'test:conformance',
        '--reporter=dot',
        '--reporter=json',
        `--outputFile.json=${outputFile}`,
      ],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: process.env },
    );
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
    });
    child.stderr.on('data', (chunk) => {
      output += chunk;
    });
    child.on('close', (code) => {
      const seconds = ((Date.now() - started) / 1000).toFixed(0);
      console.log(`== ${adapter}: exit ${code} after ${seconds}s`);
      if (code !== 0) console.log(output.split('\n').slice(-80).join('\n'));
      resolve({ adapter, code, outputFile, output, seconds });
    });
  });
}

const sectionOrder = [
  'collections',
  'payloads',
  'query',
  'scope isolation',
  'filters',
  'pagination',
  'delete',
  'batch',
  'concurrency',
  'keyword search',
  'atomic history',
  'stats',
  'close',
  'history',
  'graph',
];

function summarize(run) {
  if (!existsSync(run.outputFile)) {
    return { adapter: run.adapter, origin: 'none', sections: {}, error: lastError(run.output) };
  }
  const report = JSON.parse(readFileSync(run.outputFile, 'utf8'));
  const sections = {};
  let origin = 'none';
  const skipReasons = new Set();
  for (const file of report.testResults ?? []) {
    for (const assertion of file.assertionResults ?? []) {
      const [suite = '', section = ''] = assertion.ancestorTitles ?? [];
      const serverMatch = /\[server: ([^\]]+)\]/.exec(suite);
      if (serverMatch) origin = serverMatch[1];
      const key = suite.startsWith('HistoryStore')
        ? 'history'
        : suite.startsWith('GraphStore')
          ? 'graph'
          : section;
      if (!key) continue;
      sections[key] ??= { passed: 0, failed: 0, skipped: 0, reasons: new Set() };
      const cell = sections[key];
      if (assertion.status === 'passed') cell.passed++;
      else if (assertion.status === 'failed') cell.failed++;
      else {
        cell.skipped++;
        const reason = /^\[skipped: ([^\]]+)\]/.exec(assertion.title)?.[1];
        if (reason) {
          cell.reasons.add(reason);
          skipReasons.add(reason);
        }
      }
    }
  }
  if (run.code !== 0 && Object.values(sections).every((cell) => cell.failed === 0)) {
    return { adapter: run.adapter, origin, sections, skipReasons, error: lastError(run.output) };
  }
  return { adapter: run.adapter, origin, sections, skipReasons };
}

/** The `matrixNote` of `conformance/services/<adapter>/service.json`, if any. */
function serviceNote(adapter) {
  const file = join(root, 'conformance', 'services', adapter, 'service.json');
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')).matrixNote;
}

function lastError(output) {
  const lines = output.split('\n').filter((line) => /error|Error|failed/.test(line));
  return (lines.at(-1) ?? 'the run failed before any test reported').trim().slice(0, 300);
}

function status(summary) {
  const cells = Object.values(summary.sections);
  if (summary.error || cells.some((cell) => cell.failed > 0)) return '**failed**';
  if (cells.length === 0 || cells.every((cell) => cell.passed === 0)) {
    return 'not run against a real server here';
  }
  return summary.origin === 'embedded' ? 'passed (embedded)' : 'passed against a real server';
}

function cellText(cell) {
  if (!cell) return '—';
  if (cell.failed > 0)
    return `**failed** (${cell.failed} of ${cell.passed + cell.failed + cell.skipped})`;
  if (cell.passed > 0 && cell.skipped === 0) return `passed (${cell.passed})`;
  if (cell.passed > 0) return `passed (${cell.passed}, ${cell.skipped} n/a)`;
  return cell.reasons.size > 0 ? 'skipped' : 'n/a';
}

async function main() {
  const only = process.argv.slice(2);
  const suites = packagesWithConformance().filter(
    (suite) => only.length === 0 || only.includes(suite.adapter),
  );
  const concurrency = Number(process.env.ENGRAM_CONFORMANCE_CONCURRENCY ?? 2);
  const queue = [...suites];
  const runs = [];
  await Promise.all(
    Array.from({ length: Math.max(1, concurrency) }, async () => {
      for (let next = queue.shift(); next; next = queue.shift()) runs.push(await runSuite(next));
    }),
  );
  // Adapters not run this time keep the row of their last report, so running one adapter does
  // not drop the others from the matrix.
  const ran = new Set(runs.map((run) => run.adapter));
  for (const suite of packagesWithConformance()) {
    const outputFile = join(reportsDirectory, `${suite.adapter}.json`);
    if (!ran.has(suite.adapter) && existsSync(outputFile)) {
      runs.push({ adapter: suite.adapter, code: 0, outputFile, output: '', previous: true });
    }
  }
  runs.sort((left, right) => left.adapter.localeCompare(right.adapter));
  const summaries = runs.map(summarize);

  const present = sectionOrder.filter((section) =>
    summaries.some((summary) => summary.sections[section]),
  );
  const lines = [
    '# Conformance matrix',
    '',
    'Generated by `pnpm conformance` (conformance/scripts/run-conformance.mjs); do not edit by hand.',
    `Last run: ${new Date().toISOString().slice(0, 10)} on ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}${process.env.CI === 'true' ? ', CI=true' : ''}.`,
    '',
    'Each cell counts the tests of one section of the shared suites. "n/a" tests check a',
    'capability the adapter does not declare (the suite then checks the typed error instead).',
    '"not run against a real server here" means no server could be had on this machine: the',
    'adapter is covered by its unit tests and runs for real in the GitHub Actions matrix.',
    '',
    `| adapter | server | status | ${present.join(' | ')} |`,
    `| --- | --- | --- | ${present.map(() => '---').join(' | ')} |`,
  ];
  for (const summary of summaries) {
    lines.push(
      `| ${summary.adapter} | ${summary.origin} | ${status(summary)} | ${present.map((section) => cellText(summary.sections[section])).join(' | ')} |`,
    );
  }
  lines.push('', '## Notes', '');
  for (const summary of summaries) {
    const reasons = [...(summary.skipReasons ?? [])];
    if (summary.error) lines.push(`- **${summary.adapter}**: run failed: ${summary.error}`);
    for (const reason of reasons) lines.push(`- **${summary.adapter}**: ${reason}`);
    const note = serviceNote(summary.adapter);
    if (note) lines.push(`- **${summary.adapter}**: ${note}`);
  }
  writeFileSync(join(root, 'conformance', 'MATRIX.md'), `${lines.join('\n')}\n`);
  console.log(`Wrote conformance/MATRIX.md (${summaries.length} adapters).`);
  const failed = runs.filter((run) => run.code !== 0 && !run.previous).map((run) => run.adapter);
  if (failed.length > 0) {
    console.error(`Conformance failed for: ${failed.join(', ')}`);
    process.exit(1);
  }
}

await main();
