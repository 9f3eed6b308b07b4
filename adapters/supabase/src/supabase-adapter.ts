import { defineAdapter } from '@engram/core';
import { createSupabaseStore, type SupabaseStoreOptions } from './supabase-store.js';

function create({
  env,
  options,
}: {
  env: Record<string, string | undefined>;
  options?: Record<string, unknown>;
}) {
  const given = (options ?? {}) as SupabaseStoreOptions;
  const connectionString =
    given.connectionString ?? given.url ?? env.SUPABASE_DB_URL ?? env.DATABASE_URL;
  return createSupabaseStore({ ...given, ...(connectionString ? { connectionString } : {}) });
}

/** Lets configuration name this adapter (`supabase`): vectors and history in Supabase Postgres. */
export const engramAdapters = [
  defineAdapter({
    kind: 'vector',
    name: 'supabase',
    description:
      'Supabase Postgres + pgvector (extensions schema, pooler-safe, row level security)',
    create,
  }),
  defineAdapter({
    kind: 'history',
    name: 'supabase',
    description: 'History in Supabase Postgres tables beside the memories',
    create,
  }),
];
