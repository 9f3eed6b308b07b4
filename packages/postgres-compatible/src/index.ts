export type {
  PoolHolder,
  PostgresPool,
  PostgresPoolClient,
  PostgresQueryable,
} from './postgres-connection.js';
export { holdPool, onceSucceeded, transaction, withPoolClient } from './postgres-connection.js';
export * from './postgres-errors.js';
export { qualifiedName, quoteIdentifier } from './postgres-identifiers.js';
