#!/usr/bin/env node
// Makes a fresh clone usable with nothing but Node.js and the npm registry: installs the pnpm
// version pinned in package.json into .tools/, installs the workspace from the committed
// lockfile, builds every package (turbo skips what is unchanged), then runs the given command
// with pnpm and the workspace binaries on PATH.
//
//   node scripts/bootstrap.mjs [command ...]
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { packageManager } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const pnpmVersion = packageManager.replace(/^pnpm@/, '');
const toolsDir = join(root, '.tools');
const toolsBin = join(toolsDir, 'node_modules', '.bin');

const env = {
  TURBO_TELEMETRY_DISABLED: '1',
  DO_NOT_TRACK: '1',
  ...process.env,
  PATH: [toolsBin, join(root, 'node_modules', '.bin'), process.env.PATH].join(delimiter),
};

function run(command, args) {
  const result = spawnSync(command, args, { cwd: root, env, stdio: 'inherit' });
  if (result.error) throw result.error;
  if (result.status !== 0) process.exit(result.status ?? 1);
}

function installedPnpmVersion() {
  try {
    const manifest = join(toolsDir, 'node_modules', 'pnpm', 'package.json');
    return JSON.parse(readFileSync(manifest, 'utf8')).version;
  } catch {
    return undefined;
  }
}

if (installedPnpmVersion() !== pnpmVersion) {
  execFileSync(
    'npm',
    [
      'install',
      '--prefix',
      toolsDir,
      '--no-save',
      '--no-audit',
      '--no-fund',
      `pnpm@${pnpmVersion}`,
    ],
    { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] },
  );
}

if (!existsSync(join(root, 'node_modules', '.modules.yaml'))) {
  run('pnpm', ['install', '--frozen-lockfile']);
}
run('pnpm', ['exec', 'turbo', 'run', 'build', '--output-logs=errors-only']);

const [command, ...args] = process.argv.slice(2);
if (command) run(command, args);
