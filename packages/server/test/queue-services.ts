import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const servicesDirectory = fileURLToPath(new URL('../../../conformance/services/', import.meta.url));

/**
 * The URL of a queue server: the environment variable when set, else the native launcher's
 * (`conformance/services/<name>/launcher.sh start`: installs and starts it, or answers the
 * running one).
 */
export function queueServer(
  service: string,
  variable: string,
): { url: string; origin: 'environment' | 'native launcher' } {
  const fromEnvironment = process.env[variable];
  if (fromEnvironment) return { url: fromEnvironment, origin: 'environment' };
  const output = execFileSync('bash', [`${servicesDirectory}${service}/launcher.sh`, 'start'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 20 * 60 * 1000,
  });
  return { url: output.trim().split('\n').at(-1)!, origin: 'native launcher' };
}
