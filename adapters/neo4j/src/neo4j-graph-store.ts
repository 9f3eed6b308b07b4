import { DimensionMismatchError, type GraphStore } from '@engram/core';
import {
  type BoltConnection,
  type BoltGraphStoreSettings,
  createBoltConnection,
  createCypherGraphStore,
  numberFromCypher,
} from '@engram/cypher-compatible';
import neo4j, { type Config, type Driver } from 'neo4j-driver';
import { schemaStatements, vectorIndexDimensionsStatement } from './neo4j-cypher.js';
import { toNeo4jError } from './neo4j-errors.js';

const source = 'neo4j';

/**
 * Options of {@link createNeo4jGraphStore}. Unset connection settings come from `NEO4J_URL`
 * (else `bolt://127.0.0.1:7687`), `NEO4J_USERNAME`, `NEO4J_PASSWORD` and `NEO4J_DATABASE`.
 */
export interface Neo4jGraphStoreOptions extends BoltGraphStoreSettings<Driver, Config> {
  /**
   * When set, scopes holding more entities than this are searched through Neo4j's vector index
   * (HNSW: approximate, and filtered by the scope after the nearest candidates of every scope are
   * taken, so good matches can be missed), and `ensureSchema` creates that index. Scopes at or
   * below it, and every scope when unset (the default), are searched exactly with
   * `vector.similarity.cosine` over the scope's entities.
   */
  approximateSearchAbove?: number;
}

async function ensureSchema(connection: BoltConnection, dimensions: number, vectorIndex: boolean) {
  const index = vectorIndex ? { dimensions } : undefined;
  // Schema statements cannot share a transaction with each other or with writes.
  for (const statement of schemaStatements(index)) await connection.autoCommit(statement);
  if (!index) return;
  const [row] = await connection.autoCommit(vectorIndexDimensionsStatement());
  const existing = row === undefined ? undefined : numberFromCypher(row.dimensions);
  if (existing !== undefined && existing !== dimensions) {
    throw new DimensionMismatchError({
      source,
      expected: existing,
      actual: dimensions,
      message: `The vector index holds embeddings of ${existing} dimensions, not ${dimensions}.`,
    });
  }
}

/**
 * A Neo4j graph store: entities are `:EngramEntity` nodes and relations `[:RELATES]` edges (the
 * relationship name is a property, so every query stays parameterized), both carrying the scope
 * fields, which every query filters by. Entity similarity is exact cosine within the scope.
 */
export function createNeo4jGraphStore(options: Neo4jGraphStoreOptions = {}): GraphStore {
  const { approximateSearchAbove } = options;
  const connection = createBoltConnection({
    source,
    product: 'Neo4j',
    environmentPrefix: 'NEO4J',
    settings: options,
    neo4j,
  });
  return createCypherGraphStore({
    provider: source,
    dialect: { flavour: 'bolt', similarity: 'vector-function' },
    connection,
    toError: toNeo4jError,
    onClose: connection.close,
    ensureSchema: ({ dimensions }) =>
      ensureSchema(connection, dimensions, approximateSearchAbove !== undefined),
    ...(approximateSearchAbove === undefined ? {} : { approximateSearchAbove }),
  });
}
