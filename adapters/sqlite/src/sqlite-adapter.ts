import { join } from 'node:path';
import { defineAdapter, InvalidArgumentError } from '@engram/core';
import { encryptionKeyFromEnvironment } from './sqlite-encryption.js';
import { createSqliteStore, type SqliteStoreOptions } from './sqlite-store.js';

/**
 * `vectorCacheSize` from `ENGRAM_VECTOR_CACHE_MB` (MiB of vectors kept per store for repeated
 * scoped searches; 0 turns the cache off), or `undefined` when it is not set.
 */
export function vectorCacheFromEnvironment(
  env: Record<string, string | undefined>,
): number | undefined {
  const text = env.ENGRAM_VECTOR_CACHE_MB?.trim();
  if (text === undefined || text === '') return undefined;
  const mebibytes = Number(text);
  if (!Number.isFinite(mebibytes) || mebibytes < 0) {
    throw new InvalidArgumentError({
      source: 'sqlite',
      message: `ENGRAM_VECTOR_CACHE_MB must be a number of MiB, 0 or more (e.g. 1600 for 1M memories of 384 dimensions); got "${text}".`,
    });
  }
  return Math.floor((mebibytes * 1024 * 1024) / 4);
}

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
  const vectorCacheSize = vectorCacheFromEnvironment(env);
  return createSqliteStore({
    path: join(dataDir, 'engram.db'),
    ...(encryptionKey === undefined ? {} : { encryptionKey }),
    ...(vectorCacheSize === undefined ? {} : { vectorCacheSize }),
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
