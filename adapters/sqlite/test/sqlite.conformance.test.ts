import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeHistoryStore, describeVectorStore } from '@engram/conformance';
import { afterAll } from 'vitest';
import { createSqliteStore } from '../src/index.js';

const directory = mkdtempSync(join(tmpdir(), 'engram-sqlite-conformance-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));
let files = 0;
const createStore = () => createSqliteStore({ path: join(directory, `store-${++files}.db`) });

describeVectorStore({ name: 'sqlite', create: createStore, server: 'embedded' });

describeHistoryStore({ name: 'sqlite history', create: createStore, server: 'embedded' });

// Every unscoped vector query through the approximate index, however small the collection: each
// query waits for the index (built in the background otherwise) to be ready and up to date.
const indexedStore = (options: Parameters<typeof createSqliteStore>[0] = {}) => {
  const store = createSqliteStore({
    path: join(directory, `store-${++files}.db`),
    annIndex: { minimumSize: 1 },
    ...options,
  });
  return {
    ...store,
    async query(options: Parameters<typeof store.query>[0]) {
      if (options.vector && !options.scope) await store.buildIndex(options);
      return store.query(options);
    },
  };
};

describeVectorStore({
  name: 'sqlite (approximate index)',
  create: () => indexedStore(),
  server: 'embedded',
});

// The same suite on encrypted files (whose approximate index is kept in memory only).
describeVectorStore({
  name: 'sqlite (encrypted)',
  create: () => indexedStore({ encryptionKey: `conformance key ${files}` }),
  server: 'embedded',
});
