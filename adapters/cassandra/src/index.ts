export { engramAdapter } from './cassandra-adapter.js';
export type { CassandraConnectionOptions } from './cassandra-connection.js';
export { parseCassandraUrl } from './cassandra-connection.js';
export type { CassandraCondition } from './cassandra-filter.js';
export { cassandraFilterOperators, translateCassandraFilter } from './cassandra-filter.js';
export type { CassandraClient, CassandraVectorStoreOptions } from './cassandra-vector-store.js';
export { createCassandraVectorStore, tableName } from './cassandra-vector-store.js';
