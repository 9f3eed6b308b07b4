import { assertPositiveInteger, defineGraphStore, type ErrorMapper } from '@engram/adapter-kit';
import {
  checkNamespace,
  cosineSimilarity,
  decodeCursor,
  defaultCollection,
  encodeCursor,
  type GraphEntity,
  type GraphStore,
  InvalidArgumentError,
  NotFoundError,
  normalizeScope,
  type Scope,
} from '@engram/core';
import type { CypherDialect } from './cypher-dialect.js';
import {
  type CypherRow,
  entityFromProperties,
  entityProperties,
  numberFromCypher,
  relationProperties,
  tripleFromRow,
} from './cypher-records.js';
import {
  type CypherStatement,
  countEntitiesStatement,
  deleteScopeStatements,
  type GraphPlace,
  indexedSimilarEntitiesStatement,
  invalidateStatement,
  legacyNamespaceStatements,
  listStatement,
  missingEndpointsStatement,
  neighboursStatement,
  type SimilarEntitiesQuery,
  scopeEntitiesStatement,
  similarEntitiesStatement,
  upsertEntitiesStatement,
  writeRelationsStatements,
} from './cypher-statements.js';

/** Runs one statement and answers its rows. */
export type CypherRun = (statement: CypherStatement) => Promise<CypherRow[]>;

/** How the store reaches the backend: the adapter implements it with its vendor client. */
export interface CypherConnection {
  /**
   * Runs `work` in one transaction where the backend has them (a managed, retried Bolt
   * transaction); on Neptune each statement is its own request. Errors are passed on as thrown.
   */
  transaction<T>(
    mode: 'read' | 'write',
    work: (run: CypherRun) => Promise<T>,
    abortSignal?: AbortSignal,
  ): Promise<T>;
}

/** Options of {@link createCypherGraphStore}. */
export interface CypherGraphStoreOptions {
  /** The adapter name, also the error prefix, e.g. `neo4j`. */
  provider: string;
  /** How the backend's Cypher differs from the others'. */
  dialect: CypherDialect;
  /** Executes statements through the adapter's client. */
  connection: CypherConnection;
  /** Maps errors the client threw; default `toAdapterCallError`. */
  toError?: ErrorMapper;
  /** Releases the client if the adapter created it; runs once. */
  onClose?: () => Promise<void> | void;
  /** Creates the backend's indexes and constraints, after `dimensions` was checked. */
  ensureSchema?: (options: { dimensions: number; abortSignal?: AbortSignal }) => Promise<void>;
  /**
   * With the `vector-function` similarity: scopes holding more entities than this are searched
   * through the vector index (approximate), and the store declares `nativeVectorIndex`; ignored
   * with the others.
   */
  approximateSearchAbove?: number;
  /** Largest number of entities or relations sent in one statement. Default: all at once. */
  batchSize?: number;
}

function batches<T>(items: T[], size: number | undefined): T[][] {
  if (size === undefined) return [items];
  const result: T[][] = [];
  for (let start = 0; start < items.length; start += size) {
    result.push(items.slice(start, start + size));
  }
  return result;
}

/** Ranks entities by cosine similarity to the query, best first, ties by id. */
export function rankBySimilarity(
  entities: GraphEntity[],
  query: SimilarEntitiesQuery,
): { entity: GraphEntity; score: number }[] {
  return entities
    .filter((entity) => entity.embedding.length === query.embedding.length)
    .map((entity) => ({ entity, score: cosineSimilarity(query.embedding, entity.embedding) }))
    .filter((match) => query.threshold === undefined || match.score >= query.threshold)
    .sort((left, right) => right.score - left.score || (left.entity.id < right.entity.id ? -1 : 1))
    .slice(0, query.topK);
}

/**
 * A graph store over any Cypher backend: entities are `:EngramEntity` nodes and relations
 * `[:RELATES]` edges (the relationship name is a property, so every statement stays
 * parameterised), both carrying their namespace and scope fields, which every statement filters
 * by. `ensureSchema` gives nodes and edges stored without a namespace (before namespaces
 * existed) the default collection's. The adapter brings the connection, its schema statements
 * and its dialect.
 */
export function createCypherGraphStore(options: CypherGraphStoreOptions): GraphStore {
  const { provider: source, dialect, connection, approximateSearchAbove, batchSize } = options;
  if (approximateSearchAbove !== undefined) {
    assertPositiveInteger(approximateSearchAbove, 'approximateSearchAbove', source);
  }
  const vectorIndex =
    approximateSearchAbove !== undefined && dialect.similarity === 'vector-function';
  if (batchSize !== undefined) assertPositiveInteger(batchSize, 'batchSize', source);

  function requiredPlace(options: { namespace: string; scope: Scope }): GraphPlace {
    const namespace = checkNamespace(options.namespace, { source });
    const scope = normalizeScope(options.scope, { source });
    if (Object.keys(scope).length === 0) {
      throw new InvalidArgumentError({
        source,
        message: 'A non-empty scope (userId, agentId or runId) is required.',
      });
    }
    return { namespace, scope };
  }

  const read = <T>(work: (run: CypherRun) => Promise<T>, abortSignal?: AbortSignal) =>
    connection.transaction('read', work, abortSignal);
  const write = <T>(work: (run: CypherRun) => Promise<T>, abortSignal?: AbortSignal) =>
    connection.transaction('write', work, abortSignal);

  async function similar(statement: CypherStatement, abortSignal?: AbortSignal) {
    const rows = await read((run) => run(statement), abortSignal);
    return rows.map((row) => ({
      entity: entityFromProperties(row.entity),
      score: numberFromCypher(row.score),
    }));
  }

  async function findSimilar(query: SimilarEntitiesQuery, abortSignal?: AbortSignal) {
    const { similarity } = dialect;
    if (similarity === 'client') {
      const rows = await read((run) => run(scopeEntitiesStatement(query)), abortSignal);
      return rankBySimilarity(
        rows.map((row) => entityFromProperties(row.entity)),
        query,
      );
    }
    const exact = () => similar(similarEntitiesStatement(query, similarity), abortSignal);
    if (!vectorIndex || approximateSearchAbove === undefined) return exact();
    const [counted] = await read((run) => run(countEntitiesStatement(query)), abortSignal);
    if (numberFromCypher(counted?.count ?? 0) <= approximateSearchAbove) return exact();
    const candidates = Math.min(Math.max(query.topK * 20, 200), 10_000);
    const matches = await similar(
      indexedSimilarEntitiesStatement({ ...query, candidates }),
      abortSignal,
    );
    // Too few of the nearest candidates belonged to the scope: scan it instead.
    if (matches.length < query.topK && query.threshold === undefined) return exact();
    return matches;
  }

  return defineGraphStore({
    provider: source,
    capabilities: { nativeVectorIndex: vectorIndex },
    ...(options.toError ? { toError: options.toError } : {}),
    ...(options.onClose ? { onClose: options.onClose } : {}),
    methods: () => ({
      async ensureSchema({ dimensions, abortSignal }) {
        assertPositiveInteger(dimensions, 'dimensions', source);
        await options.ensureSchema?.({ dimensions, ...(abortSignal ? { abortSignal } : {}) });
        // Nodes and edges from before namespaces belong to the default collection's Memory.
        await write(async (run) => {
          for (const statement of legacyNamespaceStatements(defaultCollection))
            await run(statement);
        }, abortSignal);
      },

      async upsertEntities({ entities, abortSignal }) {
        if (entities.length === 0) return;
        for (const entity of entities) {
          checkNamespace(entity.namespace, { source });
          if (!Array.isArray(entity.embedding) || !entity.embedding.every(Number.isFinite)) {
            throw new InvalidArgumentError({
              source,
              message: `Entity ${entity.id} needs an embedding of finite numbers.`,
            });
          }
        }
        const properties = entities.map((entity) => entityProperties(entity, dialect));
        await write(async (run) => {
          for (const batch of batches(properties, batchSize)) {
            await run(upsertEntitiesStatement(batch, dialect));
          }
        }, abortSignal);
      },

      async upsertRelations({ relations, abortSignal }) {
        if (relations.length === 0) return;
        for (const relation of relations) checkNamespace(relation.namespace, { source });
        const properties = relations.map((relation) => relationProperties(relation, dialect));
        await write(async (run) => {
          const missing = await run(missingEndpointsStatement(relations));
          if (missing.length > 0) {
            // Inside a transaction where the backend has them, so nothing of this call is kept.
            throw new NotFoundError({
              source,
              message: `Relations ${missing.map((row) => row.missing).join(', ')} name entities that do not exist; upsert the entities first.`,
            });
          }
          for (const batch of batches(properties, batchSize)) {
            for (const statement of writeRelationsStatements(batch, dialect)) await run(statement);
          }
        }, abortSignal);
      },

      async findSimilarEntities({ abortSignal, ...query }) {
        const place = requiredPlace(query);
        assertPositiveInteger(query.topK, 'topK', source);
        return findSimilar({ ...query, ...place }, abortSignal);
      },

      async neighbours({ abortSignal, ...request }) {
        const place = requiredPlace(request);
        assertPositiveInteger(request.limit, 'limit', source);
        if (request.entityIds.length === 0) return [];
        const statement = neighboursStatement({ ...request, ...place }, dialect);
        const rows = await read((run) => run(statement), abortSignal);
        return rows.map(tripleFromRow);
      },

      async invalidateRelations({ abortSignal, ...request }) {
        const place = requiredPlace(request);
        if (request.relationIds.length === 0) return;
        const statement = invalidateStatement({ ...request, ...place });
        await write((run) => run(statement), abortSignal);
      },

      async list({ abortSignal, limit, cursor, includeInvalidated, ...request }) {
        const place = requiredPlace(request);
        assertPositiveInteger(limit, 'limit', source);
        const after = decodeCursor(cursor, source);
        const statement = listStatement({
          ...place,
          limit,
          ...(after === undefined ? {} : { after }),
          ...(includeInvalidated ? { includeInvalidated: true } : {}),
        });
        const rows = await read((run) => run(statement), abortSignal);
        const triples = rows.slice(0, limit).map(tripleFromRow);
        const last = triples.at(-1);
        return {
          triples,
          ...(rows.length > limit && last ? { nextCursor: encodeCursor(last.relation.id) } : {}),
        };
      },

      async deleteScope({ abortSignal, ...request }) {
        const statements = deleteScopeStatements(requiredPlace(request), dialect);
        return write(async (run) => {
          const [relations] = await run(statements.relations);
          const [entities] = await run(statements.entities);
          return {
            deleted:
              numberFromCypher(relations?.deleted ?? 0) + numberFromCypher(entities?.deleted ?? 0),
          };
        }, abortSignal);
      },
    }),
  });
}
