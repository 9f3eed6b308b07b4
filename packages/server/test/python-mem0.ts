import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** The PyPI mem0ai the tests drive: the version the benchmarks compare against. */
export const pythonMem0Version = '2.2.1';

/** Runs a command to its end without blocking this process (a test worker must keep answering). */
function run(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let errors = '';
    child.stderr.on('data', (chunk: Buffer) => {
      errors += chunk.toString('utf8');
    });
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0
        ? resolve()
        : reject(new Error(`${command} ${args.join(' ')} exited with ${code}:\n${errors}`)),
    );
  });
}

/**
 * The Python of a venv holding PyPI `mem0ai`, created on first use (python3 and the PyPI
 * registry) and kept in the benchmarks' cache (`ENGRAM_BENCH_CACHE`, else
 * ~/.cache/engram-bench), so both share one install.
 */
export async function ensurePythonMem0(): Promise<string> {
  const cache = process.env.ENGRAM_BENCH_CACHE ?? join(homedir(), '.cache', 'engram-bench');
  const venv = join(cache, 'mem0-py');
  const python = join(venv, 'bin', 'python');
  const installed = join(venv, `mem0ai-${pythonMem0Version}.installed`);
  if (existsSync(installed)) return python;
  await mkdir(cache, { recursive: true });
  if (!existsSync(python)) await run('python3', ['-m', 'venv', venv]);
  await run(python, [
    '-m',
    'pip',
    'install',
    '--quiet',
    '--disable-pip-version-check',
    `mem0ai==${pythonMem0Version}`,
  ]);
  await writeFile(installed, '');
  return python;
}
