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

// Every unscoped vector query through the approximate index, however small the collection.
const createIndexedStore = () =>
  createSqliteStore({
    path: join(directory, `store-${++files}.db`),
    annIndex: { minimumSize: 1 },
  });

describeVectorStore({
  name: 'sqlite (approximate index)',
  create: createIndexedStore,
  server: 'embedded',
});
