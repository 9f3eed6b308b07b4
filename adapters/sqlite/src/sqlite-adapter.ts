import { join } from 'node:path';
import { defineAdapter } from '@engram/core';
import { encryptionKeyFromEnvironment } from './sqlite-encryption.js';
import { createSqliteStore, type SqliteStoreOptions } from './sqlite-store.js';

function create({
  env,
  dataDir,
  options,
}: {
  env: Record<string, string | undefined>;
  dataDir: string;
  options?: Record<string, unknown>;
}) {
  const encryptionKey = encryptionKeyFromEnvironment(env);
  return createSqliteStore({
    path: join(dataDir, 'engram.db'),
    ...(encryptionKey === undefined ? {} : { encryptionKey }),
    ...((options ?? {}) as SqliteStoreOptions),
  });
}

/**
 * Lets configuration name this adapter (`sqlite`): the embedded default, one file that holds
 * vectors, the keyword index and history, written in one transaction.
 */
export const engramAdapters = [
  defineAdapter({
    kind: 'vector',
    name: 'sqlite',
    description: 'Embedded SQLite store: vectors, FTS5 keyword index and history in one file',
    create,
  }),
  defineAdapter({
    kind: 'history',
    name: 'sqlite',
    description: 'History in the embedded SQLite file, written with the memories it records',
    create,
  }),
];
