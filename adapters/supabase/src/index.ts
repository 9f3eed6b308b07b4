export { engramAdapters } from './supabase-adapter.js';
export type { SupabaseStore, SupabaseStoreOptions } from './supabase-store.js';
export {
  createSupabaseHistoryStore,
  createSupabaseStore,
  createSupabaseVectorStore,
  supabaseSettings,
} from './supabase-store.js';
