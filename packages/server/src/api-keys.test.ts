import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidArgumentError, NotFoundError } from '@engram/core';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { apiKeyStorePath, openApiKeyStore } from './api-keys.js';

const directories: string[] = [];
afterEach(() => {
  for (const directory of directories.splice(0))
    rmSync(directory, { recursive: true, force: true });
});

function store() {
  const directory = mkdtempSync(join(tmpdir(), 'engram-keys-'));
  directories.push(directory);
  return { path: apiKeyStorePath(directory), keys: openApiKeyStore(apiKeyStorePath(directory)) };
}

describe('openApiKeyStore', () => {
  it('stops accepting a remembered key from the turn after another process revokes it', async () => {
    const { path, keys } = store();
    const created = keys.create({ project: 'alpha' });
    expect(keys.verify(created.key)).toEqual({
      keyId: created.id,
      project: 'alpha',
      access: 'write',
    });
    expect(keys.verify(created.key)).toEqual({
      keyId: created.id,
      project: 'alpha',
      access: 'write',
    });
    const other = openApiKeyStore(path);
    other.revoke(created.id);
    other.close();
    // The file's version is read once per turn of the event loop.
    await new Promise((resolve) => setImmediate(resolve));
    expect(keys.verify(created.key)).toBeUndefined();
    const again = keys.create({ project: 'alpha' });
    expect(keys.verify(again.key)).toEqual({ keyId: again.id, project: 'alpha', access: 'write' });
    keys.revoke(again.id);
    expect(keys.verify(again.key)).toBeUndefined();
    keys.close();
  });

  it('creates keys that verify to their project, and stores only a hash', () => {
    const { path, keys } = store();
    const created = keys.create({ project: 'alpha', name: 'web app' });
    expect(created.key).toMatch(/^engram_k_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    expect(keys.verify(created.key)).toEqual({
      keyId: created.id,
      project: 'alpha',
      access: 'write',
    });
    expect(keys.list()).toEqual([
      {
        id: created.id,
        project: 'alpha',
        name: 'web app',
        createdAt: created.createdAt,
        revokedAt: null,
        access: 'write',
      },
    ]);
    keys.close();
    const raw = new Database(path, { readonly: true });
    const dump = JSON.stringify(raw.prepare('SELECT * FROM engram_api_keys').all());
    raw.close();
    // The secret is everything after `engram_k_<id>_`; it may itself contain underscores.
    expect(dump).not.toContain(created.key.slice('engram_k_'.length + 13));
  });

  it('rejects wrong, malformed and revoked keys', () => {
    const { keys } = store();
    const created = keys.create({ project: 'alpha' });
    expect(
      keys.verify(`${created.key.slice(0, -1)}${created.key.endsWith('A') ? 'B' : 'A'}`),
    ).toBeUndefined();
    expect(keys.verify('')).toBeUndefined();
    expect(keys.verify('engram_k_000000000000_nope')).toBeUndefined();
    expect(keys.activeCount()).toBe(1);
    keys.revoke(created.id);
    expect(keys.verify(created.key)).toBeUndefined();
    expect(keys.activeCount()).toBe(0);
    expect(() => keys.revoke('k_missing')).toThrow(NotFoundError);
    keys.close();
  });

  it('refuses project names that cannot become collection names', () => {
    const { keys } = store();
    for (const project of ['', 'Alpha', 'a b', '../x', 'x'.repeat(49)]) {
      expect(() => keys.create({ project }), project).toThrow(InvalidArgumentError);
    }
    keys.close();
  });

  it('creates the key file 0600 in a 0700 directory it makes', () => {
    const directory = mkdtempSync(join(tmpdir(), 'engram-keys-'));
    directories.push(directory);
    const path = apiKeyStorePath(join(directory, 'data'));
    const keys = openApiKeyStore(path);
    keys.create({ project: 'alpha' });
    const mode = (file: string) => (statSync(file).mode & 0o777).toString(8);
    expect(mode(join(directory, 'data'))).toBe('700');
    for (const file of [path, `${path}-wal`, `${path}-shm`]) expect(mode(file), file).toBe('600');
    keys.close();
  });

  it('marks admin keys, and opens a key file from before admin keys with its keys non-admin', () => {
    const directory = mkdtempSync(join(tmpdir(), 'engram-keys-'));
    directories.push(directory);
    const path = apiKeyStorePath(directory);
    const old = new Database(path);
    old.exec(`CREATE TABLE engram_api_keys (id TEXT PRIMARY KEY, project TEXT NOT NULL, name TEXT,
      hash BLOB NOT NULL, created_at TEXT NOT NULL, revoked_at TEXT)`);
    old.close();
    const keys = openApiKeyStore(path);
    const member = keys.create({ project: 'alpha' });
    const admin = keys.create({ project: 'alpha', admin: true });
    expect(admin.admin).toBe(true);
    expect(keys.verify(admin.key)).toEqual({
      keyId: admin.id,
      project: 'alpha',
      admin: true,
      access: 'admin',
    });
    expect(keys.verify(member.key)).toEqual({
      keyId: member.id,
      project: 'alpha',
      access: 'write',
    });
    const listed = new Map(keys.list().map((key) => [key.id, key.admin]));
    expect([listed.get(member.id), listed.get(admin.id)]).toEqual([undefined, true]);
    const reader = keys.create({ project: 'alpha', access: 'read' });
    expect(keys.verify(reader.key)?.access).toBe('read');
    expect(() => keys.create({ project: 'alpha', access: 'owner' as 'read' })).toThrow(
      'access must be one of read, write, admin, got "owner".',
    );
    keys.close();
  });
});
