import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * Engram's data directory: `ENGRAM_HOME` when set and not empty, else `~/.engram`. The embedded
 * stores, the CLI and the server all read it from here.
 */
export function defaultDataDirectory(
  environment: Record<string, string | undefined> = process.env,
): string {
  const home = environment.ENGRAM_HOME;
  return home === undefined || home.trim() === '' ? join(homedir(), '.engram') : home;
}
