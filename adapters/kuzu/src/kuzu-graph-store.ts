import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import {
  AdapterCallError,
  type CallOptions,
  ClosedError,
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
import {
  deleteRelationBetweenStatement,
  deleteScopeStatements,
  entityFromNode,
  entityTable,
  entityTableInfoStatement,
  entityTableStatement,
  invalidateRelationsStatement,
  type KuzuStatement,
  listStatement,
  neighboursStatement,
  relationEndpointsStatement,
  relationFromRelationship,
  relationTable,
  relationTableStatement,
  showTablesStatement,
  similarEntitiesStatement,
  upsertEntityStatement,
  upsertRelationStatement,
} from './kuzu-cypher.js';
import { wrapKuzuError } from './kuzu-errors.js';

const source = 'kuzu';

/** Options of {@link createKuzuGraphStore}. */
export interface KuzuGraphStoreOptions {
  /**
   * Database file, created with its folder when missing (`ENGRAM_GRAPH=kuzu` passes
   * `<data dir>/kuzu-graph`). `:memory:` keeps the graph in memory only. Required unless
   * `database` is given.
   */
  path?: string;
  /**
   * A Kuzu `Database` to use instead of opening `path`. The store opens one connection on it
   * and never closes the database: its owner does.
   */
  database?: KuzuDatabase;
  /** Size of Kuzu's buffer pool in bytes. Default: Kuzu's own (80% of the machine's memory). */
  bufferPoolSize?: number;
  /** Most threads one query may use. Default: Kuzu's own (every core). */
  numThreads?: number;
}

/** The part of a `kuzu` `Database` the store uses; a `new kuzu.Database(path)` is one. */
export interface KuzuDatabase {
  init(): Promise<void>;
  close(): Promise<void>;
}

// The parts of the kuzu package's API the store uses. They are declared here rather than taken
// from the package, whose type declarations only exist once its install script has run.
interface PreparedStatement {
  isSuccess(): boolean;
  getErrorMessage(): string;
}
interface QueryResult {
  getAll(): Promise<Record<string, unknown>[]>;
  close(): void;
}
interface Connection {
  init(): Promise<void>;
  prepare(text: string): Promise<PreparedStatement>;
  execute(
    statement: PreparedStatement,
    parameters: Record<string, unknown>,
  ): Promise<QueryResult | QueryResult[]>;
  query(text: string): Promise<QueryResult | QueryResult[]>;
  close(): Promise<void>;
}
interface KuzuModule {
  Database: new (path: string, bufferPoolSize?: number) => KuzuDatabase;
  Connection: new (database: KuzuDatabase, numThreads?: number) => Connection;
}

type Row = Record<string, unknown>;

interface Session {
  database: KuzuDatabase;
  connection: Connection;
  prepared: Map<string, PreparedStatement>;
}

const kuzuPackage = 'kuzu';

async function loadKuzu(): Promise<KuzuModule> {
  try {
    const module = (await import(kuzuPackage)) as { default?: KuzuModule } & KuzuModule;
    return module.default ?? module;
  } catch (error) {
    throw new AdapterCallError({
      source,
      message:
        'The kuzu package could not be loaded. Its install script copies the native binary ' +
        'into place: allow it (with pnpm, list kuzu in onlyBuiltDependencies) and reinstall.',
      cause: error,
    });
  }
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

function checkDimensions(embedding: readonly number[], expected: number, what: string): void {
  if (embedding.length !== expected) {
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

function dimensionsOfType(type: unknown): number | undefined {
  const match = /\[(\d+)\]$/.exec(String(type));
  return match ? Number(match[1]) : undefined;
}

/**
 * The embedded graph store: entities and relations in a Kuzu database on disk. Entity
 * similarity is exact cosine similarity over the scope's entities (`array_cosine_similarity`),
 * computed inside the engine. Every statement runs on one connection, one at a time: Kuzu runs
 * one write transaction at a time, and its Node binding is not safe with concurrent writers on
 * several connections.
 */
export function createKuzuGraphStore(options: KuzuGraphStoreOptions): GraphStore {
  if (!options || (options.path === undefined && options.database === undefined)) {
    throw new InvalidArgumentError({
      source,
      message: 'Pass `path` (a database file, or ":memory:") or an open Kuzu `database`.',
    });
  }
  if (options.path !== undefined && (typeof options.path !== 'string' || options.path === '')) {
    throw new InvalidArgumentError({ source, message: '`path` must be a non-empty string.' });
  }

  let closed = false;
  let closing: Promise<void> | undefined;
  let opening: Promise<Session> | undefined;
  let opened: Session | undefined;
  let ownsDatabase = false;
  let dimensions: number | undefined;
  let tail: Promise<unknown> = Promise.resolve();

  async function open(): Promise<Session> {
    const kuzu = await loadKuzu();
    let database = options.database;
    let owned = false;
    if (!database) {
      const path = options.path!;
      if (path !== ':memory:') await mkdir(dirname(path), { recursive: true });
      database = new kuzu.Database(path, options.bufferPoolSize ?? 0);
      owned = true;
    }
    try {
      await database.init();
      const connection = new kuzu.Connection(database, options.numThreads);
      await connection.init();
      const session: Session = { database, connection, prepared: new Map() };
      opened = session;
      ownsDatabase = owned;
      return session;
    } catch (error) {
      if (owned) await database.close().catch(() => {});
      throw error;
    }
  }

  function session(): Promise<Session> {
    opening ??= open().catch((error: unknown) => {
      // A failed open (another process holds the lock, say) may succeed on a later call.
      opening = undefined;
      throw error;
    });
    return opening;
  }

  function ensureOpen(callOptions: CallOptions): void {
    if (closed) {
      throw new ClosedError({ source, message: 'The graph store was closed; create a new one.' });
    }
    throwIfAborted(callOptions.abortSignal, source);
  }

  /** Runs `work` after every earlier call has finished, on the one connection. */
  function exclusive<T>(
    callOptions: CallOptions,
    action: string,
    work: (current: Session) => Promise<T>,
  ): Promise<T> {
    ensureOpen(callOptions);
    const run = tail.then(async () => {
      throwIfAborted(callOptions.abortSignal, source);
      try {
        return await work(await session());
      } catch (error) {
        throw wrapKuzuError(error, action);
      }
    });
    tail = run.catch(() => {});
    return run;
  }

  async function closeResults(result: QueryResult | QueryResult[]): Promise<void> {
    // An unclosed result outliving its database crashes the process when it is collected.
    for (const item of Array.isArray(result) ? result : [result]) item.close();
  }

  async function rows(current: Session, statement: KuzuStatement): Promise<Row[]> {
    let prepared = current.prepared.get(statement.text);
    if (!prepared) {
      prepared = await current.connection.prepare(statement.text);
      if (!prepared.isSuccess()) throw new Error(prepared.getErrorMessage());
      current.prepared.set(statement.text, prepared);
    }
    const result = await current.connection.execute(prepared, statement.parameters);
    try {
      const last = Array.isArray(result) ? result.at(-1) : result;
      return last ? ((await last.getAll()) as Row[]) : [];
    } finally {
      await closeResults(result);
    }
  }

  async function command(current: Session, text: string): Promise<void> {
    await closeResults(await current.connection.query(text));
  }

  async function transaction<T>(current: Session, work: () => Promise<T>): Promise<T> {
    await command(current, 'BEGIN TRANSACTION');
    try {
      const result = await work();
      await command(current, 'COMMIT');
      return result;
    } catch (error) {
      await command(current, 'ROLLBACK').catch(() => {});
      throw error;
    }
  }

  /** The embedding length of the database's entity table, or undefined when it has none. */
  async function schema(current: Session): Promise<number | undefined> {
    if (dimensions !== undefined) return dimensions;
    const tables = new Set((await rows(current, showTablesStatement())).map((row) => row.name));
    if (!tables.has(entityTable)) return undefined;
    const columns = await rows(current, entityTableInfoStatement());
    const embedding = columns.find((column) => column.name === 'embedding');
    const found = dimensionsOfType(embedding?.type);
    if (found === undefined) {
      throw new AdapterCallError({
        source,
        message: `The ${entityTable} table has no fixed-size embedding column; was it created by another program?`,
      });
    }
    if (!tables.has(relationTable)) await rows(current, relationTableStatement());
    dimensions = found;
    return found;
  }

  async function createSchema(current: Session, wanted: number): Promise<number> {
    const existing = await schema(current);
    if (existing !== undefined) {
      if (existing !== wanted) {
        throw new DimensionMismatchError({
          source,
          message: `The graph holds embeddings of ${existing} dimensions, not ${wanted}; use another path for another embedder.`,
          expected: existing,
          actual: wanted,
        });
      }
      return existing;
    }
    await rows(current, entityTableStatement(wanted));
    await rows(current, relationTableStatement());
    dimensions = wanted;
    return wanted;
  }

  function tripleFrom(row: Row): GraphTriple {
    const sourceEntity = entityFromNode(row.a as Row);
    const destination = entityFromNode(row.b as Row);
    return {
      relation: relationFromRelationship(row.r as Row, sourceEntity.id, destination.id),
      source: sourceEntity,
      destination,
    };
  }

  async function closeNow(): Promise<void> {
    await tail.catch(() => {});
    const current = opened ?? (await opening?.catch(() => undefined));
    if (!current) return;
    try {
      current.prepared.clear();
      await current.connection.close();
      if (ownsDatabase) await current.database.close();
    } catch (error) {
      throw wrapKuzuError(error, 'close');
    }
  }

  return {
    specificationVersion: 'v1',
    provider: 'kuzu',
    capabilities: { nativeVectorIndex: false },

    async ensureSchema(callOptions) {
      const wanted = count(callOptions.dimensions, 'dimensions', { allowZero: false });
      await exclusive(callOptions, 'ensureSchema', (current) => createSchema(current, wanted));
    },

    async upsertEntities(callOptions) {
      const entities: GraphEntity[] = callOptions.entities;
      ensureOpen(callOptions);
      if (entities.length === 0) return;
      await exclusive(callOptions, 'upsertEntities', async (current) => {
        const length =
          (await schema(current)) ?? (await createSchema(current, entities[0]!.embedding.length));
        for (const entity of entities) {
          checkDimensions(entity.embedding, length, `The embedding of entity ${entity.id}`);
        }
        await transaction(current, async () => {
          for (const entity of entities) await rows(current, upsertEntityStatement(entity, length));
        });
      });
    },

    async upsertRelations(callOptions) {
      const relations: GraphRelation[] = callOptions.relations;
      ensureOpen(callOptions);
      if (relations.length === 0) return;
      await exclusive(callOptions, 'upsertRelations', async (current) => {
        if ((await schema(current)) === undefined) {
          throw new InvalidArgumentError({
            source,
            message: 'Upsert the relations’ entities (or call ensureSchema) first.',
          });
        }
        await transaction(current, async () => {
          const wanted = new Map(relations.map((relation) => [relation.id, relation]));
          const stored = await rows(current, relationEndpointsStatement([...wanted.keys()]));
          for (const row of stored) {
            const next = wanted.get(String(row.id))!;
            if (row.sourceId !== next.sourceId || row.destinationId !== next.destinationId) {
              await rows(
                current,
                deleteRelationBetweenStatement(
                  next.id,
                  String(row.sourceId),
                  String(row.destinationId),
                ),
              );
            }
          }
          for (const relation of wanted.values()) {
            const written = await rows(current, upsertRelationStatement(relation));
            if (written.length === 0) {
              throw new InvalidArgumentError({
                source,
                message: `Relation ${relation.id} joins ${relation.sourceId} and ${relation.destinationId}, and at least one of them is not stored; upsert entities before their relations.`,
              });
            }
          }
        });
      });
    },

    async findSimilarEntities(callOptions) {
      ensureOpen(callOptions);
      const scope = requiredScope(callOptions.scope);
      const topK = count(callOptions.topK, 'topK', { allowZero: true });
      return exclusive(callOptions, 'findSimilarEntities', async (current) => {
        const length = await schema(current);
        if (length === undefined || topK === 0) return [];
        checkDimensions(callOptions.embedding, length, 'The query embedding');
        const found = await rows(
          current,
          similarEntitiesStatement({
            scope,
            embedding: callOptions.embedding,
            topK,
            threshold: callOptions.threshold,
            dimensions: length,
          }),
        );
        return found.map((row) => ({
          entity: entityFromNode(row.e as Row),
          score: Number(row.score),
        }));
      });
    },

    async neighbours(callOptions) {
      ensureOpen(callOptions);
      const scope = requiredScope(callOptions.scope);
      const limit = count(callOptions.limit, 'limit', { allowZero: true });
      const entityIds = [...new Set(callOptions.entityIds)];
      return exclusive(callOptions, 'neighbours', async (current) => {
        if ((await schema(current)) === undefined || entityIds.length === 0 || limit === 0)
          return [];
        const found = await rows(current, neighboursStatement({ scope, entityIds, limit }));
        return found.map(tripleFrom);
      });
    },

    async invalidateRelations(callOptions) {
      ensureOpen(callOptions);
      const scope = requiredScope(callOptions.scope);
      const relationIds = [...new Set(callOptions.relationIds)];
      await exclusive(callOptions, 'invalidateRelations', async (current) => {
        if ((await schema(current)) === undefined || relationIds.length === 0) return;
        await rows(
          current,
          invalidateRelationsStatement({ scope, relationIds, at: callOptions.at }),
        );
      });
    },

    async list(callOptions) {
      ensureOpen(callOptions);
      const scope = requiredScope(callOptions.scope);
      const limit = count(callOptions.limit, 'limit', { allowZero: false });
      const after = decodeCursor(callOptions.cursor, source);
      return exclusive(callOptions, 'list', async (current) => {
        if ((await schema(current)) === undefined) return { triples: [] };
        const found = await rows(
          current,
          listStatement({
            scope,
            limit,
            after,
            includeInvalidated: callOptions.includeInvalidated,
          }),
        );
        const triples = found.slice(0, limit).map(tripleFrom);
        const last = triples.at(-1);
        return {
          triples,
          ...(found.length > limit && last ? { nextCursor: encodeCursor(last.relation.id) } : {}),
        };
      });
    },

    async deleteScope(callOptions) {
      ensureOpen(callOptions);
      const scope = requiredScope(callOptions.scope);
      return exclusive(callOptions, 'deleteScope', async (current) => {
        if ((await schema(current)) === undefined) return { deleted: 0 };
        const statements = deleteScopeStatements(scope);
        return transaction(current, async () => {
          const [relations] = await rows(current, statements.countRelations);
          await rows(current, statements.deleteRelations);
          const [entities] = await rows(current, statements.countEntities);
          await rows(current, statements.deleteEntities);
          return { deleted: Number(relations?.count ?? 0) + Number(entities?.count ?? 0) };
        });
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
