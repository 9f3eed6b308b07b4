import {
  closeSync,
  existsSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { EngramError, InvalidArgumentError } from '@engram/core';
import type Database from 'better-sqlite3';

type SqliteDatabase = Database.Database;
type DatabaseConstructor = typeof Database;

const source = 'sqlite';
const cipherPackage = 'better-sqlite3-multiple-ciphers';
const plainHeader = 'SQLite format 3\0';

let cipherModule: DatabaseConstructor | undefined;

/**
 * The SQLite3 Multiple Ciphers build of better-sqlite3 (same API), loaded only when a store has
 * an encryption key.
 */
function loadCipherModule(): DatabaseConstructor {
  if (cipherModule) return cipherModule;
  try {
    cipherModule = createRequire(import.meta.url)(cipherPackage) as DatabaseConstructor;
  } catch (error) {
    throw new EngramError({
      source,
      message: `An encryption key needs the package ${cipherPackage}, which is not installed or does not load on this Node.js (${(error as Error).message}). Run \`npm install ${cipherPackage}@12.6.2\` beside @engram/sqlite (it builds from source when no prebuilt binary fits), or leave the key unset.`,
      cause: error,
    });
  }
  return cipherModule;
}

/** Whether a database file starts with the plain SQLite header (`false` for empty or missing files). */
export function isPlainSqliteFile(path: string): boolean {
  if (!existsSync(path)) return false;
  const header = Buffer.alloc(plainHeader.length);
  const descriptor = openSync(path, 'r');
  try {
    const read = readSync(descriptor, header, 0, header.length, 0);
    return read === header.length && header.toString('latin1') === plainHeader;
  } finally {
    closeSync(descriptor);
  }
}

/** Whether a database file holds data that is not plain SQLite: an encrypted store. */
export function isEncryptedSqliteFile(path: string): boolean {
  if (!existsSync(path)) return false;
  return readFileSync(path).length > 0 && !isPlainSqliteFile(path);
}

const quoted = (key: string) => `'${key.replace(/'/g, "''")}'`;

function applyKey(database: SqliteDatabase, key: string) {
  // SQLCipher 4 format: the file opens with SQLCipher's own tools (and DB Browser for SQLite).
  database.pragma("cipher = 'sqlcipher'");
  database.pragma('legacy = 4');
  database.pragma(`key = ${quoted(key)}`);
}

function checkKey(key: unknown): asserts key is string {
  if (typeof key !== 'string' || key.length === 0) {
    throw new InvalidArgumentError({
      source,
      message:
        'encryptionKey must be a non-empty string (ENGRAM_ENCRYPTION_KEY, or a file named by ENGRAM_ENCRYPTION_KEY_FILE); generate one with `openssl rand -base64 32`.',
    });
  }
}

/**
 * Opens a database file encrypted with `key` (SQLCipher 4 format, AES-256; a new file is
 * encrypted from its first page). Throws `InvalidArgumentError` when the key does not open the
 * file, or the file is a plain (unencrypted) database.
 */
export function openEncryptedDatabase(
  path: string,
  key: string,
  options: { timeout: number; readonly?: boolean },
): SqliteDatabase {
  checkKey(key);
  const Cipher = loadCipherModule();
  const plain = isPlainSqliteFile(path);
  if (plain) {
    throw new InvalidArgumentError({
      source,
      message: `The database "${path}" is not encrypted, but an encryption key was given. Encrypt it once with \`engram encrypt\` (or encryptSqliteStore), or unset the key.`,
    });
  }
  const database = new Cipher(path, options);
  try {
    applyKey(database, key);
    database.prepare('SELECT count(*) FROM sqlite_master').get();
  } catch (error) {
    database.close();
    if ((error as { code?: unknown }).code === 'SQLITE_NOTADB') {
      throw new InvalidArgumentError({
        source,
        message: `The encryption key does not open the database "${path}": the key does not open this store. Use the key it was encrypted with (ENGRAM_ENCRYPTION_KEY or ENGRAM_ENCRYPTION_KEY_FILE).`,
        cause: error,
      });
    }
    throw error;
  }
  return database;
}

/** The error for an encrypted file opened without a key. */
export function encryptedWithoutKeyError(path: string, cause: unknown): InvalidArgumentError {
  return new InvalidArgumentError({
    source,
    message: `The database "${path}" is encrypted: set its key in ENGRAM_ENCRYPTION_KEY (or a file named by ENGRAM_ENCRYPTION_KEY_FILE), or pass encryptionKey.`,
    cause,
  });
}

/**
 * The encryption key from the environment: `ENGRAM_ENCRYPTION_KEY`, else the contents of the
 * file named by `ENGRAM_ENCRYPTION_KEY_FILE` (trailing newline removed), else none.
 */
export function encryptionKeyFromEnvironment(
  env: Record<string, string | undefined>,
): string | undefined {
  const key = env.ENGRAM_ENCRYPTION_KEY;
  if (key !== undefined && key !== '') return key;
  const file = env.ENGRAM_ENCRYPTION_KEY_FILE;
  if (file === undefined || file === '') return undefined;
  let contents: string;
  try {
    contents = readFileSync(file, 'utf8');
  } catch (error) {
    throw new InvalidArgumentError({
      source,
      message: `ENGRAM_ENCRYPTION_KEY_FILE names "${file}", which cannot be read: ${(error as Error).message}.`,
      cause: error,
    });
  }
  const trimmed = contents.replace(/\r?\n$/, '');
  checkKey(trimmed);
  return trimmed;
}

/** Options of {@link encryptSqliteStore}. */
export interface EncryptSqliteStoreOptions {
  /** The database file. */
  path: string;
  /** The key it is encrypted with now; leave out for a plain file. */
  currentKey?: string;
  /** The key to encrypt it with. */
  newKey: string;
}

/**
 * Encrypts a plain store's file in place, or changes the key of an encrypted one. No other
 * process may use the file meanwhile. The approximate-index files saved beside it (plain
 * vectors) are deleted: an encrypted store keeps its index in memory only.
 */
export function encryptSqliteStore(options: EncryptSqliteStoreOptions): void {
  checkKey(options.newKey);
  if (options.currentKey === undefined && !isPlainSqliteFile(options.path)) {
    throw isEncryptedSqliteFile(options.path)
      ? encryptedWithoutKeyError(options.path, undefined)
      : new InvalidArgumentError({
          source,
          message: `"${options.path}" is not an Engram database file; check the path (the data directory's engram.db).`,
        });
  }
  const database =
    options.currentKey === undefined
      ? new (loadCipherModule())(options.path, { fileMustExist: true })
      : openEncryptedDatabase(options.path, options.currentKey, { timeout: 5000 });
  try {
    // Rekeying rewrites every page, which SQLite3 Multiple Ciphers does in rollback mode only.
    database.pragma('wal_checkpoint(TRUNCATE)');
    database.pragma('journal_mode = DELETE');
    if (options.currentKey === undefined) {
      database.pragma("cipher = 'sqlcipher'");
      database.pragma('legacy = 4');
    }
    database.pragma(`rekey = ${quoted(options.newKey)}`);
    const hasState = database
      .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'engram_ann_state'")
      .get();
    if (hasState) {
      database.exec('DELETE FROM engram_ann_changes; DELETE FROM engram_ann_state;');
    }
    database.pragma('journal_mode = WAL');
  } finally {
    database.close();
  }
  const prefix = `${basename(options.path)}.`;
  for (const name of readdirSync(dirname(options.path))) {
    if (name.startsWith(prefix) && /\.hnsw(\..*\.tmp)?$/.test(name)) {
      rmSync(join(dirname(options.path), name), { force: true });
    }
  }
}
