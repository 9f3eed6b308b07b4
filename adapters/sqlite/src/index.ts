export { engramAdapters, vectorCacheFromEnvironment } from './sqlite-adapter.js';
export type { EncryptSqliteStoreOptions } from './sqlite-encryption.js';
export {
  encryptionKeyFromEnvironment,
  encryptSqliteStore,
  isEncryptedSqliteFile,
} from './sqlite-encryption.js';
export type { SqliteFilterClause } from './sqlite-filter.js';
export { sqliteJsonPath, translateSqliteFilter } from './sqlite-filter.js';
export type { SqliteScopeLockOptions } from './sqlite-scope-lock.js';
export { createSqliteScopeLock } from './sqlite-scope-lock.js';
export type { SqliteStore, SqliteStoreOptions } from './sqlite-store.js';
export { createSqliteStore, defaultSqlitePath } from './sqlite-store.js';
