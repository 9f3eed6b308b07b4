import { closeSync, constants, mkdirSync, openSync } from 'node:fs';
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

/**
 * Creates a directory (and its missing parents) readable by its owner only (0700). A directory
 * that already exists keeps its mode: it may be shared on purpose.
 */
export function createPrivateDirectory(path: string): void {
  mkdirSync(path, { recursive: true, mode: 0o700 });
}

/**
 * Creates an empty file readable by its owner only (0600) unless it exists, so that a database
 * opened on it afterwards (and the -wal/-shm files SQLite gives the same mode) is never world
 * readable. An existing file keeps its mode.
 */
export function createPrivateFile(path: string): void {
  try {
    closeSync(openSync(path, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, 0o600));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
}
