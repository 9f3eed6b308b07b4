import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** The PyPI mem0ai the tests drive: the version the benchmarks compare against. */
export const pythonMem0Version = '2.2.1';

/**
 * The Python of a venv holding PyPI `mem0ai`, created on first use (python3 and the PyPI
 * registry) and kept in the benchmarks' cache (`ENGRAM_BENCH_CACHE`, else
 * ~/.cache/engram-bench), so both share one install.
 */
export function ensurePythonMem0(): string {
  const cache = process.env.ENGRAM_BENCH_CACHE ?? join(homedir(), '.cache', 'engram-bench');
  const venv = join(cache, 'mem0-py');
  const python = join(venv, 'bin', 'python');
  const installed = join(venv, `mem0ai-${pythonMem0Version}.installed`);
  if (existsSync(installed)) return python;
  mkdirSync(cache, { recursive: true });
  const quiet = { stdio: ['ignore', 'ignore', 'inherit'] as ['ignore', 'ignore', 'inherit'] };
  if (!existsSync(python)) execFileSync('python3', ['-m', 'venv', venv], quiet);
  execFileSync(
    python,
    [
      '-m',
      'pip',
      'install',
      '--quiet',
      '--disable-pip-version-check',
      `mem0ai==${pythonMem0Version}`,
    ],
    quiet,
  );
  writeFileSync(installed, '');
  return python;
}
