import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { dirname, join } from 'node:path';
import {
  createPrivateDirectory,
  createPrivateFile,
  InvalidArgumentError,
  NotFoundError,
} from '@engram/core';
import Database from 'better-sqlite3';

const source = 'server';

/** Projects are lowercase names; they become part of collection names (`p_<project>`). */
export const projectNamePattern = /^[a-z0-9][a-z0-9_-]{0,47}$/;

/** An API key as listed: never the key itself. */
export interface ApiKeyInfo {
  /** Public id of the key, e.g. `k_3f9a1c2b7d4e`; the key starts with it. */
  id: string;
  /** Project whose memories the key reads and writes. */
  project: string;
  /** Label given at creation. */
  name: string | null;
  /** ISO-8601 creation time. */
  createdAt: string;
  /** ISO-8601 time of revocation, when revoked. */
  revokedAt: string | null;
  /** Present on admin keys, which may also reset whole scopes (`POST /v1/reset`). */
  admin?: true;
  /** What the key may do: `read` (get, list, search, history), `write` (also add, update, delete), `admin` (also reset, and other admin routes). */
  access: Access;
}

/** Access levels, each including the ones before it. */
export const accessLevels = ['read', 'write', 'admin'] as const;

/** What a key or token may do. */
export type Access = (typeof accessLevels)[number];

/** Whether `granted` includes `needed`. */
export function allows(granted: Access, needed: Access): boolean {
  return accessLevels.indexOf(granted) >= accessLevels.indexOf(needed);
}

/** A newly created key: `key` is shown once and never stored. */
export interface CreatedApiKey extends ApiKeyInfo {
  /** The secret to send as `Authorization: Bearer <key>` or `X-API-Key`. */
  key: string;
}

/** The project and key id an accepted key belongs to. */
export interface ApiKeyIdentity {
  /** Public id of the key. */
  keyId: string;
  /** Project whose memories the key reads and writes. */
  project: string;
  /** Present when the key is an admin key of the project. */
  admin?: true;
  /** What the key or token may do. */
  access: Access;
}

/** Where API keys live: a small SQLite file, only SHA-256 hashes of the keys. */
export interface ApiKeyStore {
  /** Creates a key for a project. The returned `key` is the only copy. */
  create(options: {
    project: string;
    name?: string;
    admin?: boolean;
    /** Default `write`; `admin` is the same as `admin: true`. */
    access?: Access;
  }): CreatedApiKey;
  /** Every key, revoked ones included, oldest first. */
  list(): ApiKeyInfo[];
  /** Revokes a key; it stops working at once. Throws `NotFoundError` for an unknown id. */
  revoke(id: string): ApiKeyInfo;
  /** The identity of a valid, unrevoked key, or `undefined`. Compares in constant time. */
  verify(key: string): ApiKeyIdentity | undefined;
  /** Number of unrevoked keys. */
  activeCount(): number;
  close(): void;
}

/** A key as a key table stores it (SQLite's file, PostgreSQL). */
export interface ApiKeyRow {
  /** Public id. */
  id: string;
  /** Project of the key. */
  project: string;
  /** Label given at creation. */
  name: string | null;
  /** SHA-256 digest of the key. */
  hash: Buffer;
  /** ISO-8601 creation time. */
  created_at: string;
  /** ISO-8601 revocation time. */
  revoked_at: string | null;
  /** 1 on admin keys of files written before access levels existed. */
  admin?: number;
  /** `read`, `write` or `admin`; null in files written before access levels existed. */
  access: string | null;
}

/** The shape of a key: `engram_<id>_<secret>`; the id is the first group. */
export const apiKeyPattern = /^engram_(k_[0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

/** The SHA-256 digest a key is stored and compared as. */
export function hashApiKey(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

/** A new key's public id and secret. */
export function generateApiKey(): { id: string; key: string } {
  const id = `k_${randomBytes(6).toString('hex')}`;
  return { id, key: `engram_${id}_${randomBytes(32).toString('base64url')}` };
}

/** Checks the options of a new key (any key store) and returns its access. */
export function checkNewApiKey({
  project,
  name,
  admin = false,
  access = admin ? 'admin' : 'write',
}: Parameters<ApiKeyStore['create']>[0]): Access {
  if (!(accessLevels as readonly string[]).includes(access)) {
    throw new InvalidArgumentError({
      source,
      message: `access must be one of ${accessLevels.join(', ')}, got ${JSON.stringify(access)}.`,
    });
  }
  if (!projectNamePattern.test(project)) {
    throw new InvalidArgumentError({
      source,
      message: `project must be 1-48 lowercase letters, digits, "_" or "-", starting with a letter or digit, got ${JSON.stringify(project)}.`,
    });
  }
  if (name !== undefined && (name.length === 0 || name.length > 200)) {
    throw new InvalidArgumentError({ source, message: 'name must be 1-200 characters.' });
  }
  return access;
}

/** What a stored key may do. */
export function accessOf(row: ApiKeyRow): Access {
  if (row.admin || row.access === 'admin') return 'admin';
  return row.access === 'read' ? 'read' : 'write';
}

/** A stored key as listed. */
export function apiKeyInfo(row: ApiKeyRow): ApiKeyInfo {
  const access = accessOf(row);
  return {
    id: row.id,
    project: row.project,
    name: row.name,
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
    ...(access === 'admin' ? { admin: true as const } : {}),
    access,
  };
}

/** The key file in a data directory. */
export function apiKeyStorePath(dataDir: string): string {
  return join(dataDir, 'api-keys.db');
}

/**
 * Opens (creating when needed) the API key file. Keys are 256-bit random secrets, so a plain
 * SHA-256 is a safe digest; lookups go by the public id inside the key, then compare digests in
 * constant time.
 */
export function openApiKeyStore(path: string): ApiKeyStore {
  createPrivateDirectory(dirname(path));
  createPrivateFile(path);
  const database = new Database(path);
  database.pragma('journal_mode = WAL');
  database.pragma('busy_timeout = 5000');
  database.exec(`
    CREATE TABLE IF NOT EXISTS engram_api_keys (
      id TEXT PRIMARY KEY,
      project TEXT NOT NULL,
      name TEXT,
      hash BLOB NOT NULL,
      created_at TEXT NOT NULL,
      revoked_at TEXT,
      admin INTEGER NOT NULL DEFAULT 0
    )`);
  const columns = database.prepare('PRAGMA table_info(engram_api_keys)').all() as {
    name: string;
  }[];
  // Key files written before admin keys existed get the column; their keys stay non-admin.
  if (!columns.some((column) => column.name === 'admin')) {
    database.exec('ALTER TABLE engram_api_keys ADD COLUMN admin INTEGER NOT NULL DEFAULT 0');
  }
  // Keys written before access levels existed read and write (or are admin keys).
  if (!columns.some((column) => column.name === 'access')) {
    database.exec('ALTER TABLE engram_api_keys ADD COLUMN access TEXT');
  }
  const byId = database.prepare<[string], ApiKeyRow>('SELECT * FROM engram_api_keys WHERE id = ?');
  // Verified keys are remembered until the file changes (a key created or revoked by this or
  // any other process): `data_version` moves on every commit of another connection.
  const dataVersion = database.prepare('PRAGMA data_version').pluck();
  const verified = new Map<string, ApiKeyIdentity>();
  let verifiedVersion: unknown;
  // The version is read once per turn of the event loop: the requests that arrived together are
  // judged against the same state of the file, and a revocation holds from the next turn.
  let versionRead = false;
  const forget = () => {
    verified.clear();
    versionRead = false;
  };
  const currentVersion = () => {
    if (!versionRead) {
      versionRead = true;
      setImmediate(() => {
        versionRead = false;
      }).unref();
      const version = dataVersion.get();
      if (version !== verifiedVersion) {
        verified.clear();
        verifiedVersion = version;
      }
    }
  };

  return {
    create(options) {
      const { project, name } = options;
      const access = checkNewApiKey(options);
      const admin = access === 'admin';
      const { id, key } = generateApiKey();
      const createdAt = new Date().toISOString();
      database
        .prepare(
          'INSERT INTO engram_api_keys (id, project, name, hash, created_at, admin, access) VALUES (?, ?, ?, ?, ?, ?, ?)',
        )
        .run(id, project, name ?? null, hashApiKey(key), createdAt, admin ? 1 : 0, access);
      forget();
      return {
        id,
        key,
        project,
        name: name ?? null,
        createdAt,
        revokedAt: null,
        ...(admin ? { admin: true as const } : {}),
        access,
      };
    },
    list() {
      return database
        .prepare<[], ApiKeyRow>('SELECT * FROM engram_api_keys ORDER BY created_at, id')
        .all()
        .map(apiKeyInfo);
    },
    revoke(id) {
      const row = byId.get(id);
      if (!row) throw new NotFoundError({ source, message: `No API key with id "${id}".` });
      if (!row.revoked_at) {
        row.revoked_at = new Date().toISOString();
        database
          .prepare('UPDATE engram_api_keys SET revoked_at = ? WHERE id = ?')
          .run(row.revoked_at, id);
        forget();
      }
      return apiKeyInfo(row);
    },
    verify(key) {
      currentVersion();
      // A digest is computed either way, so a malformed key costs the same as a wrong one.
      const digest = hashApiKey(key);
      const cacheKey = digest.toString('base64');
      const known = verified.get(cacheKey);
      if (known) return known;
      const match = apiKeyPattern.exec(key);
      const row = match ? byId.get(match[1]!) : undefined;
      const expected = row?.hash ?? Buffer.alloc(digest.length);
      const equal = timingSafeEqual(digest, expected);
      if (!row || !equal || row.revoked_at) return undefined;
      const identity: ApiKeyIdentity = {
        keyId: row.id,
        project: row.project,
        ...(row.admin ? { admin: true as const } : {}),
        access: accessOf(row),
      };
      if (verified.size >= 10_000) verified.clear();
      verified.set(cacheKey, identity);
      return identity;
    },
    activeCount() {
      return database
        .prepare('SELECT COUNT(*) FROM engram_api_keys WHERE revoked_at IS NULL')
        .pluck()
        .get() as number;
    },
    close() {
      if (database.open) database.close();
    },
  };
}
