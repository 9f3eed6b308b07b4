import type { GraphStore } from '@engram/core';
import {
  type BoltGraphStoreSettings,
  createBoltConnection,
  createCypherGraphStore,
} from '@engram/cypher-compatible';
import neo4j, { type Config, type Driver } from 'neo4j-driver';
import { schemaStatements } from './memgraph-cypher.js';
import { toMemgraphError } from './memgraph-errors.js';

/**
 * Options of {@link createMemgraphGraphStore}: a `neo4j-driver` driver or connection settings.
 * Unset ones come from `MEMGRAPH_URL` (else `bolt://127.0.0.1:7687`), `MEMGRAPH_USERNAME`,
 * `MEMGRAPH_PASSWORD` and `MEMGRAPH_DATABASE` (Memgraph Enterprise multi-tenancy).
 */
export interface MemgraphGraphStoreOptions extends BoltGraphStoreSettings<Driver, Config> {}

/**
 * A Memgraph graph store over Bolt: entities are `:EngramEntity` nodes and relations `[:RELATES]`
 * edges (the relationship name is a property, so every query stays parameterized), both carrying
 * the scope fields, which every query filters by. Entity similarity is exact cosine within the
 * scope, computed in Cypher (Memgraph has no `vector.similarity.cosine`, and its vector search
 * needs MAGE and cannot prefilter by scope).
 */
export function createMemgraphGraphStore(options: MemgraphGraphStoreOptions = {}): GraphStore {
  const connection = createBoltConnection({
    source: 'memgraph',
    product: 'Memgraph',
    environmentPrefix: 'MEMGRAPH',
    settings: options,
    neo4j,
  });
  return createCypherGraphStore({
    provider: 'memgraph',
    dialect: { flavour: 'bolt', similarity: 'arithmetic' },
    connection,
    toError: toMemgraphError,
    onClose: connection.close,
    async ensureSchema() {
      // Index and constraint changes are refused inside explicit transactions.
      for (const statement of schemaStatements()) {
        try {
          await connection.autoCommit(statement);
        } catch (error) {
          if (!/already exists/i.test((error as Error).message)) throw error;
        }
      }
    },
  });
}
