import { type EngramError, filterOperators, InvalidArgumentError } from '@engram/core';
import type pg from 'pg';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { engramAdapters } from './supabase-adapter.js';
import { createSupabaseStore, supabaseSettings } from './supabase-store.js';

// No server here: what runs against PostgreSQL is in test/supabase.conformance.test.ts.

function fakePool() {
  const pool = {
    query: vi.fn(async () => {
      throw new Error('no database in unit tests');
    }),
    connect: vi.fn(async () => {
      throw new Error('no database in unit tests');
    }),
    end: vi.fn(async () => {}),
    on: vi.fn(),
  };
  return pool as typeof pool & pg.Pool;
}

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('createSupabaseStore', () => {
  it('does no I/O in the factory, is named supabase and has a lease-based scope lock', () => {
    const pool = fakePool();
    const store = createSupabaseStore({ pool });
    expect(pool.query).not.toHaveBeenCalled();
    expect(pool.connect).not.toHaveBeenCalled();
    expect(store.provider).toBe('supabase');
    expect(store.capabilities).toEqual({
      keywordSearch: true,
      filterOperators,
      maxBatchSize: 1000,
      metric: 'cosine',
      atomicHistory: true,
    });
    expect(store.scopeLock?.provider).toBe('supabase');
    expect(createSupabaseStore({ pool, scopeLock: false }).scopeLock).toBeUndefined();
  });

  it('sets up the database as Supabase does: extensions schema, row level security, SUPABASE_DB_URL', () => {
    expect(supabaseSettings()).toEqual({
      source: 'supabase',
      urlVariables: ['SUPABASE_DB_URL', 'DATABASE_URL'],
      extensionSchema: 'extensions',
      rowLevelSecurity: true,
      scopeLockKind: 'lease',
    });
    expect(supabaseSettings({ extensionSchema: 'vectors' }).extensionSchema).toBe('vectors');
  });

  it('names SUPABASE_DB_URL when no server is given', async () => {
    vi.stubEnv('SUPABASE_DB_URL', '');
    vi.stubEnv('DATABASE_URL', '');
    vi.stubEnv('PGHOST', '');
    const store = createSupabaseStore();
    const error = (await store
      .count({ collection: 'memories' })
      .catch((caught: unknown) => caught)) as EngramError;
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    expect(error.prefixedMessage).toBe(
      '[engram/supabase] No PostgreSQL server given: pass connectionString or pool, or set SUPABASE_DB_URL (or DATABASE_URL).',
    );
    await store.close();
  });

  it('is named by its descriptors, as a vector and as a history store', () => {
    expect(engramAdapters.map((adapter) => [adapter.kind, adapter.name])).toEqual([
      ['vector', 'supabase'],
      ['history', 'supabase'],
    ]);
  });
});
