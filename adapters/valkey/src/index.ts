export { engramAdapter } from './valkey-adapter.js';
export type { ValkeyConnectionOptions, ValkeyGlideClient } from './valkey-connection.js';
export { parseValkeyUrl } from './valkey-connection.js';
export type { ValkeyVectorStoreOptions } from './valkey-vector-store.js';
export { createValkeyVectorStore, valkeyDialect } from './valkey-vector-store.js';
