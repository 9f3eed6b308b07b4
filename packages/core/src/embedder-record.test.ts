import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { defineAdapter } from './adapter-descriptor.js';
import { createMemoryFromEnvironment } from './create-memory-from-environment.js';
import type { Embedder } from './embedder.js';
import { readEmbedderRecords } from './embedder-record.js';
import {
  componentsFromEnvironment,
  resolveEmbedderFromEnvironment,
} from './environment-components.js';
import { EmbedderMismatchError } from './errors.js';
import { createHashEmbedder } from './hash-embedder.js';
import { createInMemoryStore } from './in-memory-vector-store.js';

const directories: string[] = [];
function dataDirectory(): string {
  const directory = mkdtempSync(join(tmpdir(), 'engram-embedder-record-'));
  directories.push(directory);
  return directory;
}
afterEach(() => {
  for (const directory of directories.splice(0))
    rmSync(directory, { recursive: true, force: true });
});

/** A local model stand-in: `prepare` fails when `unavailable` says why. */
function fakeLocalEmbedder(unavailable?: string): Embedder & { prepare(): Promise<void> } {
  return {
    ...createHashEmbedder(),
    provider: 'transformers',
    modelId: 'all-MiniLM-L6-v2',
    async prepare() {
      if (unavailable) throw new Error(unavailable);
    },
  };
}

function packages(options: { local?: Embedder } = {}) {
  const imported: string[] = [];
  const served: Record<string, unknown> = {
    '@engram/sqlite': {
      engramAdapter: defineAdapter({
        kind: 'vector',
        name: 'sqlite',
        description: 'fake',
        create: () => createInMemoryStore(),
      }),
    },
  };
  if (options.local) {
    const local = options.local;
    served['@engram/transformers'] = {
      engramAdapter: defineAdapter({
        kind: 'embedder',
        name: 'transformers',
        description: 'fake',
        create: () => local,
      }),
    };
  }
  return {
    imported,
    importModule: async (specifier: string) => {
      imported.push(specifier);
      const module = served[specifier];
      if (!module) {
        throw Object.assign(new Error(`Cannot find package ${specifier}`), {
          code: 'ERR_MODULE_NOT_FOUND',
        });
      }
      return module;
    },
  };
}

describe('a data directory remembers its embedder', () => {
  it('records the embedder when the collection gets its first memory', async () => {
    const dataDir = dataDirectory();
    const fake = packages();
    const memory = await createMemoryFromEnvironment(
      { ENGRAM_HOME: dataDir, ENGRAM_EMBEDDER: 'hash:64' },
      { importModule: fake.importModule, llm: null },
    );
    expect(readEmbedderRecords(dataDir)).toEqual({});
    await memory.add('I love hiking', { userId: 'alice', infer: false });
    await memory.close();
    expect(readEmbedderRecords(dataDir).memories).toMatchObject({
      name: 'hash:64',
      provider: 'hash',
      modelId: 'hash-64-n3',
      dimensions: 64,
    });

    // Without ENGRAM_EMBEDDER, the recorded one is used again.
    const again = await componentsFromEnvironment(
      { ENGRAM_HOME: dataDir },
      { importModule: fake.importModule },
    );
    expect(again.embedder.dimensions).toBe(64);
    expect(fake.imported).not.toContain('@engram/transformers');
  });

  it('refuses to embed with another embedder, naming both and how to switch', async () => {
    const dataDir = dataDirectory();
    const fake = packages();
    const memory = await createMemoryFromEnvironment(
      { ENGRAM_HOME: dataDir, ENGRAM_EMBEDDER: 'hash' },
      { importModule: fake.importModule, llm: null },
    );
    await memory.add('I love hiking', { userId: 'alice', infer: false });
    await memory.close();
    const other = await createMemoryFromEnvironment(
      { ENGRAM_HOME: dataDir, ENGRAM_EMBEDDER: 'hash:64' },
      { importModule: fake.importModule, llm: null },
    );
    const refused = other.add('I love ramen', { userId: 'alice', infer: false });
    await expect(refused).rejects.toThrow(EmbedderMismatchError);
    await expect(refused).rejects.toThrow(
      /embedded with hash:hash-384-n3 \(384 dimensions\), but hash:hash-64-n3 \(64 dimensions\).*ENGRAM_EMBEDDER=hash again/,
    );
    await expect(other.search('hiking', { userId: 'alice' })).rejects.toThrow(
      EmbedderMismatchError,
    );
    await other.close();
    // A component given in code is checked too.
    const given = await componentsFromEnvironment(
      { ENGRAM_HOME: dataDir },
      { importModule: fake.importModule, embedder: fakeLocalEmbedder() },
    );
    await expect(given.embedder.embed({ values: ['x'], purpose: 'query' })).rejects.toThrow(
      EmbedderMismatchError,
    );
    // Another collection is free to use another embedder.
    const notes = await componentsFromEnvironment(
      { ENGRAM_HOME: dataDir, ENGRAM_EMBEDDER: 'hash:64', ENGRAM_COLLECTION: 'notes' },
      { importModule: fake.importModule },
    );
    await notes.embedder.embed({ values: ['x'], purpose: 'document' });
    expect(readEmbedderRecords(dataDir).notes?.dimensions).toBe(64);
  });

  it('keeps the hash embedder for data written before embedders were recorded', async () => {
    const dataDir = dataDirectory();
    writeFileSync(join(dataDir, 'engram.db'), '');
    const fake = packages({ local: fakeLocalEmbedder() });
    const components = await componentsFromEnvironment(
      { ENGRAM_HOME: dataDir },
      { importModule: fake.importModule },
    );
    expect(components.embedder.provider).toBe('hash');
    expect(fake.imported).not.toContain('@engram/transformers');
  });
});

describe('the default embedder', () => {
  it('is recorded as soon as the local model is chosen for a new data directory', async () => {
    const dataDir = dataDirectory();
    const fake = packages({ local: fakeLocalEmbedder() });
    await componentsFromEnvironment({ ENGRAM_HOME: dataDir }, { importModule: fake.importModule });
    // A read creates the database; the next run must still take the local model.
    writeFileSync(join(dataDir, 'engram.db'), '');
    expect(readEmbedderRecords(dataDir).memories).toMatchObject({
      name: 'local',
      provider: 'transformers',
    });
    const again = await componentsFromEnvironment(
      { ENGRAM_HOME: dataDir },
      { importModule: fake.importModule },
    );
    expect(again.embedder.provider).toBe('transformers');
  });

  it('is the local model when it can be had', async () => {
    const notices: string[] = [];
    const fake = packages({ local: fakeLocalEmbedder() });
    const embedder = await resolveEmbedderFromEnvironment(
      {},
      { importModule: fake.importModule, notice: (line) => notices.push(line) },
    );
    expect(embedder.provider).toBe('transformers');
    expect(notices).toEqual([]);
  });

  it.each([
    ['not installed', undefined, /needs the package @engram\/transformers/],
    ['not available', 'fetch failed: no network', /no network/],
  ])(
    'is the hash embedder, with one line saying why, when the model is %s',
    async (_, reason, why) => {
      const notices: string[] = [];
      const fake = packages(reason ? { local: fakeLocalEmbedder(reason) } : {});
      const embedder = await resolveEmbedderFromEnvironment(
        {},
        { importModule: fake.importModule, notice: (line) => notices.push(line) },
      );
      expect(embedder.provider).toBe('hash');
      expect(notices).toHaveLength(1);
      expect(notices[0]).toMatch(why);
      expect(notices[0]).toMatch(/ENGRAM_MODELS_DIR/);
    },
  );
});
