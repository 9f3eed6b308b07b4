import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  bootstrapKeyFromEnvironment,
  bootstrapKeyId,
  openServingKeyStore,
} from './bootstrap-key.js';
import { loadServerConfig } from './server-config.js';

const key = 'b'.repeat(64);
const directories: string[] = [];

function serving(env: Record<string, string>) {
  const directory = mkdtempSync(join(tmpdir(), 'engram-bootstrap-'));
  directories.push(directory);
  return openServingKeyStore(loadServerConfig({ dataDir: directory }, env));
}

afterEach(() => {
  for (const directory of directories.splice(0))
    rmSync(directory, { recursive: true, force: true });
});

describe('the bootstrap key', () => {
  it('is read from the environment, with its project and access, and checked', () => {
    expect(bootstrapKeyFromEnvironment({})).toBeUndefined();
    expect(bootstrapKeyFromEnvironment({ ENGRAM_BOOTSTRAP_KEY: key })).toEqual({
      key,
      project: 'default',
      access: 'admin',
    });
    expect(
      bootstrapKeyFromEnvironment({
        ENGRAM_BOOTSTRAP_KEY: key,
        ENGRAM_BOOTSTRAP_PROJECT: 'acme',
        ENGRAM_BOOTSTRAP_ACCESS: 'write',
      }),
    ).toMatchObject({ project: 'acme', access: 'write' });
    expect(() => bootstrapKeyFromEnvironment({ ENGRAM_BOOTSTRAP_KEY: 'short' })).toThrow(
      /at least 32 characters/,
    );
    expect(() =>
      bootstrapKeyFromEnvironment({ ENGRAM_BOOTSTRAP_KEY: key, ENGRAM_BOOTSTRAP_PROJECT: 'No!' }),
    ).toThrow(/ENGRAM_BOOTSTRAP_PROJECT/);
    expect(() =>
      bootstrapKeyFromEnvironment({ ENGRAM_BOOTSTRAP_KEY: key, ENGRAM_BOOTSTRAP_ACCESS: 'root' }),
    ).toThrow(/ENGRAM_BOOTSTRAP_ACCESS/);
  });

  it('is accepted beside the stored keys, listed, counted and never revoked through the API', async () => {
    const store = await serving({ ENGRAM_BOOTSTRAP_KEY: key, ENGRAM_BOOTSTRAP_PROJECT: 'acme' });
    try {
      expect(store.activeCount()).toBe(1);
      expect(store.verify(key)).toEqual({
        keyId: bootstrapKeyId,
        project: 'acme',
        admin: true,
        access: 'admin',
      });
      expect(store.verify(`${key}x`)).toBeUndefined();
      const created = store.create({ project: 'acme', access: 'read' });
      expect(store.verify(created.key)).toMatchObject({ keyId: created.id, access: 'read' });
      expect(store.list().map((info) => info.id)).toEqual([bootstrapKeyId, created.id]);
      expect(store.activeCount()).toBe(2);
      expect(() => store.revoke(bootstrapKeyId)).toThrow(/remove or rotate it in the Secret/);
      store.revoke(created.id);
      expect(store.verify(created.key)).toBeUndefined();
    } finally {
      store.close();
    }
  });

  it('is absent without ENGRAM_BOOTSTRAP_KEY', async () => {
    const store = await serving({});
    try {
      expect(store.activeCount()).toBe(0);
      expect(store.verify(key)).toBeUndefined();
    } finally {
      store.close();
    }
  });
});
