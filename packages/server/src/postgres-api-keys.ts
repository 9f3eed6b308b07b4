import { timingSafeEqual } from 'node:crypto';
import { AdapterCallError, InvalidArgumentError, NotFoundError } from '@engram/core';
import {
  type ApiKeyIdentity,
  type ApiKeyInfo,
  type ApiKeyRow,
  type ApiKeyStore,
  accessOf,
  apiKeyInfo,
  apiKeyPattern,
  type CreatedApiKey,
  checkNewApiKey,
  generateApiKey,
  hashApiKey,
} from './api-keys.js';

const source = 'server';

/** Options of {@link openPostgresApiKeyStore}. */
export interface PostgresApiKeyStoreOptions {
  /** Connection URL, e.g. `postgres://engram:secret@db:5432/engram` (`ENGRAM_API_KEYS_URL`). */
  url: string;
  /** Table of the keys. Default `engram_api_keys`. */
  table?: string;
  /**
   * How often the keys are re-read: a key created or revoked by another process counts here
   * within this time. Default 2000 ms.
   */
  refreshMs?: number;
}

/**
 * API keys in PostgreSQL, for replicas that share a database but no volume. Reads (`verify`,
 * `list`, `activeCount`) answer from a copy of the table, re-read every `refreshMs`, so a request
 * costs no round trip; writes go through {@link PostgresApiKeyStore.createKey} and
 * {@link PostgresApiKeyStore.revokeKey}. Only SHA-256 digests of the keys are stored.
 */
export interface PostgresApiKeyStore extends ApiKeyStore {
  /** Creates a key for a project; the returned `key` is the only copy. */
  createKey(options: Parameters<ApiKeyStore['create']>[0]): Promise<CreatedApiKey>;
  /** Revokes a key; every process refuses it within `refreshMs`. */
  revokeKey(id: string): Promise<ApiKeyInfo>;
  /** Re-reads the keys now. */
  refresh(): Promise<void>;
  /** Stops the refresh and closes the connections. */
  closeAsync(): Promise<void>;
}

interface Pool {
  query<Row>(text: string, values?: unknown[]): Promise<{ rows: Row[] }>;
  end(): Promise<void>;
}

const tablePattern = /^[a-z_][a-z0-9_]{0,62}$/;
// A variable keeps TypeScript from resolving this optional package.
const pgPackage = 'pg';

/** Opens the key table (creating it when needed) and reads the keys once. */
export async function openPostgresApiKeyStore(
  options: PostgresApiKeyStoreOptions,
): Promise<PostgresApiKeyStore> {
  const table = options.table ?? 'engram_api_keys';
  if (!tablePattern.test(table)) {
    throw new InvalidArgumentError({
      source,
      message: `table must be a lowercase SQL name, got ${JSON.stringify(table)}.`,
    });
  }
  let pg: { default?: { Pool: new (config: object) => Pool }; Pool?: new (config: object) => Pool };
  try {
    pg = (await import(pgPackage)) as typeof pg;
  } catch (error) {
    throw new InvalidArgumentError({
      source,
      message: `ENGRAM_API_KEYS_URL needs the package "pg" next to @engram/server (npm install pg).`,
      cause: error,
    });
  }
  const PoolClass = (pg.default?.Pool ?? pg.Pool)!;
  const pool = new PoolClass({ connectionString: options.url, max: 2 });
  const failed = (action: string) => (error: unknown) => {
    throw new AdapterCallError({
      source,
      message: `API keys in PostgreSQL: ${action} failed (${(error as Error).message}); check ENGRAM_API_KEYS_URL and that the database answers.`,
      cause: error,
      isRetryable: true,
    });
  };
  await pool
    .query(
      `CREATE TABLE IF NOT EXISTS ${table} (
        id TEXT PRIMARY KEY,
        project TEXT NOT NULL,
        name TEXT,
        hash BYTEA NOT NULL,
        created_at TEXT NOT NULL,
        revoked_at TEXT,
        access TEXT NOT NULL
      )`,
    )
    .catch(async (error) => {
      await pool.end().catch(() => {});
      return failed('creating the key table')(error);
    });

  let rows = new Map<string, ApiKeyRow>();
  const refresh = async () => {
    const result = await pool
      .query<ApiKeyRow>(
        `SELECT id, project, name, hash, created_at, revoked_at, access FROM ${table} ORDER BY created_at, id`,
      )
      .catch(failed('reading the keys'));
    rows = new Map(result.rows.map((row) => [row.id, row]));
  };
  await refresh().catch(async (error) => {
    await pool.end().catch(() => {});
    throw error;
  });
  // A refresh that fails keeps the last copy: a database blip does not lock every client out.
  const timer = setInterval(() => void refresh().catch(() => {}), options.refreshMs ?? 2000);
  timer.unref();

  let closed = false;
  const closeAsync = async () => {
    if (closed) return;
    closed = true;
    clearInterval(timer);
    await pool.end().catch(() => {});
  };
  const writesHere = (): never => {
    throw new InvalidArgumentError({
      source,
      message:
        'Keys in PostgreSQL are created and revoked with `engram keys create|revoke` (ENGRAM_API_KEYS_URL set), which wait for the database.',
    });
  };

  return {
    create: writesHere,
    revoke: writesHere,
    async createKey(request) {
      const access = checkNewApiKey(request);
      const { id, key } = generateApiKey();
      const row: ApiKeyRow = {
        id,
        project: request.project,
        name: request.name ?? null,
        hash: hashApiKey(key),
        created_at: new Date().toISOString(),
        revoked_at: null,
        access,
      };
      await pool
        .query(
          `INSERT INTO ${table} (id, project, name, hash, created_at, access) VALUES ($1, $2, $3, $4, $5, $6)`,
          [row.id, row.project, row.name, row.hash, row.created_at, row.access],
        )
        .catch(failed('creating a key'));
      rows.set(id, row);
      return { ...apiKeyInfo(row), key };
    },
    async revokeKey(id) {
      const revokedAt = new Date().toISOString();
      const result = await pool
        .query<ApiKeyRow>(
          `UPDATE ${table} SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1 RETURNING id, project, name, hash, created_at, revoked_at, access`,
          [id, revokedAt],
        )
        .catch(failed('revoking a key'));
      const [row] = result.rows;
      if (!row) throw new NotFoundError({ source, message: `No API key with id "${id}".` });
      rows.set(id, row);
      return apiKeyInfo(row);
    },
    refresh,
    list: () => [...rows.values()].map(apiKeyInfo),
    verify(key): ApiKeyIdentity | undefined {
      // A digest is computed either way, so a malformed key costs the same as a wrong one.
      const digest = hashApiKey(key);
      const match = apiKeyPattern.exec(key);
      const row = match ? rows.get(match[1]!) : undefined;
      const expected = row?.hash ?? Buffer.alloc(digest.length);
      const equal = expected.length === digest.length && timingSafeEqual(digest, expected);
      if (!row || !equal || row.revoked_at) return undefined;
      const access = accessOf(row);
      return {
        keyId: row.id,
        project: row.project,
        ...(access === 'admin' ? { admin: true as const } : {}),
        access,
      };
    },
    activeCount: () => [...rows.values()].filter((row) => !row.revoked_at).length,
    close: () => void closeAsync(),
    closeAsync,
  };
}
