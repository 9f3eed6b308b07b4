import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { join } from 'node:path';
import {
  AdapterCallError,
  type CallOptions,
  ClosedError,
  type CountOptions,
  type DeleteOptions,
  DimensionMismatchError,
  decodeCursor,
  EngramError,
  type EnsureCollectionOptions,
  encodeCursor,
  type FilterExpression,
  filterOperators,
  type GetOptions,
  InvalidArgumentError,
  type JsonValue,
  type ListOptions,
  type ListPage,
  NotFoundError,
  normalizeScope,
  type QueryOptions,
  type Scope,
  type StoredRecord,
  scopeFields,
  throwIfAborted,
  type UpsertOptions,
  type VectorMatch,
  type VectorRecord,
  type VectorStore,
  type VectorStoreCapabilities,
} from '@engram/core';
import type { Connection, Table } from '@lancedb/lancedb';
import {
  flattenLanceDBMetadata,
  type LanceDBMetadataColumnKind,
  lanceDBMetadataColumnPrefix,
  lanceDBString,
  translateLanceDBFilter,
} from './lancedb-filter.js';

const source = 'lancedb';

// LanceDB is a CommonJS package that loads its own CommonJS copy of apache-arrow; schemas built
// with the ESM copy fail its `instanceof` checks, so both are loaded the same way.
const require = createRequire(import.meta.url);
type LanceDBModule = typeof import('@lancedb/lancedb');
type ArrowModule = typeof import('apache-arrow');
let modules: { lancedb: LanceDBModule; arrow: ArrowModule } | undefined;
function loadModules() {
  modules ??= {
    lancedb: require('@lancedb/lancedb') as LanceDBModule,
    arrow: require('apache-arrow') as ArrowModule,
  };
  return modules;
}

/** Options of {@link createLanceDBVectorStore}. */
export interface LanceDBVectorStoreOptions {
  /**
   * An open LanceDB connection. When given, `uri` and `storageOptions` are ignored, and `close()`
   * leaves the connection open: its owner closes it.
   */
  connection?: Connection;
  /**
   * Database location: a local directory, or an object-store URI (`s3://bucket/path`,
   * `gs://...`, `az://...`). Default: the `LANCEDB_URI` environment variable, else `lancedb` in
   * `ENGRAM_HOME`, else `~/.engram/lancedb`.
   */
  uri?: string;
  /** Same as `uri`; lets configuration by name pass a location as `url`. */
  url?: string;
  /** Object-store settings passed to `connect` (credentials, region, endpoint, timeouts). */
  storageOptions?: Record<string, string>;
  /**
   * Seconds between checks for writes made by other processes or connections. Default 0: every
   * read sees the latest committed data. Larger values trade freshness for fewer storage reads
   * (useful on object storage).
   */
  readConsistencyInterval?: number;
  /**
   * Rows from which {@link LanceDBVectorStore.optimize} builds an approximate (HNSW) vector index;
   * below it, searches scan every row of the scope exactly. Default 50,000.
   */
  vectorIndexThreshold?: number;
}

/** Options of {@link LanceDBVectorStore.optimize}. */
export interface LanceDBOptimizeOptions extends CallOptions {
  /** The collection to optimize. */
  collection: string;
}

/** A LanceDB `VectorStore`, plus index maintenance. */
export interface LanceDBVectorStore extends VectorStore {
  /**
   * Compacts the collection's files, brings its indexes up to date with new rows, adds scalar
   * indexes on id and scope columns, and builds an HNSW vector index (cosine) once the collection
   * has `vectorIndexThreshold` rows. Worth calling after large imports and then periodically
   * (e.g. after every few hundred thousand writes); searches stay correct without it.
   */
  optimize(options: LanceDBOptimizeOptions): Promise<void>;
}

const maxBatchSize = 10_000;

const capabilities: VectorStoreCapabilities = {
  keywordSearch: true,
  filterOperators,
  maxBatchSize,
  metric: 'cosine',
  atomicHistory: false,
};

const scopeColumns = { userId: 'user_id', agentId: 'agent_id', runId: 'run_id' } as const;
const recordColumns = [
  'id',
  'text',
  'hash',
  'user_id',
  'agent_id',
  'run_id',
  'metadata',
  'created_at',
  'updated_at',
];

interface Row {
  id: string;
  text: string;
  hash: string | null;
  user_id: string | null;
  agent_id: string | null;
  run_id: string | null;
  metadata: string;
  created_at: string;
  updated_at: string;
  vector?: ArrayLike<number>;
  _distance?: number;
  _score?: number;
}

interface TableHandle {
  table: Table;
  dimensions: number;
  columns: Set<string>;
  /** Writes to one table run one at a time in this process, so they never conflict. */
  writes: Promise<unknown>;
  hasTextIndex: boolean;
}

/** The default database directory: `lancedb` under `ENGRAM_HOME`, else under `~/.engram`. */
export function defaultLanceDBUri(): string {
  return join(process.env.ENGRAM_HOME ?? join(homedir(), '.engram'), 'lancedb');
}

function isNotFound(error: unknown): boolean {
  return /was not found|not found:/i.test(error instanceof Error ? error.message : String(error));
}

function wrapError(error: unknown, action: string): unknown {
  if (EngramError.isInstance(error)) return error;
  const detail = error instanceof Error ? error.message : String(error);
  return new AdapterCallError({
    source,
    message: `${action} failed: ${detail.split('\n')[0]}`,
    isRetryable: /conflict|timed? ?out|too many requests|429|503|connection|temporar/i.test(detail),
    cause: error,
  });
}

function columnKindOf(name: string): LanceDBMetadataColumnKind {
  return name.slice(lanceDBMetadataColumnPrefix.length).split(':')[0] as LanceDBMetadataColumnKind;
}

function toRecord(row: Row, includeVectors: boolean | undefined): StoredRecord {
  const record: StoredRecord = {
    id: row.id,
    text: row.text,
    metadata: JSON.parse(row.metadata) as Record<string, JsonValue>,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
  if (row.hash != null) record.hash = row.hash;
  for (const [field, column] of Object.entries(scopeColumns)) {
    const value = row[column];
    if (value != null) record[field as keyof Scope] = value;
  }
  if (includeVectors && row.vector) record.vector = Array.from(row.vector);
  return record;
}

/**
 * A `VectorStore` on LanceDB, embedded in the process (a local directory or an object store).
 * One table per collection: id, vector (cosine), text with a full-text (BM25) index, scope
 * columns, the metadata as exact JSON, and typed columns of flattened metadata that filters run
 * on inside the search, before topK. The factory does no I/O: the database opens on first use.
 */
export function createLanceDBVectorStore(
  options: LanceDBVectorStoreOptions = {},
): LanceDBVectorStore {
  let connectionPromise: Promise<Connection> | undefined;
  const ownsConnection = options.connection === undefined;
  const handles = new Map<string, Promise<TableHandle>>();
  const vectorIndexThreshold = options.vectorIndexThreshold ?? 50_000;
  let closed = false;

  function connect(): Promise<Connection> {
    if (options.connection) return Promise.resolve(options.connection);
    connectionPromise ??= (async () => {
      const { lancedb } = loadModules();
      const uri = options.uri ?? options.url ?? process.env.LANCEDB_URI ?? defaultLanceDBUri();
      return lancedb.connect(uri, {
        readConsistencyInterval: options.readConsistencyInterval ?? 0,
        ...(options.storageOptions ? { storageOptions: options.storageOptions } : {}),
      });
    })();
    connectionPromise.catch(() => {
      connectionPromise = undefined;
    });
    return connectionPromise;
  }

  function open(signal: AbortSignal | undefined): void {
    if (closed)
      throw new ClosedError({ source, message: 'The store was closed; create a new one.' });
    throwIfAborted(signal, source);
  }

  async function run<T>(signal: AbortSignal | undefined, action: string, work: () => Promise<T>) {
    open(signal);
    try {
      return await work();
    } catch (error) {
      throw wrapError(error, action);
    }
  }

  async function describe(table: Table): Promise<Omit<TableHandle, 'table' | 'writes'>> {
    const schema = await table.schema();
    const vectorType = schema.fields.find((field) => field.name === 'vector')?.type as
      | { listSize?: number }
      | undefined;
    const indices = await table.listIndices();
    return {
      dimensions: vectorType?.listSize ?? 0,
      columns: new Set(schema.fields.map((field) => field.name)),
      hasTextIndex: indices.some(
        (index) => index.columns.includes('text') && index.indexType === 'FTS',
      ),
    };
  }

  function handleOf(name: string): Promise<TableHandle> {
    let handle = handles.get(name);
    if (!handle) {
      handle = (async () => {
        const connection = await connect();
        let table: Table;
        try {
          table = await connection.openTable(name);
        } catch (error) {
          if (!isNotFound(error)) throw error;
          throw new NotFoundError({
            source,
            message: `Collection "${name}" does not exist; call ensureCollection first.`,
            cause: error,
          });
        }
        return { table, writes: Promise.resolve(), ...(await describe(table)) };
      })();
      handles.set(name, handle);
      handle.catch(() => handles.delete(name));
    }
    return handle;
  }

  /** Runs a write after the table's previous writes, so that commits never race in-process. */
  function write<T>(handle: TableHandle, work: () => Promise<T>): Promise<T> {
    const result = handle.writes.then(work);
    handle.writes = result.catch(() => undefined);
    return result;
  }

  function schemaFor(dimensions: number) {
    const { arrow } = loadModules();
    const text = () => new arrow.Utf8();
    return new arrow.Schema([
      new arrow.Field('id', text(), false),
      new arrow.Field(
        'vector',
        new arrow.FixedSizeList(dimensions, new arrow.Field('item', new arrow.Float32(), true)),
        false,
      ),
      new arrow.Field('text', text(), false),
      new arrow.Field('hash', text(), true),
      new arrow.Field('user_id', text(), true),
      new arrow.Field('agent_id', text(), true),
      new arrow.Field('run_id', text(), true),
      new arrow.Field('metadata', text(), false),
      new arrow.Field('created_at', text(), false),
      new arrow.Field('updated_at', text(), false),
    ]);
  }

  function metadataField(name: string) {
    const { arrow } = loadModules();
    const list = (type: InstanceType<ArrowModule['DataType']>) =>
      new arrow.List(new arrow.Field('item', type, true));
    const types = {
      x: () => new arrow.Int8(),
      s: () => new arrow.Utf8(),
      n: () => new arrow.Float64(),
      b: () => new arrow.Int8(),
      as: () => list(new arrow.Utf8()),
      an: () => list(new arrow.Float64()),
      ab: () => list(new arrow.Int8()),
    };
    return new arrow.Field(name, types[columnKindOf(name)](), true);
  }

  function whereOf(
    handle: TableHandle,
    scopeInput: Scope | undefined,
    filter: FilterExpression | undefined,
  ) {
    const scope = normalizeScope(scopeInput, { source });
    const conditions: string[] = [];
    for (const field of scopeFields) {
      const value = scope[field];
      if (value !== undefined) conditions.push(`${scopeColumns[field]} = ${lanceDBString(value)}`);
    }
    if (filter) conditions.push(translateLanceDBFilter(filter, handle.columns));
    return { where: conditions.length > 0 ? conditions.join(' AND ') : undefined, scope };
  }

  function checkVector(handle: TableHandle, vector: readonly number[], what: string) {
    if (!Array.isArray(vector) || vector.length !== handle.dimensions) {
      const actual = Array.isArray(vector) ? vector.length : 0;
      throw new DimensionMismatchError({
        source,
        expected: handle.dimensions,
        actual,
        message: `${what} has ${actual} dimensions; the collection holds ${handle.dimensions}.`,
      });
    }
  }

  function checkRecords(handle: TableHandle, records: readonly VectorRecord[]) {
    for (const record of records) {
      if (typeof record.id !== 'string' || record.id.length === 0) {
        throw new InvalidArgumentError({
          source,
          message: 'Every record needs a non-empty string id.',
        });
      }
      if (typeof record.text !== 'string') {
        throw new InvalidArgumentError({
          source,
          message: `Record "${record.id}" needs a string text.`,
        });
      }
      checkVector(handle, record.vector, `The vector of record "${record.id}"`);
      normalizeScope(record, { source });
    }
  }

  const selected = (includeVectors: boolean | undefined) =>
    includeVectors ? [...recordColumns, 'vector'] : recordColumns;

  async function ensureTextIndex(handle: TableHandle) {
    if (handle.hasTextIndex) return;
    const { lancedb } = loadModules();
    await write(handle, async () => {
      if (handle.hasTextIndex) return;
      await handle.table.createIndex('text', { config: lancedb.Index.fts(), replace: false });
      handle.hasTextIndex = true;
    }).catch(async (error: unknown) => {
      // another process may have created it first
      if (!(await describe(handle.table)).hasTextIndex) throw error;
      handle.hasTextIndex = true;
    });
  }

  async function close() {
    if (closed) return;
    closed = true;
    const opened = [...handles.values()];
    handles.clear();
    for (const handle of opened) {
      try {
        (await handle).table.close();
      } catch {
        // a table that failed to open has nothing to close
      }
    }
    if (ownsConnection && connectionPromise) {
      try {
        (await connectionPromise).close();
      } catch {
        // nothing more to release
      }
    }
  }

  return {
    specificationVersion: 'v1',
    provider: source,
    capabilities,

    async ensureCollection({ collection, dimensions, abortSignal }: EnsureCollectionOptions) {
      open(abortSignal);
      if (!Number.isInteger(dimensions) || dimensions <= 0) {
        throw new InvalidArgumentError({
          source,
          message: `dimensions must be a positive integer, got ${dimensions}.`,
        });
      }
      if (typeof collection !== 'string' || !/^[A-Za-z0-9_.-]+$/.test(collection)) {
        throw new InvalidArgumentError({
          source,
          message: `collection must be a name of letters, digits, "_", "-" or ".", got ${JSON.stringify(collection)}.`,
        });
      }
      await run(abortSignal, 'ensureCollection', async () => {
        let handle: TableHandle;
        try {
          handle = await handleOf(collection);
        } catch (error) {
          if (!NotFoundError.isInstance(error)) throw error;
          const connection = await connect();
          try {
            const table = await connection.createEmptyTable(collection, schemaFor(dimensions));
            const { lancedb } = loadModules();
            await table.createIndex('text', { config: lancedb.Index.fts() });
            table.close();
          } catch (createError) {
            // created meanwhile by another store or process: use theirs
            if (!/already exists/i.test(String(createError))) throw createError;
          }
          handle = await handleOf(collection);
        }
        if (handle.dimensions !== dimensions) {
          throw new DimensionMismatchError({
            source,
            expected: handle.dimensions,
            actual: dimensions,
            message: `Collection "${collection}" holds ${handle.dimensions}-dimensional vectors, not ${dimensions}. Use the embedder it was created with, or another collection.`,
          });
        }
      });
    },

    async upsert({ collection, records, abortSignal }: UpsertOptions) {
      await run(abortSignal, 'upsert', async () => {
        const handle = await handleOf(collection);
        checkRecords(handle, records);
        if (records.length === 0) return;
        const latest = [...new Map(records.map((record) => [record.id, record])).values()];
        const rows = latest.map((record) => ({
          id: record.id,
          vector: record.vector,
          text: record.text,
          hash: record.hash ?? null,
          user_id: record.userId ?? null,
          agent_id: record.agentId ?? null,
          run_id: record.runId ?? null,
          metadata: JSON.stringify(record.metadata),
          created_at: record.createdAt,
          updated_at: record.updatedAt,
          ...flattenLanceDBMetadata(record.metadata),
        }));
        await write(handle, async () => {
          const wanted = new Set(rows.flatMap((row) => Object.keys(row)));
          const missing = [...wanted].filter((name) => !handle.columns.has(name));
          if (missing.length > 0) {
            try {
              await handle.table.addColumns(missing.map(metadataField));
            } catch (error) {
              // another process may have added some of them; the schema says what is there now
              const current = await describe(handle.table);
              if (missing.some((name) => !current.columns.has(name))) throw error;
            }
            handle.columns = (await describe(handle.table)).columns;
          }
          // Every row names every column, so a replaced record keeps nothing of its old version.
          const names = [...handle.columns];
          const complete = rows.map((row) => {
            const full: Record<string, unknown> = {};
            for (const name of names) full[name] = (row as Record<string, unknown>)[name] ?? null;
            return full;
          });
          const { lancedb } = loadModules();
          const data = lancedb.makeArrowTable(complete, { schema: await handle.table.schema() });
          await handle.table
            .mergeInsert('id')
            .whenMatchedUpdateAll()
            .whenNotMatchedInsertAll()
            .execute(data);
        });
      });
    },

    async query(options: QueryOptions): Promise<VectorMatch[]> {
      return run(options.abortSignal, 'query', async () => {
        if (!Number.isInteger(options.topK) || options.topK <= 0) {
          throw new InvalidArgumentError({
            source,
            message: `topK must be a positive integer, got ${options.topK}.`,
          });
        }
        const handle = await handleOf(options.collection);
        const { where } = whereOf(handle, options.scope, options.filter);
        if (options.vector) {
          checkVector(handle, options.vector, 'The query vector');
          let search = handle.table
            .vectorSearch(options.vector)
            .distanceType('cosine')
            .limit(options.topK)
            .select([...selected(options.includeVectors), '_distance']);
          if (where) search = search.where(where);
          const rows = (await search.toArray()) as Row[];
          return rows.map((row) => ({
            record: toRecord(row, options.includeVectors),
            score: 1 - (row._distance ?? 1),
          }));
        }
        if (options.text === undefined) {
          throw new InvalidArgumentError({ source, message: 'query needs a vector or a text.' });
        }
        await ensureTextIndex(handle);
        let search = handle.table
          .query()
          .fullTextSearch(options.text, { columns: 'text' })
          .limit(options.topK)
          .select([...selected(options.includeVectors), '_score']);
        if (where) search = search.where(where);
        const rows = (await search.toArray()) as Row[];
        // the top matches arrive in no particular order
        return rows
          .map((row) => ({ record: toRecord(row, options.includeVectors), score: row._score ?? 0 }))
          .filter((match) => match.score > 0)
          .sort(
            (left, right) =>
              right.score - left.score || (left.record.id < right.record.id ? -1 : 1),
          );
      });
    },

    async get({ collection, ids, includeVectors, abortSignal }: GetOptions) {
      return run(abortSignal, 'get', async () => {
        const handle = await handleOf(collection);
        const unique = [...new Set(ids)];
        const records: StoredRecord[] = [];
        for (let start = 0; start < unique.length; start += 1_000) {
          const chunk = unique.slice(start, start + 1_000);
          const rows = (await handle.table
            .query()
            .where(`id IN (${chunk.map(lanceDBString).join(', ')})`)
            .select(selected(includeVectors))
            .toArray()) as Row[];
          records.push(...rows.map((row) => toRecord(row, includeVectors)));
        }
        return records;
      });
    },

    async delete(options: DeleteOptions) {
      return run(options.abortSignal, 'delete', async () => {
        const handle = await handleOf(options.collection);
        if (options.ids) {
          const ids = [...new Set(options.ids)];
          let deleted = 0;
          for (let start = 0; start < ids.length; start += 1_000) {
            const chunk = ids.slice(start, start + 1_000);
            const result = await write(handle, () =>
              handle.table.delete(`id IN (${chunk.map(lanceDBString).join(', ')})`),
            );
            deleted += result.numDeletedRows;
          }
          return { deleted };
        }
        const { where, scope } = whereOf(handle, options.scope, options.filter);
        if (!options.filter && Object.keys(scope).length === 0) {
          throw new InvalidArgumentError({
            source,
            message:
              'delete needs ids, a non-empty scope or a filter; use dropCollection to empty a collection.',
          });
        }
        const result = await write(handle, () => handle.table.delete(where ?? 'true'));
        return { deleted: result.numDeletedRows };
      });
    },

    async list(options: ListOptions): Promise<ListPage> {
      return run(options.abortSignal, 'list', async () => {
        if (!Number.isInteger(options.limit) || options.limit <= 0) {
          throw new InvalidArgumentError({
            source,
            message: `limit must be a positive integer, got ${options.limit}.`,
          });
        }
        const after = decodeCursor(options.cursor, source);
        const handle = await handleOf(options.collection);
        const { where } = whereOf(handle, options.scope, options.filter);
        const conditions = [
          ...(where ? [where] : []),
          ...(after !== undefined ? [`id > ${lanceDBString(after)}`] : []),
        ];
        let query = handle.table
          .query()
          .orderBy({ columnName: 'id', ascending: true })
          .limit(options.limit + 1)
          .select(selected(options.includeVectors));
        if (conditions.length > 0) query = query.where(conditions.join(' AND '));
        const rows = (await query.toArray()) as Row[];
        const page = rows.slice(0, options.limit);
        const last = page.at(-1);
        return {
          records: page.map((row) => toRecord(row, options.includeVectors)),
          ...(rows.length > options.limit && last ? { nextCursor: encodeCursor(last.id) } : {}),
        };
      });
    },

    async count(options: CountOptions) {
      return run(options.abortSignal, 'count', async () => {
        const handle = await handleOf(options.collection);
        const { where } = whereOf(handle, options.scope, options.filter);
        return handle.table.countRows(where);
      });
    },

    async dropCollection({ collection, abortSignal }) {
      await run(abortSignal, 'dropCollection', async () => {
        const handle = handles.get(collection);
        handles.delete(collection);
        if (handle) {
          try {
            (await handle).table.close();
          } catch {
            // it never opened
          }
        }
        try {
          await (await connect()).dropTable(collection);
        } catch (error) {
          if (!isNotFound(error)) throw error;
        }
      });
    },

    async optimize({ collection, abortSignal }: LanceDBOptimizeOptions) {
      await run(abortSignal, 'optimize', async () => {
        const handle = await handleOf(collection);
        const { lancedb } = loadModules();
        await write(handle, async () => {
          const indices = await handle.table.listIndices();
          const indexed = (column: string) =>
            indices.some((index) => index.columns.includes(column));
          for (const column of ['id', ...Object.values(scopeColumns)]) {
            if (!indexed(column)) {
              await handle.table.createIndex(column, { config: lancedb.Index.btree() });
            }
          }
          if (!indexed('text')) {
            await handle.table.createIndex('text', { config: lancedb.Index.fts() });
          }
          if (!indexed('vector') && (await handle.table.countRows()) >= vectorIndexThreshold) {
            await handle.table.createIndex('vector', {
              config: lancedb.Index.hnswSq({ distanceType: 'cosine' }),
            });
          }
          await handle.table.optimize();
          Object.assign(handle, await describe(handle.table));
        });
      });
    },

    close,
    [Symbol.asyncDispose]: close,
  };
}
