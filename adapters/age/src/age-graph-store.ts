import { defineGraphStore, loadOptionalSetting } from '@engram/adapter-kit';
import {
  type CallOptions,
  cosineSimilarity,
  defaultCollection,
  type GraphStore,
  InvalidArgumentError,
} from '@engram/core';
import {
  createSerialQueue,
  entityFromStoredProperties,
  graphArguments,
  latestById,
  missingEndpointError,
  type SerialQueue,
  tripleFromStoredProperties,
  triplePage,
} from '@engram/cypher-compatible';
import {
  holdPool,
  onceSucceeded,
  postgresErrorMapper,
  transaction,
  withPoolClient,
} from '@engram/postgres-compatible';
import pg from 'pg';
import {
  type AgeQuery,
  createEntityQuery,
  createRelationQuery,
  cypherSql,
  deleteRelationQuery,
  deleteScopeQueries,
  entityLabel,
  existingEntitiesQuery,
  graphNamePattern,
  invalidateRelationsQuery,
  labelIndexSql,
  legacyNamespaceQueries,
  listQuery,
  neighboursQuery,
  parseAgtype,
  relationEndpointsQuery,
  relationLabel,
  scopeEntitiesQuery,
  updateEntityQuery,
  updateRelationQuery,
} from './age-cypher.js';

const source = 'age';
const checks = graphArguments(source);

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

type Row = Record<string, unknown>;
type Properties = Record<string, unknown>;

/**
 * PGlite serves every connection from one session and interleaves their protocol messages, so
 * two statements in flight at once break each other's unnamed portal. On such a server every
 * store of this process that shares the connection string (or pool) runs one statement at a time.
 */
const sharedSessionQueues = new Map<unknown, SerialQueue>();

function sharedSessionQueue(server: unknown): SerialQueue {
  let queue = sharedSessionQueues.get(server);
  if (!queue) {
    queue = createSerialQueue();
    sharedSessionQueues.set(server, queue);
  }
  return queue;
}

function tripleFrom(row: Row) {
  return tripleFromStoredProperties(
    row.relation as Properties,
    row.source as Properties,
    row.destination as Properties,
  );
}

/**
 * The graph store on Apache AGE: entities are `Entity` vertices and relations `RELATES` edges
 * of one AGE graph, each carrying its namespace and scope (matched by every query, through the
 * label tables' GIN indexes), queried with Cypher whose values always travel as the agtype
 * parameter map. Opening the graph gives what was stored before namespaces the default
 * collection's.
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
  const connectionString = loadOptionalSetting({
    value: options.connectionString,
    environmentVariableName: 'AGE_URL',
    settingName: 'connectionString',
    source,
    ...(options.env ? { environment: options.env } : {}),
  });
  if (!options.pool && !connectionString) {
    throw new InvalidArgumentError({
      source,
      message:
        'Pass `connectionString` (or set AGE_URL), e.g. postgres://user:password@host:5432/database, or a `pool`.',
    });
  }
  const server: unknown = options.pool ?? connectionString;
  const lockKey = `engram/age:${graphName}`;
  const pools = holdPool({
    source,
    pool: options.pool,
    create: () =>
      new pg.Pool({
        connectionString,
        max: options.maxConnections ?? 4,
        connectionTimeoutMillis: options.connectionTimeoutMs ?? 30_000,
      }),
  });
  const configured = new WeakSet<pg.PoolClient>();
  let dimensions: number | undefined;

  function withClient<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const run = () =>
      withPoolClient<pg.PoolClient, T>(pools.get(), async (client) => {
        if (!configured.has(client)) {
          await client.query("LOAD 'age'");
          await client.query('SET search_path = ag_catalog, "$user", public');
          configured.add(client);
        }
        return work(client);
      });
    const queue = sharedSessionQueues.get(server);
    return queue ? queue.run(run) : run();
  }

  async function cypher(client: pg.PoolClient, query: AgeQuery): Promise<Row[]> {
    const result = await client.query(cypherSql(graphName, query), [
      JSON.stringify(query.parameters),
    ]);
    return result.rows.map((row: Record<string, string | null>) =>
      Object.fromEntries(query.columns.map((column) => [column, parseAgtype(row[column] ?? null)])),
    );
  }

  /** Runs work in a transaction holding the graph's advisory lock. */
  function locked<T>(client: pg.PoolClient, work: () => Promise<T>): Promise<T> {
    return transaction(client, async () => {
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [lockKey]);
      return work();
    });
  }

  const graphReady = onceSucceeded(() =>
    withClient((client) =>
      locked(client, async () => {
        const version = await client.query('SELECT version() AS version');
        if (/PGlite/i.test(String(version.rows[0]?.version))) sharedSessionQueue(server);
        const extension = await client.query("SELECT 1 FROM pg_extension WHERE extname = 'age'");
        if (extension.rowCount === 0) await client.query('CREATE EXTENSION IF NOT EXISTS age');
        const graph = await client.query('SELECT 1 FROM ag_catalog.ag_graph WHERE name = $1', [
          graphName,
        ]);
        if (graph.rowCount === 0) {
          await client.query('SELECT ag_catalog.create_graph($1)', [graphName]);
        }
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
          await client.query(labelIndexSql(graphName, label));
        }
        // What was stored before namespaces belongs to the default collection's Memory.
        for (const query of legacyNamespaceQueries(defaultCollection)) await cypher(client, query);
      }),
    ),
  );

  return defineGraphStore({
    provider: source,
    capabilities: { nativeVectorIndex: false },
    toError: postgresErrorMapper(source),
    onClose: () => pools.end(),
    methods(lifecycle) {
      /** Runs work on a connection once the graph exists. */
      async function read<T>(
        callOptions: CallOptions,
        work: (client: pg.PoolClient) => Promise<T>,
      ): Promise<T> {
        await graphReady();
        lifecycle.check(callOptions.abortSignal);
        return withClient(work);
      }

      /** Runs work in a transaction holding the graph's advisory lock. */
      function write<T>(callOptions: CallOptions, work: (client: pg.PoolClient) => Promise<T>) {
        return read(callOptions, (client) => locked(client, () => work(client)));
      }

      return {
        async ensureSchema(callOptions) {
          const wanted = checks.count(callOptions.dimensions, 'dimensions', { allowZero: false });
          await read(callOptions, async () => {});
          dimensions = wanted;
        },

        async upsertEntities(callOptions) {
          const entities = latestById(callOptions.entities);
          if (entities.length === 0) return;
          checks.namespaces(entities);
          dimensions ??= entities[0]!.embedding.length;
          for (const entity of entities) {
            checks.embedding(entity.embedding, dimensions, `The embedding of entity ${entity.id}`);
          }
          await write(callOptions, async (client) => {
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
          const relations = latestById(callOptions.relations);
          if (relations.length === 0) return;
          checks.namespaces(relations);
          await write(callOptions, async (client) => {
            const stored = await cypher(
              client,
              relationEndpointsQuery(relations.map((relation) => relation.id)),
            );
            for (const relation of relations) {
              const copies = stored.filter((row) => row.id === relation.id);
              const [only] = copies;
              if (
                copies.length === 1 &&
                only!.source_id === relation.sourceId &&
                only!.destination_id === relation.destinationId
              ) {
                await cypher(client, updateRelationQuery(relation));
                continue;
              }
              if (copies.length > 0) await cypher(client, deleteRelationQuery(relation.id));
              const created = await cypher(client, createRelationQuery(relation));
              if (created.length === 0) throw missingEndpointError(relation, source);
            }
          });
        },

        async findSimilarEntities(callOptions) {
          const { namespace, scope, topK } = checks.similarEntities(callOptions);
          const query = callOptions.embedding;
          checks.embedding(query, dimensions, 'The query embedding');
          if (topK === 0) return [];
          const rows = await read(callOptions, (client) =>
            cypher(client, scopeEntitiesQuery({ namespace, scope })),
          );
          return rows
            .map((row) => entityFromStoredProperties(row.entity as Properties))
            .filter((entity) => entity.embedding.length === query.length)
            .map((entity) => ({ entity, score: cosineSimilarity(query, entity.embedding) }))
            .filter(
              (match) =>
                callOptions.threshold === undefined || match.score >= callOptions.threshold,
            )
            .sort(
              (left, right) =>
                right.score - left.score || (left.entity.id < right.entity.id ? -1 : 1),
            )
            .slice(0, topK);
        },

        async neighbours(callOptions) {
          const { namespace, scope, entityIds, limit } = checks.neighbours(callOptions);
          if (entityIds.length === 0 || limit === 0) {
            await read(callOptions, async () => {});
            return [];
          }
          const rows = await read(callOptions, (client) =>
            cypher(client, neighboursQuery({ namespace, scope, entityIds, limit })),
          );
          return rows.map(tripleFrom);
        },

        async invalidateRelations(callOptions) {
          const invalidation = checks.invalidateRelations(callOptions);
          if (invalidation.relationIds.length === 0) return;
          await write(callOptions, (client) =>
            cypher(client, invalidateRelationsQuery(invalidation)),
          );
        },

        async list(callOptions) {
          const page = checks.list(callOptions);
          const rows = await read(callOptions, (client) => cypher(client, listQuery(page)));
          return triplePage(rows.map(tripleFrom), page.limit);
        },

        async deleteScope(callOptions) {
          const queries = deleteScopeQueries(checks.place(callOptions));
          return write(callOptions, async (client) => {
            const [relations] = await cypher(client, queries.deleteRelations);
            const [entities] = await cypher(client, queries.deleteEntities);
            return { deleted: Number(relations?.count ?? 0) + Number(entities?.count ?? 0) };
          });
        },
      };
    },
  });
}
