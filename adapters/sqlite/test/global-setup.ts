import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The multi-process tests run the compiled store in child processes, so build it first. */
export default function setup() {
  const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
  const require = createRequire(join(packageRoot, 'package.json'));
  const compiler = require.resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [compiler, '-p', 'tsconfig.build.json'], {
    cwd: packageRoot,
    stdio: 'inherit',
  });
}
