import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/** Builds faiss-node's native module when it does not load yet (see scripts/build-faiss-node.mjs). */
export default function setup() {
  execFileSync(
    process.execPath,
    [join(import.meta.dirname, '..', 'scripts', 'build-faiss-node.mjs')],
    {
      stdio: 'inherit',
    },
  );
}
