#!/usr/bin/env node
// Totals the test reports of a run into one closing line, `N passed, N failed, N skipped`:
// vitest JSON reports (numPassedTests, ...) and JUnit XML files, found in the given directories.
//
//   node scripts/test-summary.mjs <directory> ...
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const totals = { passed: 0, failed: 0, skipped: 0 };
const problems = [];

function addVitest(file) {
  const report = JSON.parse(readFileSync(file, 'utf8'));
  totals.passed += report.numPassedTests ?? 0;
  totals.failed += report.numFailedTests ?? 0;
  totals.skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  // A file that failed to load has no tests but failed all the same.
  for (const suite of report.testResults ?? []) {
    if (suite.status === 'failed' && (suite.assertionResults ?? []).length === 0) totals.failed++;
  }
}

function addJUnit(file) {
  const xml = readFileSync(file, 'utf8');
  for (const match of xml.matchAll(/<testcase\b[^>]*?(\/>|>([\s\S]*?)<\/testcase>)/g)) {
    const body = match[2] ?? '';
    if (/<(failure|error)\b/.test(body)) totals.failed++;
    else if (/<skipped\b/.test(body)) totals.skipped++;
    else totals.passed++;
  }
}

for (const directory of process.argv.slice(2)) {
  if (!existsSync(directory)) continue;
  for (const name of readdirSync(directory).sort()) {
    const file = join(directory, name);
    try {
      if (name.endsWith('.json')) addVitest(file);
      else if (name.endsWith('.xml')) addJUnit(file);
    } catch (error) {
      problems.push(`${file}: ${error.message}`);
      totals.failed++;
    }
  }
}

for (const problem of problems) console.error(`unreadable report ${problem}`);
console.log(`${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
