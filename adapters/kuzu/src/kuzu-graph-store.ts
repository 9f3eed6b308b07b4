import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { defineGraphStore } from '@engram/adapter-kit';
import {
  AdapterCallError,
  type CallOptions,
  cosineSimilarity,
  DimensionMismatchError,
  defaultCollection,
  type GraphStore,
  InvalidArgumentError,
  throwIfAborted,
} from '@engram/core';
import {
  createSerialQueue,
  entityFromStoredProperties,
  graphArguments,
  missingEndpointError,
  tripleFromStoredProperties,
  triplePage,
} from '@engram/cypher-compatible';
import {
  addNamespaceColumnStatement,
  deleteRelationBetweenStatement,
  deleteScopeStatements,
  entityTable,
  entityTableInfoStatement,
  entityTableStatement,
  invalidateRelationsStatement,
  type KuzuStatement,
  listStatement,
  neighboursStatement,
  relationEndpointsStatement,
  relationTable,
  relationTableInfoStatement,
  relationTableStatement,
  showTablesStatement,
  similarEntitiesStatement,
  upsertEntityStatement,
  upsertRelationStatement,
} from './kuzu-cypher.js';
import { toKuzuError } from './kuzu-errors.js';

const source = 'kuzu';
const checks = graphArguments(source);

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

function dimensionsOfType(type: unknown): number | undefined {
  const match = /\[(\d+)\]$/.exec(String(type));
  return match ? Number(match[1]) : undefined;
}

/**
 * The embedded graph store: entities and relations in a Kuzu database on disk, each carrying its
 * namespace and scope, which every statement filters by. Entity similarity is exact cosine
 * similarity over the scope's entities (`array_cosine_similarity`), computed inside the engine.
 * A database created before namespaces gets the namespace column on first use, holding the
 * default collection's name for what it already stores. Every statement runs on one connection,
 * one at a time: Kuzu runs one write transaction at a time, and its Node binding is not safe
 * with concurrent writers on several connections.
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

  let opening: Promise<Session> | undefined;
  let opened: Session | undefined;
  let ownsDatabase = false;
  let dimensions: number | undefined;
  const queue = createSerialQueue();

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

  /** Runs `work` after every earlier call has finished, on the one connection. */
  function exclusive<T>(
    callOptions: CallOptions,
    work: (current: Session) => Promise<T>,
  ): Promise<T> {
    return queue.run(async () => {
      throwIfAborted(callOptions.abortSignal, source);
      return work(await session());
    });
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
    if (!columns.some((column) => column.name === 'namespace')) {
      await rows(current, addNamespaceColumnStatement(entityTable, defaultCollection));
    }
    if (!tables.has(relationTable)) {
      await rows(current, relationTableStatement());
    } else {
      const relationColumns = await rows(current, relationTableInfoStatement());
      if (!relationColumns.some((column) => column.name === 'namespace')) {
        await rows(current, addNamespaceColumnStatement(relationTable, defaultCollection));
      }
    }
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

  function tripleFrom(row: Row) {
    return tripleFromStoredProperties(row.r as Row, row.a as Row, row.b as Row);
  }

  return defineGraphStore({
    provider: source,
    capabilities: { nativeVectorIndex: false },
    toError: toKuzuError,
    async onClose() {
      await queue.idle();
      const current = opened ?? (await opening?.catch(() => undefined));
      if (!current) return;
      try {
        current.prepared.clear();
        await current.connection.close();
        if (ownsDatabase) await current.database.close();
      } catch (error) {
        throw toKuzuError(error, 'close');
      }
    },
    methods: () => ({
      async ensureSchema(callOptions) {
        const wanted = checks.count(callOptions.dimensions, 'dimensions', { allowZero: false });
        await exclusive(callOptions, (current) => createSchema(current, wanted));
      },

      async upsertEntities(callOptions) {
        const { entities } = callOptions;
        if (entities.length === 0) return;
        checks.namespaces(entities);
        await exclusive(callOptions, async (current) => {
          const length =
            (await schema(current)) ?? (await createSchema(current, entities[0]!.embedding.length));
          for (const entity of entities) {
            checks.embedding(entity.embedding, length, `The embedding of entity ${entity.id}`);
          }
          await transaction(current, async () => {
            for (const entity of entities)
              await rows(current, upsertEntityStatement(entity, length));
          });
        });
      },

      async upsertRelations(callOptions) {
        const { relations } = callOptions;
        if (relations.length === 0) return;
        checks.namespaces(relations);
        await exclusive(callOptions, async (current) => {
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
              if (written.length === 0) throw missingEndpointError(relation, source);
            }
          });
        });
      },

      async findSimilarEntities(callOptions) {
        const { namespace, scope, topK } = checks.similarEntities(callOptions);
        return exclusive(callOptions, async (current) => {
          const length = await schema(current);
          if (length === undefined || topK === 0) return [];
          checks.embedding(callOptions.embedding, length, 'The query embedding');
          // The engine ranks candidates with its own cosine kernel, whose precision depends on
          // the processor (on some, 1 - 5e-8 for identical vectors, or 0 when squares overflow
          // single precision); the scores returned are computed here in double precision, over
          // a few more candidates than asked for, with the threshold applied to them.
          const { threshold } = callOptions;
          const found = await rows(
            current,
            similarEntitiesStatement({
              namespace,
              scope,
              embedding: callOptions.embedding,
              topK: Math.max(topK * 4, topK + 20),
              threshold: threshold === undefined ? undefined : threshold - 1e-4,
              dimensions: length,
            }),
          );
          return found
            .map((row) => {
              const entity = entityFromStoredProperties(row.e as Row);
              return { entity, score: cosineSimilarity(callOptions.embedding, entity.embedding) };
            })
            .filter((match) => threshold === undefined || match.score >= threshold)
            .sort(
              (left, right) =>
                right.score - left.score ||
                (left.entity.id < right.entity.id ? -1 : left.entity.id > right.entity.id ? 1 : 0),
            )
            .slice(0, topK);
        });
      },

      async neighbours(callOptions) {
        const neighbourhood = checks.neighbours(callOptions);
        return exclusive(callOptions, async (current) => {
          if (
            (await schema(current)) === undefined ||
            neighbourhood.entityIds.length === 0 ||
            neighbourhood.limit === 0
          ) {
            return [];
          }
          return (await rows(current, neighboursStatement(neighbourhood))).map(tripleFrom);
        });
      },

      async invalidateRelations(callOptions) {
        const invalidation = checks.invalidateRelations(callOptions);
        await exclusive(callOptions, async (current) => {
          if ((await schema(current)) === undefined || invalidation.relationIds.length === 0)
            return;
          await rows(current, invalidateRelationsStatement(invalidation));
        });
      },

      async list(callOptions) {
        const page = checks.list(callOptions);
        return exclusive(callOptions, async (current) => {
          if ((await schema(current)) === undefined) return { triples: [] };
          const found = await rows(current, listStatement(page));
          return triplePage(found.map(tripleFrom), page.limit);
        });
      },

      async deleteScope(callOptions) {
        const statements = deleteScopeStatements(checks.place(callOptions));
        return exclusive(callOptions, async (current) => {
          if ((await schema(current)) === undefined) return { deleted: 0 };
          return transaction(current, async () => {
            const [relations] = await rows(current, statements.countRelations);
            await rows(current, statements.deleteRelations);
            const [entities] = await rows(current, statements.countEntities);
            await rows(current, statements.deleteEntities);
            return { deleted: Number(relations?.count ?? 0) + Number(entities?.count ?? 0) };
          });
        });
      },
    }),
  });
}
