import {
  type CallOptions,
  ClosedError,
  decodeCursor,
  encodeCursor,
  type GraphStore,
  type GraphStoreCapabilities,
  type GraphTriple,
  InvalidArgumentError,
  NotFoundError,
  normalizeScope,
  type Scope,
  throwIfAborted,
} from '@engram/core';
import neo4j, { type Config, type Driver, type ManagedTransaction } from 'neo4j-driver';
import {
  deleteScopeStatements,
  invalidateStatement,
  listStatement,
  type MemgraphStatement,
  neighboursStatement,
  schemaStatements,
  similarEntitiesStatement,
  upsertEntitiesStatement,
  upsertRelationsStatements,
} from './memgraph-cypher.js';
import { toMemgraphError } from './memgraph-errors.js';
import {
  entityFromProperties,
  entityProperties,
  numberFromDriver,
  relationFromProperties,
  relationProperties,
} from './memgraph-records.js';

const source = 'memgraph';

/** Options of {@link createMemgraphGraphStore}. */
export interface MemgraphGraphStoreOptions {
  /** A configured `neo4j-driver` driver to use instead of connection settings. The store never closes it. */
  driver?: Driver;
  /** Bolt URL of the server. Default: `MEMGRAPH_URL`, else `bolt://127.0.0.1:7687`. */
  url?: string;
  /** User name, when the server has users. Default: `MEMGRAPH_USERNAME`; none means no authentication. */
  username?: string;
  /** Password. Default: `MEMGRAPH_PASSWORD`. */
  password?: string;
  /**
   * Driver settings (pool size, timeouts, `maxTransactionRetryTime`, encryption) when the store
   * creates the driver.
   */
  driverConfig?: Config;
  /** Database (Memgraph Enterprise multi-tenancy). Default: `MEMGRAPH_DATABASE`, else the default one. */
  database?: string;
  /**
   * Ignored: accepted so that `ENGRAM_GRAPH=memgraph` (which passes a data path to every graph
   * store) works; the server keeps the data.
   */
  path?: string;
  /** Environment to read defaults from. Default: `process.env`. */
  env?: Record<string, string | undefined>;
}

const integerParameters = new Set(['topK', 'limit']);

/** Bolt sends JavaScript numbers as floats; LIMIT and index sizes need integers. */
function driverParameters(parameters: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(parameters).map(([key, value]) => [
      key,
      integerParameters.has(key) && typeof value === 'number' ? neo4j.int(value) : value,
    ]),
  );
}

function positiveInteger(value: number, name: string): void {
  if (!Number.isInteger(value) || value <= 0) {
    throw new InvalidArgumentError({
      source,
      message: `${name} must be a positive integer, got ${value}.`,
    });
  }
}

function requiredScope(scope: Scope): Scope {
  const normalized = normalizeScope(scope, { source });
  if (Object.keys(normalized).length === 0) {
    throw new InvalidArgumentError({
      source,
      message: 'A non-empty scope (userId, agentId or runId) is required.',
    });
  }
  return normalized;
}

type Row = Record<string, unknown>;

async function run(transaction: ManagedTransaction, statement: MemgraphStatement): Promise<Row[]> {
  const result = await transaction.run(statement.text, driverParameters(statement.parameters));
  return result.records.map((record) => record.toObject() as Row);
}

function triple(row: Row): GraphTriple {
  return {
    relation: relationFromProperties(row.relation as Row),
    source: entityFromProperties(row.source as Row),
    destination: entityFromProperties(row.destination as Row),
  };
}

/**
 * A Memgraph graph store over Bolt: entities are `:EngramEntity` nodes and relations `[:RELATES]`
 * edges (the relationship name is a property, so every query stays parameterized), both carrying
 * the scope fields, which every query filters by. Entity similarity is exact cosine within the
 * scope, computed in Cypher.
 */
export function createMemgraphGraphStore(options: MemgraphGraphStoreOptions = {}): GraphStore {
  const env = options.env ?? process.env;
  const database = options.database ?? env.MEMGRAPH_DATABASE;
  let driver: Driver | undefined = options.driver;
  const ownsDriver = options.driver === undefined;
  let closed = false;

  const capabilities: GraphStoreCapabilities = { nativeVectorIndex: false };

  function open(callOptions: CallOptions): Driver {
    if (closed) {
      throw new ClosedError({ source, message: 'The graph store was closed; create a new one.' });
    }
    throwIfAborted(callOptions.abortSignal, source);
    if (!driver) {
      const url = options.url ?? env.MEMGRAPH_URL ?? 'bolt://127.0.0.1:7687';
      const username = options.username ?? env.MEMGRAPH_USERNAME;
      const password = options.password ?? env.MEMGRAPH_PASSWORD ?? '';
      try {
        driver = neo4j.driver(
          url,
          username === undefined ? undefined : neo4j.auth.basic(username, password),
          { userAgent: 'engram-memgraph', ...options.driverConfig },
        );
      } catch (error) {
        throw new InvalidArgumentError({
          source,
          message: `Cannot create a driver for ${url}: ${(error as Error).message}`,
          cause: error,
        });
      }
    }
    return driver;
  }

  async function transact<T>(
    callOptions: CallOptions,
    mode: 'read' | 'write',
    action: string,
    work: (transaction: ManagedTransaction) => Promise<T>,
  ): Promise<T> {
    const session = open(callOptions).session({
      defaultAccessMode: mode === 'read' ? neo4j.session.READ : neo4j.session.WRITE,
      ...(database ? { database } : {}),
    });
    try {
      return mode === 'read' ? await session.executeRead(work) : await session.executeWrite(work);
    } catch (error) {
      throw toMemgraphError(error, action);
    } finally {
      await session.close().catch(() => {});
    }
  }

  async function autoCommit(
    callOptions: CallOptions,
    action: string,
    statement: MemgraphStatement,
  ) {
    const session = open(callOptions).session({ ...(database ? { database } : {}) });
    try {
      const result = await session.run(statement.text, driverParameters(statement.parameters));
      return result.records.map((record) => record.toObject() as Row);
    } catch (error) {
      throw toMemgraphError(error, action);
    } finally {
      await session.close().catch(() => {});
    }
  }

  async function exactSimilar(
    callOptions: CallOptions & {
      scope: Scope;
      embedding: number[];
      topK: number;
      threshold?: number;
    },
  ) {
    const rows = await transact(callOptions, 'read', 'findSimilarEntities', (transaction) =>
      run(transaction, similarEntitiesStatement(callOptions)),
    );
    return rows.map((row) => ({
      entity: entityFromProperties(row.entity as Row),
      score: numberFromDriver(row.score),
    }));
  }

  async function close() {
    if (closed) return;
    closed = true;
    if (driver && ownsDriver) await driver.close().catch(() => {});
    driver = undefined;
  }

  return {
    specificationVersion: 'v1',
    provider: 'memgraph',
    capabilities,

    async ensureSchema(callOptions) {
      positiveInteger(callOptions.dimensions, 'dimensions');
      // Index and constraint changes are refused inside explicit transactions.
      for (const statement of schemaStatements()) {
        try {
          await autoCommit(callOptions, 'ensureSchema', statement);
        } catch (error) {
          if (!/already exists/i.test((error as Error).message)) throw error;
        }
      }
    },

    async upsertEntities(callOptions) {
      open(callOptions);
      if (callOptions.entities.length === 0) return;
      const entities = callOptions.entities.map(entityProperties);
      await transact(callOptions, 'write', 'upsertEntities', (transaction) =>
        run(transaction, upsertEntitiesStatement(entities)),
      );
    },

    async upsertRelations(callOptions) {
      open(callOptions);
      if (callOptions.relations.length === 0) return;
      const relations = callOptions.relations.map((relation) => ({
        id: relation.id,
        sourceId: relation.sourceId,
        destinationId: relation.destinationId,
        properties: relationProperties(relation),
      }));
      const statements = upsertRelationsStatements(relations);
      await transact(callOptions, 'write', 'upsertRelations', async (transaction) => {
        const missing = await run(transaction, statements.missing);
        if (missing.length > 0) {
          // Thrown inside the transaction, so nothing of this call is kept.
          throw new NotFoundError({
            source,
            message: `Relations ${missing.map((row) => row.missing).join(', ')} name entities that do not exist; upsert the entities first.`,
          });
        }
        await run(transaction, statements.remove);
        await run(transaction, statements.create);
      });
    },

    async findSimilarEntities(callOptions) {
      open(callOptions);
      const scope = requiredScope(callOptions.scope);
      positiveInteger(callOptions.topK, 'topK');
      return exactSimilar({ ...callOptions, scope });
    },

    async neighbours(callOptions) {
      open(callOptions);
      const scope = requiredScope(callOptions.scope);
      positiveInteger(callOptions.limit, 'limit');
      if (callOptions.entityIds.length === 0) return [];
      const rows = await transact(callOptions, 'read', 'neighbours', (transaction) =>
        run(transaction, neighboursStatement({ ...callOptions, scope })),
      );
      return rows.map(triple);
    },

    async invalidateRelations(callOptions) {
      open(callOptions);
      const scope = requiredScope(callOptions.scope);
      if (callOptions.relationIds.length === 0) return;
      await transact(callOptions, 'write', 'invalidateRelations', (transaction) =>
        run(transaction, invalidateStatement({ ...callOptions, scope })),
      );
    },

    async list(callOptions) {
      open(callOptions);
      const scope = requiredScope(callOptions.scope);
      positiveInteger(callOptions.limit, 'limit');
      const after = decodeCursor(callOptions.cursor, source);
      const rows = await transact(callOptions, 'read', 'list', (transaction) =>
        run(
          transaction,
          listStatement({
            scope,
            limit: callOptions.limit,
            ...(after === undefined ? {} : { after }),
            ...(callOptions.includeInvalidated ? { includeInvalidated: true } : {}),
          }),
        ),
      );
      const triples = rows.slice(0, callOptions.limit).map(triple);
      const last = triples.at(-1);
      return {
        triples,
        ...(rows.length > callOptions.limit && last
          ? { nextCursor: encodeCursor(last.relation.id) }
          : {}),
      };
    },

    async deleteScope(callOptions) {
      open(callOptions);
      const scope = requiredScope(callOptions.scope);
      const statements = deleteScopeStatements(scope);
      return transact(callOptions, 'write', 'deleteScope', async (transaction) => {
        const [relations] = await run(transaction, statements.relations);
        const [entities] = await run(transaction, statements.entities);
        return {
          deleted:
            numberFromDriver(relations?.deleted ?? 0) + numberFromDriver(entities?.deleted ?? 0),
        };
      });
    },

    close,
    [Symbol.asyncDispose]: close,
  };
}
