import { join } from 'node:path';
import {
  assertPositiveInteger,
  assertRecords,
  assertVectorLength,
  chunk,
  collectionDimensionMismatch,
  defaultDataDirectory,
  defineVectorStore,
  deleteNeedsSelectionMessage,
  isRetryableNetworkError,
  loadOptionalSetting,
  toAdapterCallError,
} from '@engram/adapter-kit';
import {
  type CallOptions,
  decodeCursor,
  encodeCursor,
  type FilterExpression,
  filterOperators,
  InvalidArgumentError,
  NotFoundError,
  normalizeScope,
  type Scope,
  scopeFields,
  type VectorStore,
} from '@engram/core';
import type { Connection, Table } from '@lancedb/lancedb';
import { lanceDBString, translateLanceDBFilter } from './lancedb-filter.js';
import {
  describeTable,
  keywordColumn,
  loadModules,
  metadataField,
  type Row,
  recordColumns,
  scopeColumns,
  type TableShape,
  tableSchema,
  toRecord,
  toRow,
} from './lancedb-tables.js';

const source = 'lancedb';

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
  /**
   * Candidates an indexed vector query considers in the HNSW graph of each partition it
   * searches (LanceDB's `ef`), raised to `topK` when that is larger. Higher finds the true
   * nearest neighbours more often and costs more. Default 50: LanceDB's own, 1.5 x topK, found
   * 90% of the true top 10 among 100k vectors of 384 dimensions in our benchmark, 50 found 97%
   * in the same time.
   */
  ef?: number;
  /**
   * Partitions of the vector index an indexed query searches (LanceDB's `nprobes`). Higher
   * finds the true nearest neighbours more often and costs more. Default: LanceDB's (20).
   */
  nprobes?: number;
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

type LanceDBMethods = Omit<
  LanceDBVectorStore,
  'specificationVersion' | 'provider' | 'capabilities' | 'close' | typeof Symbol.asyncDispose
>;

interface TableHandle extends TableShape {
  table: Table;
  /** Writes to one table run one at a time in this process, so they never conflict. */
  writes: Promise<unknown>;
}

const maxBatchSize = 10_000;
const idsPerStatement = 1_000;

/** The default database directory: `lancedb` under `ENGRAM_HOME`, else under `~/.engram`. */
export function defaultLanceDBUri(): string {
  return join(defaultDataDirectory(), 'lancedb');
}

function isNotFound(error: unknown): boolean {
  return /was not found|not found:/i.test(error instanceof Error ? error.message : String(error));
}

function toError(error: unknown, action: string) {
  const detail = error instanceof Error ? error.message : String(error);
  return toAdapterCallError(error, {
    source,
    action,
    detail: detail.split('\n')[0],
    isRetryable:
      /conflict|timed? ?out|too many requests|429|503|connection|temporar/i.test(detail) ||
      isRetryableNetworkError(error),
  });
}

function idIn(ids: readonly string[]): string {
  return `id IN (${ids.map(lanceDBString).join(', ')})`;
}

function selected(includeVectors: boolean | undefined) {
  return includeVectors ? [...recordColumns, 'vector'] : recordColumns;
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
  const handles = new Map<string, Promise<TableHandle>>();
  const vectorIndexThreshold = options.vectorIndexThreshold ?? 50_000;
  const { ef = 50, nprobes } = options;
  assertPositiveInteger(ef, 'ef', source);
  if (nprobes !== undefined) assertPositiveInteger(nprobes, 'nprobes', source);

  function connect(): Promise<Connection> {
    if (options.connection) return Promise.resolve(options.connection);
    connectionPromise ??= loadModules().lancedb.connect(
      loadOptionalSetting({
        value: options.uri ?? options.url,
        environmentVariableName: 'LANCEDB_URI',
        settingName: 'uri',
        source,
      }) ?? defaultLanceDBUri(),
      {
        readConsistencyInterval: options.readConsistencyInterval ?? 0,
        ...(options.storageOptions ? { storageOptions: options.storageOptions } : {}),
      },
    );
    connectionPromise.catch(() => {
      connectionPromise = undefined;
    });
    return connectionPromise;
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
        return { table, writes: Promise.resolve(), ...(await describeTable(table)) };
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

  async function ensureTextIndex(handle: TableHandle) {
    if (handle.hasTextIndex) return;
    const { lancedb } = loadModules();
    await write(handle, async () => {
      if (handle.hasTextIndex) return;
      await handle.table.createIndex(keywordColumn(handle.columns), {
        config: lancedb.Index.fts(),
        replace: false,
      });
      handle.hasTextIndex = true;
    }).catch(async (error: unknown) => {
      // another process may have created it first
      if (!(await describeTable(handle.table)).hasTextIndex) throw error;
      handle.hasTextIndex = true;
    });
  }

  /** Adds the metadata columns the rows need and that the table does not have yet. */
  async function addColumns(handle: TableHandle, rows: readonly Record<string, unknown>[]) {
    const wanted = new Set(rows.flatMap((row) => Object.keys(row)));
    const missing = [...wanted].filter((name) => !handle.columns.has(name));
    if (missing.length === 0) return;
    try {
      await handle.table.addColumns(missing.map(metadataField));
    } catch (error) {
      // another process may have added some of them; the schema says what is there now
      const current = await describeTable(handle.table);
      if (missing.some((name) => !current.columns.has(name))) throw error;
    }
    handle.columns = (await describeTable(handle.table)).columns;
  }

  async function closeTable(handle: Promise<TableHandle> | undefined) {
    try {
      (await handle)?.table.close();
    } catch {
      // a table that failed to open has nothing to close
    }
  }

  const methods = (): LanceDBMethods => ({
    async ensureCollection({ collection, dimensions }) {
      assertPositiveInteger(dimensions, 'dimensions', source);
      if (typeof collection !== 'string' || !/^[A-Za-z0-9_.-]+$/.test(collection)) {
        throw new InvalidArgumentError({
          source,
          message: `collection must be a name of letters, digits, "_", "-" or ".", got ${JSON.stringify(collection)}.`,
        });
      }
      let handle: TableHandle;
      try {
        handle = await handleOf(collection);
      } catch (error) {
        if (!NotFoundError.isInstance(error)) throw error;
        const connection = await connect();
        try {
          const table = await connection.createEmptyTable(collection, tableSchema(dimensions));
          await table.createIndex('keyword_text', { config: loadModules().lancedb.Index.fts() });
          table.close();
        } catch (createError) {
          // created meanwhile by another store or process: use theirs
          if (!/already exists/i.test(String(createError))) throw createError;
        }
        handle = await handleOf(collection);
      }
      if (handle.dimensions !== dimensions) {
        throw collectionDimensionMismatch({
          source,
          collection,
          existing: handle.dimensions,
          requested: dimensions,
        });
      }
    },

    async upsert({ collection, records }) {
      const handle = await handleOf(collection);
      assertRecords(records, { source, dimensions: handle.dimensions, collection });
      for (const record of records) {
        normalizeScope(record, { source });
        if (typeof record.text === 'string') continue;
        throw new InvalidArgumentError({
          source,
          message: `Record "${record.id}" needs a string text.`,
        });
      }
      if (records.length === 0) return;
      const latest = new Map(records.map((record) => [record.id, record]));
      const withKeywordText = handle.columns.has('keyword_text');
      const rows = [...latest.values()].map((record) => toRow(record, withKeywordText));
      await write(handle, async () => {
        await addColumns(handle, rows);
        // Every row names every column, so a replaced record keeps nothing of its old version.
        const names = [...handle.columns];
        const complete = rows.map((row) =>
          Object.fromEntries(names.map((name) => [name, row[name] ?? null])),
        );
        const { lancedb } = loadModules();
        const data = lancedb.makeArrowTable(complete, { schema: await handle.table.schema() });
        await handle.table
          .mergeInsert('id')
          .whenMatchedUpdateAll()
          .whenNotMatchedInsertAll()
          .execute(data);
      });
    },

    async query(options) {
      assertPositiveInteger(options.topK, 'topK', source);
      const handle = await handleOf(options.collection);
      const { where } = whereOf(handle, options.scope, options.filter);
      const { includeVectors } = options;
      if (options.vector) {
        assertVectorLength(options.vector, handle.dimensions, {
          source,
          what: 'The query vector',
        });
        let search = handle.table
          .vectorSearch(options.vector)
          .distanceType('cosine')
          .limit(options.topK)
          .select([...selected(includeVectors), '_distance']);
        if (where) search = search.where(where);
        search = search.ef(Math.max(ef, options.topK));
        if (nprobes !== undefined) search = search.nprobes(nprobes);
        const rows = (await search.toArray()) as Row[];
        return rows.map((row) => ({
          record: toRecord(row, includeVectors),
          score: 1 - (row._distance ?? 1),
        }));
      }
      if (options.text === undefined) {
        throw new InvalidArgumentError({ source, message: 'query needs a vector or a text.' });
      }
      await ensureTextIndex(handle);
      let search = handle.table
        .query()
        .fullTextSearch(options.text, { columns: keywordColumn(handle.columns) })
        .limit(options.topK)
        .select([...selected(includeVectors), '_score']);
      if (where) search = search.where(where);
      const rows = (await search.toArray()) as Row[];
      // the top matches arrive in no particular order
      return rows
        .map((row) => ({ record: toRecord(row, includeVectors), score: row._score ?? 0 }))
        .filter((match) => match.score > 0)
        .sort(
          (left, right) => right.score - left.score || (left.record.id < right.record.id ? -1 : 1),
        );
    },

    async get({ collection, ids, includeVectors }) {
      const handle = await handleOf(collection);
      const pages = await Promise.all(
        chunk([...new Set(ids)], idsPerStatement).map(
          (page) =>
            handle.table
              .query()
              .where(idIn(page))
              .select(selected(includeVectors))
              .toArray() as Promise<Row[]>,
        ),
      );
      return pages.flat().map((row) => toRecord(row, includeVectors));
    },

    async delete(options) {
      const handle = await handleOf(options.collection);
      if (options.ids) {
        let deleted = 0;
        for (const page of chunk([...new Set(options.ids)], idsPerStatement)) {
          const result = await write(handle, () => handle.table.delete(idIn(page)));
          deleted += result.numDeletedRows;
        }
        return { deleted };
      }
      const { where, scope } = whereOf(handle, options.scope, options.filter);
      if (!options.filter && Object.keys(scope).length === 0) {
        throw new InvalidArgumentError({ source, message: deleteNeedsSelectionMessage });
      }
      const result = await write(handle, () => handle.table.delete(where ?? 'true'));
      return { deleted: result.numDeletedRows };
    },

    async list(options) {
      assertPositiveInteger(options.limit, 'limit', source);
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
    },

    async count(options) {
      const handle = await handleOf(options.collection);
      return handle.table.countRows(whereOf(handle, options.scope, options.filter).where);
    },

    async dropCollection({ collection }) {
      const handle = handles.get(collection);
      handles.delete(collection);
      await closeTable(handle);
      try {
        await (await connect()).dropTable(collection);
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
    },

    async optimize({ collection }) {
      const handle = await handleOf(collection);
      const { lancedb } = loadModules();
      await write(handle, async () => {
        const indices = await handle.table.listIndices();
        const indexed = (column: string) => indices.some((index) => index.columns.includes(column));
        for (const column of ['id', ...Object.values(scopeColumns)]) {
          if (!indexed(column)) {
            await handle.table.createIndex(column, { config: lancedb.Index.btree() });
          }
        }
        if (!indexed(keywordColumn(handle.columns))) {
          await handle.table.createIndex(keywordColumn(handle.columns), {
            config: lancedb.Index.fts(),
          });
        }
        if (!indexed('vector') && (await handle.table.countRows()) >= vectorIndexThreshold) {
          await handle.table.createIndex('vector', {
            config: lancedb.Index.hnswSq({ distanceType: 'cosine' }),
          });
        }
        await handle.table.optimize();
        Object.assign(handle, await describeTable(handle.table));
      });
    },
  });

  return defineVectorStore({
    provider: source,
    capabilities: {
      keywordSearch: true,
      filterOperators,
      maxBatchSize,
      metric: 'cosine',
      atomicHistory: false,
    },
    toError,
    async onClose() {
      const opened = [...handles.values()];
      handles.clear();
      for (const handle of opened) await closeTable(handle);
      if (options.connection || !connectionPromise) return;
      try {
        (await connectionPromise).close();
      } catch {
        // nothing more to release
      }
    },
    methods,
  }) as LanceDBVectorStore;
}
