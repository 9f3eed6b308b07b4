import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidArgumentError } from '@engram/core';
import { afterAll, describe, expect, it } from 'vitest';
import {
  encryptionKeyFromEnvironment,
  encryptSqliteStore,
  isEncryptedSqliteFile,
} from './sqlite-encryption.js';
import { createSqliteStore } from './sqlite-store.js';

function cipherLoads(): boolean {
  try {
    createRequire(import.meta.url)('better-sqlite3-multiple-ciphers');
    return true;
  } catch {
    return false;
  }
}

// CI installs the optional package; elsewhere these tests are skipped when it is absent.
const available = cipherLoads() || process.env.CI === 'true';
const directory = mkdtempSync(join(tmpdir(), 'engram-sqlite-encryption-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));
let files = 0;
const newPath = () => join(directory, `store-${++files}.db`);
const collection = 'memories';
const secret = 'Alice keeps her spare key under the blue flowerpot';

function vectorOf(seed: number): number[] {
  return Array.from({ length: 8 }, (_, index) => Math.sin(seed * 7 + index) + 1.5);
}

async function write(path: string, options: { encryptionKey?: string; count?: number } = {}) {
  const store = createSqliteStore({ path, annIndex: { minimumSize: 1 }, ...options });
  await store.ensureCollection({ collection, dimensions: 8 });
  const now = new Date().toISOString();
  await store.commit({
    collection,
    upsert: Array.from({ length: options.count ?? 3 }, (_, index) => ({
      id: `m${index}`,
      vector: vectorOf(index),
      text: index === 0 ? secret : `memory number ${index}`,
      userId: 'alice',
      metadata: { note: 'flowerpot metadata' },
      createdAt: now,
      updatedAt: now,
    })),
    delete: [],
    history: [
      {
        id: 'e0',
        namespace: collection,
        memoryId: 'm0',
        event: 'ADD',
        previousText: null,
        newText: secret,
        userId: 'alice',
        actor: 'test',
        createdAt: now,
      },
    ],
  });
  return store;
}

/** Every byte on disk that belongs to the store: the file, its WAL and any index beside it. */
function bytesOnDisk(path: string): Buffer {
  const prefix = path.split('/').at(-1)!;
  return Buffer.concat(
    readdirSync(directory)
      .filter((name) => name.startsWith(prefix))
      .map((name) => readFileSync(join(directory, name))),
  );
}

describe.skipIf(!available)('an encrypted store', () => {
  it('keeps no memory text, metadata or history in plain on disk, and reads it back', async () => {
    const path = newPath();
    const store = await write(path, { encryptionKey: 'correct horse' });
    expect((await store.buildIndex({ collection })).size).toBe(3);
    const found = await store.query({ collection, vector: vectorOf(0), topK: 1 });
    expect(found[0]?.record.text).toBe(secret);
    // Before close: the WAL holds the recent pages, and must be encrypted too.
    for (const bytes of [bytesOnDisk(path)]) {
      expect(bytes.includes('flowerpot')).toBe(false);
      expect(bytes.includes('memory number')).toBe(false);
    }
    await store.close();
    expect(bytesOnDisk(path).includes('flowerpot')).toBe(false);
    // The approximate index was never saved beside the file.
    expect(readdirSync(directory).filter((name) => name.endsWith('.hnsw'))).toEqual([]);
    expect(isEncryptedSqliteFile(path)).toBe(true);
    const again = createSqliteStore({ path, encryptionKey: 'correct horse' });
    const [record] = await again.get({ collection, ids: ['m0'] });
    expect(record?.text).toBe(secret);
    const history = await again.byMemory({ namespace: collection, memoryId: 'm0' });
    expect(history[0]?.newText).toBe(secret);
    await again.close();
  });

  it('refuses a wrong key and a missing key with typed errors', async () => {
    const path = newPath();
    await (await write(path, { encryptionKey: 'right key' })).close();
    const wrong = createSqliteStore({ path, encryptionKey: 'wrong key' });
    const refused = await wrong.get({ collection, ids: ['m0'] }).catch((error: unknown) => error);
    expect(InvalidArgumentError.isInstance(refused)).toBe(true);
    expect((refused as Error).message).toContain('the key does not open this store');
    await wrong.close();
    const keyless = createSqliteStore({ path });
    const missing = await keyless.get({ collection, ids: ['m0'] }).catch((error: unknown) => error);
    expect(InvalidArgumentError.isInstance(missing)).toBe(true);
    expect((missing as Error).message).toContain('is encrypted');
    await keyless.close();
  });

  it('refuses a key for a plain file, and encrypts it in place on request', async () => {
    const path = newPath();
    const plain = await write(path, { count: 30 });
    expect((await plain.buildIndex({ collection })).size).toBe(30);
    await plain.close();
    expect(readFileSync(path).includes('flowerpot')).toBe(true);
    expect(readdirSync(directory).some((name) => name.endsWith('.hnsw'))).toBe(true);
    const keyed = createSqliteStore({ path, encryptionKey: 'k1' });
    const refused = await keyed.get({ collection, ids: ['m0'] }).catch((error: unknown) => error);
    expect((refused as Error).message).toContain('is not encrypted');
    await keyed.close();

    encryptSqliteStore({ path, newKey: 'k1' });
    expect(bytesOnDisk(path).includes('flowerpot')).toBe(false);
    expect(readdirSync(directory).filter((name) => name.endsWith('.hnsw'))).toEqual([]);
    encryptSqliteStore({ path, currentKey: 'k1', newKey: 'k2' });
    const reopened = createSqliteStore({ path, encryptionKey: 'k2', annIndex: { minimumSize: 1 } });
    expect(await reopened.count({ collection })).toBe(30);
    expect((await reopened.buildIndex({ collection })).size).toBe(30);
    await reopened.close();
    expect(() => encryptSqliteStore({ path, newKey: 'k3' })).toThrow(/is encrypted/);
  });
});

describe('encryptionKeyFromEnvironment', () => {
  it('reads the variable, else the file, else nothing', () => {
    const file = join(directory, 'key.txt');
    writeFileSync(file, 'from a file\n');
    expect(encryptionKeyFromEnvironment({ ENGRAM_ENCRYPTION_KEY: 'direct' })).toBe('direct');
    expect(encryptionKeyFromEnvironment({ ENGRAM_ENCRYPTION_KEY_FILE: file })).toBe('from a file');
    expect(encryptionKeyFromEnvironment({})).toBeUndefined();
    expect(() =>
      encryptionKeyFromEnvironment({ ENGRAM_ENCRYPTION_KEY_FILE: join(directory, 'none') }),
    ).toThrow(InvalidArgumentError);
    expect(existsSync(file)).toBe(true);
  });
});
