import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidArgumentError } from '@engram/core';
import { createSqliteStore } from '@engram/sqlite';
import { afterAll, describe, expect, it } from 'vitest';
import { encryptDataDirectory, formatEncryptOutcome } from './encrypt-command.js';

function cipherLoads(): boolean {
  try {
    createRequire(createRequire(import.meta.url).resolve('@engram/sqlite/package.json'))(
      'better-sqlite3-multiple-ciphers',
    );
    return true;
  } catch {
    return false;
  }
}

const directories: string[] = [];
afterAll(() => {
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});

async function plainStore(path: string, text: string) {
  const store = createSqliteStore({ path, annIndex: false });
  await store.ensureCollection({ collection: 'memories', dimensions: 2 });
  const now = new Date().toISOString();
  await store.upsert({
    collection: 'memories',
    records: [
      { id: 'a', vector: [1, 0], text, userId: 'u', metadata: {}, createdAt: now, updatedAt: now },
    ],
  });
  await store.close();
}

// CI installs the optional package; elsewhere the test is skipped when it is absent.
describe.skipIf(!cipherLoads() && process.env.CI !== 'true')('engram encrypt', () => {
  it("encrypts the data directory's files, then changes their key", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'engram-cli-encrypt-'));
    directories.push(dataDir);
    mkdirSync(join(dataDir, 'projects'));
    await plainStore(join(dataDir, 'engram.db'), 'the vault code is 4711');
    await plainStore(join(dataDir, 'projects', 'alpha.db'), 'alpha keeps a secret');
    expect(() => encryptDataDirectory({ dataDir, env: {} })).toThrow(InvalidArgumentError);

    const first = encryptDataDirectory({ dataDir, env: { ENGRAM_ENCRYPTION_KEY: 'one' } });
    expect(first.encrypted).toHaveLength(2);
    expect(readFileSync(join(dataDir, 'engram.db')).includes('vault code')).toBe(false);
    expect(formatEncryptOutcome(first)).toContain('encrypted');
    const again = encryptDataDirectory({ dataDir, env: { ENGRAM_ENCRYPTION_KEY: 'one' } });
    expect(formatEncryptOutcome(again)).toContain('nothing to do');

    const keyFile = join(dataDir, 'new-key');
    writeFileSync(keyFile, 'two\n');
    const rekeyed = encryptDataDirectory({
      dataDir,
      env: { ENGRAM_ENCRYPTION_KEY: 'one' },
      newKeyFile: keyFile,
    });
    expect(rekeyed.rekeyed).toHaveLength(2);
    const store = createSqliteStore({ path: join(dataDir, 'engram.db'), encryptionKey: 'two' });
    const [record] = await store.get({ collection: 'memories', ids: ['a'] });
    expect(record?.text).toBe('the vault code is 4711');
    await store.close();
  });
});
