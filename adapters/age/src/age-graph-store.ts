import {
  type CallOptions,
  ClosedError,
  cosineSimilarity,
  DimensionMismatchError,
  decodeCursor,
  encodeCursor,
  type GraphEntity,
  type GraphRelation,
  type GraphStore,
  type GraphTriple,
  InvalidArgumentError,
  normalizeScope,
  type Scope,
  throwIfAborted,
} from '@engram/core';
import pg from 'pg';
import {
  type AgeQuery,
  createEntityQuery,
  createRelationQuery,
  cypherSql,
  deleteRelationQuery,
  deleteScopeQueries,
  entityFromProperties,
  entityLabel,
  existingEntitiesQuery,
  graphNamePattern,
  invalidateRelationsQuery,
  listQuery,
  neighboursQuery,
  parseAgtype,
  relationEndpointsQuery,
  relationFromProperties,
  relationLabel,
  scopeEntitiesQuery,
  updateEntityQuery,
  updateRelationQuery,
} from './age-cypher.js';
import { wrapAgeError } from './age-errors.js';

const source = 'age';

/** Options of {@link createAgeGraphStore}. */
export interface AgeGraphStoreOptions {
  /**
   * PostgreSQL connection string of a server with the Apache AGE extension, e.g.
   * `postgres://user:password@host:5432/database`. Default: the `AGE_URL` environment variable.
   */
  connectionString?: string;
  /**
   * A node-postgres pool to use instead of creating one. The store never ends it: its owner
   * does. Each connection the store takes from it runs `LOAD 'age'` and sets its search path
   * once.
   */
  pool?: pg.Pool;
  /**
   * Name of the AGE graph, created (with its labels and indexes) when missing: 3 to 63
   * letters, digits and `_`, not starting with a digit. Default `engram`.
   */
  graphName?: string;
  /** Most connections of the pool the store creates (not of a `pool` passed in). Default 4. */
  maxConnections?: number;
  /**
   * How long to wait for a connection of the pool the store creates, in milliseconds, before
   * failing with a retryable error. Default 30,000.
   */
  connectionTimeoutMs?: number;
  /** Read instead of `process.env`, for tests. */
  env?: Record<string, string | undefined>;
}

type Properties = Record<string, unknown>;
type Row = Record<string, unknown>;

/**
 * PGlite serves every connection from one session and interleaves their protocol messages, so
 * two statements in flight at once break each other's unnamed portal. On such a server every
 * store of this process that shares the connection string (or pool) runs one statement at a time.
 */
const sharedSessionQueues = new Map<unknown, { tail: Promise<unknown> }>();
const sharedSessionServers = new Set<unknown>();

function sharedSessionQueue(key: unknown): { tail: Promise<unknown> } {
  let queue = sharedSessionQueues.get(key);
  if (!queue) {
    queue = { tail: Promise.resolve() };
    sharedSessionQueues.set(key, queue);
  }
  return queue;
}

function requiredScope(scope: Scope): Scope {
  const normalized = normalizeScope(scope, { source });
  if (Object.keys(normalized).length === 0) {
    throw new InvalidArgumentError({
      source,
      message: 'A non-empty scope is required (userId, agentId or runId).',
    });
  }
  return normalized;
}

function count(value: number, name: string, { allowZero }: { allowZero: boolean }): number {
  if (value === Number.POSITIVE_INFINITY) return Number.MAX_SAFE_INTEGER;
  if (!Number.isInteger(value) || value < (allowZero ? 0 : 1)) {
    throw new InvalidArgumentError({
      source,
      message: `${name} must be an integer of at least ${allowZero ? 0 : 1}, got ${value}.`,
    });
  }
  return value;
}

function checkEmbedding(embedding: readonly number[], expected: number | undefined, what: string) {
  if (expected !== undefined && embedding.length !== expected) {
    throw new DimensionMismatchError({
      source,
      message: `${what} has ${embedding.length} dimensions; the graph stores ${expected}.`,
      expected,
      actual: embedding.length,
    });
  }
  if (!embedding.every((value) => Number.isFinite(value))) {
    throw new InvalidArgumentError({
      source,
      message: `${what} holds a value that is not finite.`,
    });
  }
}

/**
 * The graph store on Apache AGE: entities are `Entity` vertices and relations `RELATES` edges
 * of one AGE graph, queried with Cypher whose values always travel as the agtype parameter map.
 * AGE has no vector index, so entity similarity is an exact cosine over the scope's entities.
 * Writes take a transaction-scoped advisory lock of the graph, since AGE has no unique
 * constraints to keep two writers from creating the same id twice.
 */
export function createAgeGraphStore(options: AgeGraphStoreOptions = {}): GraphStore {
  const graphName = options.graphName ?? 'engram';
  if (!graphNamePattern.test(graphName)) {
    throw new InvalidArgumentError({
      source,
      message: `graphName "${graphName}" is not valid: use 3 to 63 letters, digits and _, not starting with a digit.`,
    });
  }
  const connectionString = options.connectionString ?? (options.env ?? process.env).AGE_URL;
  if (!options.pool && !connectionString) {
    throw new InvalidArgumentError({
      source,
      message:
        'Pass `connectionString` (or set AGE_URL), e.g. postgres://user:password@host:5432/database, or a `pool`.',
    });
  }
  const lockKey = `engram/age:${graphName}`;

  let closed = false;
  let closing: Promise<void> | undefined;
  let ownPool: pg.Pool | undefined;
  let ready: Promise<void> | undefined;
  let dimensions: number | undefined;
  let sharedSession = false;
  const configured = new WeakSet<pg.PoolClient>();

  function pool(): pg.Pool {
    if (options.pool) return options.pool;
    if (!ownPool) {
      ownPool = new pg.Pool({
        connectionString,
        max: options.maxConnections ?? 4,
        connectionTimeoutMillis: options.connectionTimeoutMs ?? 30_000,
      });
      // An idle connection that drops is replaced on the next checkout; without a listener
      // its error event would end the process.
      ownPool.on('error', () => {});
    }
    return ownPool;
  }

  function ensureOpen(callOptions: CallOptions): void {
    if (closed) {
      throw new ClosedError({ source, message: 'The graph store was closed; create a new one.' });
    }
    throwIfAborted(callOptions.abortSignal, source);
  }

  function withClient<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const server = options.pool ?? connectionString;
    if (!sharedSession && !sharedSessionServers.has(server)) return withOwnClient(work);
    const queue = sharedSessionQueue(server);
    const run = queue.tail.then(() => withOwnClient(work));
    queue.tail = run.catch(() => {});
    return run;
  }

  async function withOwnClient<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await pool().connect();
    let failure: unknown;
    try {
      if (!configured.has(client)) {
        await client.query("LOAD 'age'");
        await client.query('SET search_path = ag_catalog, "$user", public');
        configured.add(client);
      }
      return await work(client);
    } catch (error) {
      failure = error;
      throw error;
    } finally {
      // A connection that failed below SQL (dropped, timed out) is discarded, not reused.
      const broken =
        failure !== undefined && typeof (failure as { code?: unknown }).code !== 'string';
      client.release(broken ? (failure as Error) : undefined);
    }
  }

  async function cypher(client: pg.PoolClient, query: AgeQuery): Promise<Row[]> {
    const result = await client.query(cypherSql(graphName, query), [
      JSON.stringify(query.parameters),
    ]);
    return result.rows.map((row: Record<string, string | null>) =>
      Object.fromEntries(query.columns.map((column) => [column, parseAgtype(row[column] ?? null)])),
    );
  }

  async function transaction<T>(client: pg.PoolClient, work: () => Promise<T>): Promise<T> {
    await client.query('BEGIN');
    try {
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [lockKey]);
      const result = await work();
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    }
  }

  async function createGraph(): Promise<void> {
    await withClient((client) =>
      transaction(client, async () => {
        const version = await client.query('SELECT version() AS version');
        if (/PGlite/i.test(String(version.rows[0]?.version))) {
          sharedSession = true;
          sharedSessionServers.add(options.pool ?? connectionString);
        }
        const extension = await client.query("SELECT 1 FROM pg_extension WHERE extname = 'age'");
        if (extension.rowCount === 0) await client.query('CREATE EXTENSION IF NOT EXISTS age');
        const graph = await client.query('SELECT 1 FROM ag_catalog.ag_graph WHERE name = $1', [
          graphName,
        ]);
        if (graph.rowCount === 0)
          await client.query('SELECT ag_catalog.create_graph($1)', [graphName]);
        const labels = await client.query(
          'SELECT l.name FROM ag_catalog.ag_label l JOIN ag_catalog.ag_graph g ON g.graphid = l.graph WHERE g.name = $1',
          [graphName],
        );
        const existing = new Set(labels.rows.map((row: { name: string }) => row.name));
        if (!existing.has(entityLabel)) {
          await client.query('SELECT ag_catalog.create_vlabel($1, $2)', [graphName, entityLabel]);
        }
        if (!existing.has(relationLabel)) {
          await client.query('SELECT ag_catalog.create_elabel($1, $2)', [graphName, relationLabel]);
        }
        // MATCH patterns with property maps ({id: $id}, the scope) become containment tests
        // on the label tables' properties, which GIN indexes answer.
        for (const label of [entityLabel, relationLabel]) {
          await client.query(
            `CREATE INDEX IF NOT EXISTS "${graphName}_${label.toLowerCase()}_properties" ON "${graphName}"."${label}" USING gin (properties)`,
          );
        }
      }),
    );
  }

  function graphReady(): Promise<void> {
    ready ??= createGraph().catch((error: unknown) => {
      ready = undefined;
      throw error;
    });
    return ready;
  }

  /** Runs a read on a connection once the graph exists. */
  async function read<T>(
    callOptions: CallOptions,
    action: string,
    work: (client: pg.PoolClient) => Promise<T>,
  ): Promise<T> {
    ensureOpen(callOptions);
    try {
      await graphReady();
      throwIfAborted(callOptions.abortSignal, source);
      return await withClient(work);
    } catch (error) {
      throw wrapAgeError(error, action);
    }
  }

  /** Runs a write in a transaction holding the graph's advisory lock. */
  function write<T>(
    callOptions: CallOptions,
    action: string,
    work: (client: pg.PoolClient) => Promise<T>,
  ): Promise<T> {
    return read(callOptions, action, (client) => transaction(client, () => work(client)));
  }

  function tripleFrom(row: Row): GraphTriple {
    const sourceEntity = entityFromProperties(row.source as Properties);
    const destination = entityFromProperties(row.destination as Properties);
    return {
      relation: relationFromProperties(row.relation as Properties, sourceEntity.id, destination.id),
      source: sourceEntity,
      destination,
    };
  }

  async function closeNow(): Promise<void> {
    if (!ownPool) return;
    try {
      await ownPool.end();
    } catch (error) {
      throw wrapAgeError(error, 'close');
    }
  }

  return {
    specificationVersion: 'v1',
    provider: 'age',
    capabilities: { nativeVectorIndex: false },

    async ensureSchema(callOptions) {
      const wanted = count(callOptions.dimensions, 'dimensions', { allowZero: false });
      await read(callOptions, 'ensureSchema', async () => {});
      dimensions = wanted;
    },

    async upsertEntities(callOptions) {
      ensureOpen(callOptions);
      const entities = [
        ...new Map(callOptions.entities.map((entity: GraphEntity) => [entity.id, entity])).values(),
      ];
      if (entities.length === 0) return;
      dimensions ??= entities[0]!.embedding.length;
      for (const entity of entities) {
        checkEmbedding(entity.embedding, dimensions, `The embedding of entity ${entity.id}`);
      }
      await write(callOptions, 'upsertEntities', async (client) => {
        const stored = await cypher(
          client,
          existingEntitiesQuery(entities.map((entity) => entity.id)),
        );
        const existing = new Set(stored.map((row) => row.id));
        for (const entity of entities) {
          await cypher(
            client,
            existing.has(entity.id) ? updateEntityQuery(entity) : createEntityQuery(entity),
          );
        }
      });
    },

    async upsertRelations(callOptions) {
      ensureOpen(callOptions);
      const relations = [
        ...new Map(
          callOptions.relations.map((relation: GraphRelation) => [relation.id, relation]),
        ).values(),
      ];
      if (relations.length === 0) return;
      await write(callOptions, 'upsertRelations', async (client) => {
        const stored = await cypher(
          client,
          relationEndpointsQuery(relations.map((relation) => relation.id)),
        );
        const copies = new Map<string, Row[]>();
        for (const row of stored) {
          const id = String(row.id);
          copies.set(id, [...(copies.get(id) ?? []), row]);
        }
        for (const relation of relations) {
          const found = copies.get(relation.id) ?? [];
          const [only] = found;
          if (
            found.length === 1 &&
            only!.source_id === relation.sourceId &&
            only!.destination_id === relation.destinationId
          ) {
            await cypher(client, updateRelationQuery(relation));
            continue;
          }
          if (found.length > 0) await cypher(client, deleteRelationQuery(relation.id));
          const created = await cypher(client, createRelationQuery(relation));
          if (created.length === 0) {
            throw new InvalidArgumentError({
              source,
              message: `Relation ${relation.id} joins ${relation.sourceId} and ${relation.destinationId}, and at least one of them is not stored; upsert entities before their relations.`,
            });
          }
        }
      });
    },

    async findSimilarEntities(callOptions) {
      ensureOpen(callOptions);
      const scope = requiredScope(callOptions.scope);
      const topK = count(callOptions.topK, 'topK', { allowZero: true });
      checkEmbedding(callOptions.embedding, dimensions, 'The query embedding');
      if (topK === 0) return [];
      const rows = await read(callOptions, 'findSimilarEntities', (client) =>
        cypher(client, scopeEntitiesQuery(scope)),
      );
      const query = callOptions.embedding;
      return rows
        .map((row) => entityFromProperties(row.entity as Properties))
        .filter((entity) => entity.embedding.length === query.length)
        .map((entity) => ({ entity, score: cosineSimilarity(query, entity.embedding) }))
        .filter(
          (match) => callOptions.threshold === undefined || match.score >= callOptions.threshold,
        )
        .sort(
          (left, right) => right.score - left.score || (left.entity.id < right.entity.id ? -1 : 1),
        )
        .slice(0, topK);
    },

    async neighbours(callOptions) {
      ensureOpen(callOptions);
      const scope = requiredScope(callOptions.scope);
      const limit = count(callOptions.limit, 'limit', { allowZero: true });
      const entityIds = [...new Set(callOptions.entityIds)];
      if (entityIds.length === 0 || limit === 0) {
        await read(callOptions, 'neighbours', async () => {});
        return [];
      }
      const rows = await read(callOptions, 'neighbours', (client) =>
        cypher(client, neighboursQuery({ scope, entityIds, limit })),
      );
      return rows.map(tripleFrom);
    },

    async invalidateRelations(callOptions) {
      ensureOpen(callOptions);
      const scope = requiredScope(callOptions.scope);
      const relationIds = [...new Set(callOptions.relationIds)];
      if (relationIds.length === 0) return;
      await write(callOptions, 'invalidateRelations', (client) =>
        cypher(client, invalidateRelationsQuery({ scope, relationIds, at: callOptions.at })),
      );
    },

    async list(callOptions) {
      ensureOpen(callOptions);
      const scope = requiredScope(callOptions.scope);
      const limit = count(callOptions.limit, 'limit', { allowZero: false });
      const after = decodeCursor(callOptions.cursor, source);
      const rows = await read(callOptions, 'list', (client) =>
        cypher(
          client,
          listQuery({ scope, limit, after, includeInvalidated: callOptions.includeInvalidated }),
        ),
      );
      const triples = rows.slice(0, limit).map(tripleFrom);
      const last = triples.at(-1);
      return {
        triples,
        ...(rows.length > limit && last ? { nextCursor: encodeCursor(last.relation.id) } : {}),
      };
    },

    async deleteScope(callOptions) {
      ensureOpen(callOptions);
      const scope = requiredScope(callOptions.scope);
      const queries = deleteScopeQueries(scope);
      return write(callOptions, 'deleteScope', async (client) => {
        const [relations] = await cypher(client, queries.deleteRelations);
        const [entities] = await cypher(client, queries.deleteEntities);
        return { deleted: Number(relations?.count ?? 0) + Number(entities?.count ?? 0) };
      });
    },

    async close() {
      closed = true;
      closing ??= closeNow();
      await closing;
    },

    async [Symbol.asyncDispose]() {
      await this.close();
    },
  };
}
