// The vitest settings every package shares. Each package's vitest config calls one of these with
// only what differs. With ENGRAM_TEST_REPORTS set, every run also writes a JSON report there,
// which .ci/run totals into its closing line.
import { existsSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { defineConfig, type ViteUserConfig } from 'vitest/config';

type TestOptions = NonNullable<ViteUserConfig['test']>;

function workspaceRoot(): string {
  let directory = process.cwd();
  while (!existsSync(join(directory, 'pnpm-workspace.yaml'))) {
    const parent = dirname(directory);
    if (parent === directory) return process.cwd();
    directory = parent;
  }
  return directory;
}

function reporters(kind: string): TestOptions['reporters'] {
  const directory = process.env.ENGRAM_TEST_REPORTS;
  if (!directory) return ['default'];
  const name = relative(workspaceRoot(), process.cwd()).replaceAll('/', '-') || 'root';
  return ['default', ['json', { outputFile: join(directory, `${name}-${kind}.json`) }]];
}

/**
 * Unit tests beside the code (`src/**\/*.test.ts`); no server. The timeout only catches a hung
 * test: on a loaded two-core machine a test that takes 2 s alone can take several times that.
 */
export function unitTestConfig(test: TestOptions = {}) {
  return defineConfig({
    test: {
      include: ['src/**/*.test.ts'],
      testTimeout: 30_000,
      reporters: reporters('unit'),
      ...test,
    },
  });
}

/** An adapter's real-server suite (`test/*.conformance.test.ts`), servers from `globalSetup`. */
export function conformanceTestConfig(test: TestOptions = {}) {
  return defineConfig({
    test: {
      include: ['test/**/*.conformance.test.ts'],
      globalSetup: ['test/global-setup.ts'],
      testTimeout: 120_000,
      hookTimeout: 300_000,
      reporters: reporters('conformance'),
      ...test,
    },
  });
}

/** Tests of a running process (the HTTP service), one file at a time. */
export function processTestConfig(test: TestOptions = {}) {
  return defineConfig({
    test: {
      testTimeout: 60_000,
      hookTimeout: 60_000,
      fileParallelism: false,
      reporters: reporters('process'),
      ...test,
    },
  });
}
