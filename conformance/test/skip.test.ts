import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

interface JsonReport {
  numTotalTests: number;
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  testResults: { assertionResults: { title: string; status: string }[] }[];
}

// Runs the suites with `skip` set in a separate vitest process, to see what a reporter sees.
it('a harness with skip reports every test skipped with the reason, none passed', async () => {
  const vitestBin = fileURLToPath(new URL('../node_modules/vitest/vitest.mjs', import.meta.url));
  const config = fileURLToPath(new URL('./fixtures/vitest.config.ts', import.meta.url));
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [vitestBin, 'run', '--config', config, '--reporter=json'],
    { maxBuffer: 16 * 1024 * 1024 },
  );
  const report = JSON.parse(stdout) as JsonReport;
  expect(report.numTotalTests).toBeGreaterThan(40);
  expect(report.numPassedTests).toBe(0);
  expect(report.numFailedTests).toBe(0);
  expect(report.numPendingTests).toBe(report.numTotalTests);
  const results = report.testResults.flatMap((file) => file.assertionResults);
  for (const result of results) {
    expect(result.status).toBe('skipped');
    expect(result.title).toMatch(/^\[skipped: no server in this fixture\] /);
  }
  expect(results.map((result) => result.title)).toContain(
    '[skipped: no server in this fixture] an adapter extra',
  );
}, 60_000);
