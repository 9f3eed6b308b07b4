import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidArgumentError } from '@engram/core';
import {
  encryptionKeyFromEnvironment,
  encryptSqliteStore,
  isEncryptedSqliteFile,
} from '@engram/sqlite';

/** What `engram encrypt` did to each database file of the data directory. */
export interface EncryptOutcome {
  /** Files encrypted for the first time. */
  encrypted: string[];
  /** Encrypted files whose key was changed. */
  rekeyed: string[];
}

/** The embedded store's files: `engram.db`, and the server's per-project memory and history files. */
function storeFiles(dataDir: string): string[] {
  const files = [join(dataDir, 'engram.db')];
  for (const folder of ['projects', 'history']) {
    const directory = join(dataDir, folder);
    if (!existsSync(directory)) continue;
    for (const name of readdirSync(directory).sort()) {
      if (name.endsWith('.db')) files.push(join(directory, name));
    }
  }
  return files.filter((file) => existsSync(file));
}

const invalid = (message: string) => new InvalidArgumentError({ source: 'cli', message });

/**
 * Encrypts the data directory's plain database files with the key of `ENGRAM_ENCRYPTION_KEY`
 * (or `ENGRAM_ENCRYPTION_KEY_FILE`); with `newKeyFile`, changes the key of encrypted files from
 * that key to the file's. Stop every process using the directory first.
 */
export function encryptDataDirectory(options: {
  dataDir: string;
  env: Record<string, string | undefined>;
  newKeyFile?: string;
}): EncryptOutcome {
  const key = encryptionKeyFromEnvironment(options.env);
  if (key === undefined) {
    throw invalid(
      'Set the key in ENGRAM_ENCRYPTION_KEY or ENGRAM_ENCRYPTION_KEY_FILE (generate one with `openssl rand -base64 32`); with --new-key-file it is the current key.',
    );
  }
  const newKey =
    options.newKeyFile === undefined
      ? undefined
      : encryptionKeyFromEnvironment({ ENGRAM_ENCRYPTION_KEY_FILE: options.newKeyFile });
  const files = storeFiles(options.dataDir);
  if (files.length === 0) {
    throw invalid(`No database files in ${options.dataDir}; check --data-dir or ENGRAM_HOME.`);
  }
  const outcome: EncryptOutcome = { encrypted: [], rekeyed: [] };
  for (const file of files) {
    if (!isEncryptedSqliteFile(file)) {
      encryptSqliteStore({ path: file, newKey: newKey ?? key });
      outcome.encrypted.push(file);
    } else if (newKey !== undefined) {
      encryptSqliteStore({ path: file, currentKey: key, newKey });
      outcome.rekeyed.push(file);
    }
  }
  return outcome;
}

/** One line per file changed. */
export function formatEncryptOutcome(outcome: EncryptOutcome): string {
  const lines = [
    ...outcome.encrypted.map((file) => `encrypted ${file}`),
    ...outcome.rekeyed.map((file) => `changed the key of ${file}`),
  ];
  return `${lines.length === 0 ? 'Every database file is already encrypted; nothing to do.' : lines.join('\n')}\n`;
}
