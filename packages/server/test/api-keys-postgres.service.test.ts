import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgresApiKeyStore } from '../src/postgres-api-keys.js';
import {
  bin,
  childEnvironment,
  eventually,
  startEngramServer,
  temporaryDataDir,
} from './service-harness.js';

// The conformance suites' PostgreSQL launcher, on a port of its own unless a server is named.
const launcher = fileURLToPath(
  new URL('../../../conformance/services/pgvector/launcher.sh', import.meta.url),
);
const launcherEnv = {
  ...process.env,
  PGVECTOR_PORT: process.env.ENGRAM_TEST_POSTGRES_PORT ?? '55471',
};
let startedHere = false;
let adminUrl: string;
let url: string;
const database = `engram_keys_${randomBytes(4).toString('hex')}`;

function launch(command: string): string {
  return execFileSync('bash', [launcher, command], { env: launcherEnv, encoding: 'utf8' }).trim();
}

beforeAll(async () => {
  adminUrl = process.env.ENGRAM_TEST_POSTGRES_URL ?? '';
  if (!adminUrl) {
    let running = true;
    try {
      launch('status');
    } catch {
      running = false;
    }
    if (!running) {
      launch('install');
      startedHere = true;
    }
    adminUrl = launch('start').split('\n').at(-1)!;
  }
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  await admin.end();
  const parsed = new URL(adminUrl);
  parsed.pathname = `/${database}`;
  url = parsed.toString();
}, 600_000);

afterAll(async () => {
  if (adminUrl) {
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.end();
  }
  if (startedHere) launch('stop');
});

function keysCommand(args: string[]): string {
  return execFileSync(process.execPath, [bin, '--json', 'keys', ...args], {
    env: childEnvironment({ ENGRAM_API_KEYS_URL: url }),
    encoding: 'utf8',
  });
}

describe('API keys in PostgreSQL', () => {
  it('are shared by every process on the database: created, verified, revoked', async () => {
    const first = await openPostgresApiKeyStore({ url, table: 'engram_keys_shared' });
    const second = await openPostgresApiKeyStore({ url, table: 'engram_keys_shared' });
    try {
      const created = await first.createKey({ project: 'acme', name: 'app', access: 'read' });
      expect(first.verify(created.key)).toEqual({
        keyId: created.id,
        project: 'acme',
        access: 'read',
      });
      // The other process sees it once it re-reads the table (every refreshMs).
      expect(second.verify(created.key)).toBeUndefined();
      await second.refresh();
      expect(second.verify(created.key)).toMatchObject({ keyId: created.id });
      expect(second.list()).toEqual([expect.objectContaining({ id: created.id, name: 'app' })]);
      expect(second.activeCount()).toBe(1);
      expect(second.verify(`${created.key.slice(0, -1)}x`)).toBeUndefined();

      await second.revokeKey(created.id);
      await first.refresh();
      expect(first.verify(created.key)).toBeUndefined();
      expect(first.activeCount()).toBe(0);
      await expect(first.revokeKey('k_000000000000')).rejects.toThrow(/No API key/);
      expect(() => first.create({ project: 'acme' })).toThrow(/engram keys create/);
    } finally {
      await first.closeAsync();
      await second.closeAsync();
    }
  });

  it('serve takes its keys from ENGRAM_API_KEYS_URL, with no key file, and `engram keys` writes them', async () => {
    const created = JSON.parse(keysCommand(['create', '--project', 'acme'])) as {
      id: string;
      key: string;
    };
    const listed = JSON.parse(keysCommand(['list'])) as { results: Array<{ id: string }> };
    expect(listed.results.map((entry) => entry.id)).toContain(created.id);

    const dataDir = await temporaryDataDir();
    const server = await startEngramServer(dataDir.path, {
      env: { ENGRAM_API_KEYS_URL: url },
    });
    try {
      const added = await server.request('/v1/memories', {
        method: 'POST',
        key: created.key,
        body: { messages: 'I like green tea', userId: 'alice', infer: false },
      });
      expect(added.status).toBe(200);
      keysCommand(['revoke', created.id]);
      // Refused once the server has re-read the keys (every 2 s).
      await eventually(async () => {
        const response = await server.request('/v1/memories?userId=alice', { key: created.key });
        return response.status === 401 ? true : undefined;
      });
    } finally {
      await server.stop('SIGTERM');
      await dataDir.dispose();
    }
  });
});
