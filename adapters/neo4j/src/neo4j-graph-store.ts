import {
  type CallOptions,
  ClosedError,
  DimensionMismatchError,
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
  countEntitiesStatement,
  deleteScopeStatements,
  indexedSimilarEntitiesStatement,
  invalidateStatement,
  listStatement,
  type Neo4jStatement,
  neighboursStatement,
  schemaStatements,
  similarEntitiesStatement,
  upsertEntitiesStatement,
  upsertRelationsStatements,
  vectorIndexDimensionsStatement,
} from './neo4j-cypher.js';
import { toNeo4jError } from './neo4j-errors.js';
import {
  entityFromProperties,
  entityProperties,
  numberFromNeo4j,
  relationFromProperties,
  relationProperties,
} from './neo4j-records.js';

const source = 'neo4j';

/** Options of {@link createNeo4jGraphStore}. */
export interface Neo4jGraphStoreOptions {
  /**
   * A configured driver to use instead of connection settings. The store never closes it.
   */
  driver?: Driver;
  /** Bolt or neo4j URL of the server. Default: `NEO4J_URL`, else `bolt://127.0.0.1:7687`. */
  url?: string;
  /** User name for basic authentication. Default: `NEO4J_USERNAME`; none means no authentication. */
  username?: string;
  /** Password for basic authentication. Default: `NEO4J_PASSWORD`. */
  password?: string;
  /**
   * Driver settings (pool size, timeouts, `maxTransactionRetryTime`, encryption) when the store
   * creates the driver.
   */
  driverConfig?: Config;
  /** Database to use. Default: `NEO4J_DATABASE`, else the server's default database. */
  database?: string;
  /**
   * When set, scopes holding more entities than this are searched through Neo4j's vector index
   * (HNSW: approximate, and filtered by the scope after the nearest candidates of every scope are
   * taken, so good matches can be missed), and `ensureSchema` creates that index. Scopes at or
   * below it, and every scope when unset (the default), are searched exactly with
   * `vector.similarity.cosine` over the scope's entities.
   */
  approximateSearchAbove?: number;
  /**
   * Ignored: accepted so that `ENGRAM_GRAPH=neo4j` (which passes a data path to every graph
   * store) works; the server keeps the data.
   */
  path?: string;
  /** Environment to read defaults from. Default: `process.env`. */
  env?: Record<string, string | undefined>;
}

const integerParameters = new Set(['topK', 'limit', 'candidates', 'dimensions']);

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

async function run(transaction: ManagedTransaction, statement: Neo4jStatement): Promise<Row[]> {
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
 * A Neo4j graph store: entities are `:EngramEntity` nodes and relations `[:RELATES]` edges (the
 * relationship name is a property, so every query stays parameterized), both carrying the scope
 * fields, which every query filters by. Entity similarity is exact cosine within the scope.
 */
export function createNeo4jGraphStore(options: Neo4jGraphStoreOptions = {}): GraphStore {
  const env = options.env ?? process.env;
  const approximateSearchAbove = options.approximateSearchAbove;
  if (approximateSearchAbove !== undefined)
    positiveInteger(approximateSearchAbove, 'approximateSearchAbove');
  const database = options.database ?? env.NEO4J_DATABASE;
  let driver: Driver | undefined = options.driver;
  const ownsDriver = options.driver === undefined;
  let closed = false;

  const capabilities: GraphStoreCapabilities = {
    nativeVectorIndex: approximateSearchAbove !== undefined,
  };

  function open(callOptions: CallOptions): Driver {
    if (closed) {
      throw new ClosedError({ source, message: 'The graph store was closed; create a new one.' });
    }
    throwIfAborted(callOptions.abortSignal, source);
    if (!driver) {
      const url = options.url ?? env.NEO4J_URL ?? 'bolt://127.0.0.1:7687';
      const username = options.username ?? env.NEO4J_USERNAME;
      const password = options.password ?? env.NEO4J_PASSWORD ?? '';
      try {
        driver = neo4j.driver(
          url,
          username === undefined ? undefined : neo4j.auth.basic(username, password),
          { userAgent: 'engram-neo4j', ...options.driverConfig },
        );
      } catch (error) {
        throw new InvalidArgumentError({
          source,
          message: `Cannot create a Neo4j driver for ${url}: ${(error as Error).message}`,
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
      throw toNeo4jError(error, action);
    } finally {
      await session.close().catch(() => {});
    }
  }

  async function autoCommit(callOptions: CallOptions, action: string, statement: Neo4jStatement) {
    const session = open(callOptions).session({ ...(database ? { database } : {}) });
    try {
      const result = await session.run(statement.text, driverParameters(statement.parameters));
      return result.records.map((record) => record.toObject() as Row);
    } catch (error) {
      throw toNeo4jError(error, action);
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
      score: numberFromNeo4j(row.score),
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
    provider: 'neo4j',
    capabilities,

    async ensureSchema(callOptions) {
      positiveInteger(callOptions.dimensions, 'dimensions');
      const vectorIndex =
        approximateSearchAbove === undefined ? undefined : { dimensions: callOptions.dimensions };
      // Schema statements cannot share a transaction with each other or with writes.
      for (const statement of schemaStatements(vectorIndex)) {
        await autoCommit(callOptions, 'ensureSchema', statement);
      }
      if (vectorIndex) {
        const [row] = await autoCommit(
          callOptions,
          'ensureSchema',
          vectorIndexDimensionsStatement(),
        );
        const existing = row === undefined ? undefined : numberFromNeo4j(row.dimensions);
        if (existing !== undefined && existing !== callOptions.dimensions) {
          throw new DimensionMismatchError({
            source,
            expected: existing,
            actual: callOptions.dimensions,
            message: `The vector index holds embeddings of ${existing} dimensions, not ${callOptions.dimensions}.`,
          });
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
        await run(transaction, statements.remove);
        const missing = await run(transaction, statements.create);
        if (missing.length > 0) {
          // Thrown inside the transaction, so nothing of this call is kept.
          throw new NotFoundError({
            source,
            message: `Relations ${missing.map((row) => row.missing).join(', ')} name entities that do not exist; upsert the entities first.`,
          });
        }
      });
    },

    async findSimilarEntities(callOptions) {
      open(callOptions);
      const scope = requiredScope(callOptions.scope);
      positiveInteger(callOptions.topK, 'topK');
      const request = { ...callOptions, scope };
      if (approximateSearchAbove === undefined) return exactSimilar(request);
      const [counted] = await transact(callOptions, 'read', 'findSimilarEntities', (transaction) =>
        run(transaction, countEntitiesStatement(scope)),
      );
      const size = numberFromNeo4j(counted?.count ?? 0);
      if (size <= approximateSearchAbove) return exactSimilar(request);
      const candidates = Math.min(Math.max(callOptions.topK * 20, 200), 10_000);
      const rows = await transact(callOptions, 'read', 'findSimilarEntities', (transaction) =>
        run(transaction, indexedSimilarEntitiesStatement({ ...request, candidates })),
      );
      const matches = rows.map((row) => ({
        entity: entityFromProperties(row.entity as Row),
        score: numberFromNeo4j(row.score),
      }));
      // Too few of the nearest candidates belonged to the scope: scan it instead.
      if (matches.length < callOptions.topK && callOptions.threshold === undefined) {
        return exactSimilar(request);
      }
      return matches;
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
            numberFromNeo4j(relations?.deleted ?? 0) + numberFromNeo4j(entities?.deleted ?? 0),
        };
      });
    },

    close,
    [Symbol.asyncDispose]: close,
  };
}
