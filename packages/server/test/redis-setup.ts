import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('../scripts/redis.sh', import.meta.url));

function isRunning(): boolean {
  try {
    execFileSync('bash', [script, 'url'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts the test Redis unless `ENGRAM_TEST_REDIS_URL` names one or it already runs; stops it
 * afterwards only when this run started it.
 */
export default function setup(): () => void {
  if (process.env.ENGRAM_TEST_REDIS_URL || isRunning()) return () => {};
  execFileSync('bash', [script, 'start'], { stdio: ['ignore', 'ignore', 'inherit'] });
  return () => {
    execFileSync('bash', [script, 'stop'], { stdio: 'inherit' });
  };
}
