import { createHash } from 'node:crypto';
import {
  assertDeleteSelection,
  assertPositiveInteger,
  assertRecords,
  assertVectorLength,
  collectionDimensionMismatch,
  defineVectorStore,
  requireQueryVector,
  toAdapterCallError,
} from '@engram/adapter-kit';
import {
  type FilterExpression,
  InvalidArgumentError,
  NotFoundError,
  normalizeScope,
  type Scope,
  type StoredRecord,
  scopeFields,
  type VectorRecord,
  type VectorStore,
} from '@engram/core';
import cassandra from 'cassandra-driver';
import {
  type CassandraClient,
  type CassandraConnectionOptions,
  createCassandraConnection,
  isRetryableCassandraError,
  isUnknownTable,
} from './cassandra-connection.js';
import {
  type CassandraCondition,
  cassandraFilterOperators,
  metadataTags,
  pathsColumn,
  translateCassandraFilter,
  valuesColumn,
} from './cassandra-filter.js';

export type { CassandraClient } from './cassandra-connection.js';

const source = 'cassandra';

/** Options of {@link createCassandraVectorStore}: a client, or how to reach the cluster. */
export interface CassandraVectorStoreOptions extends CassandraConnectionOptions {
  /**
   * A `cassandra-driver` `Client` (connected or not) on Cassandra 5.0+ or Astra DB. The store
   * does not shut down a client it was given.
   */
  client?: CassandraClient;
  /** Keyspace of the collection tables. Default: `CASSANDRA_KEYSPACE`, else `engram`. */
  keyspace?: string;
  /**
   * Create the keyspace when missing (with `replication`). Default true, false for Astra DB
   * (create the keyspace in the Astra console).
   */
  createKeyspace?: boolean;
  /** Replication of a keyspace the store creates. Default `{ class: 'SimpleStrategy', replication_factor: 1 }`. */
  replication?: Record<string, string | number>;
  /** Consistency of every statement. Default `LOCAL_QUORUM`. */
  consistency?: keyof typeof cassandra.types.consistencies;
}

/** Cassandra answers an ANN query with at most this many rows. */
export const maxTopK = 1_000;
const identifierPattern = /^[a-z][a-z0-9_]{0,29}$/;
const recordColumns = [
  'id',
  'text',
  'metadata',
  'hash',
  ...scopeColumns(),
  'created_at',
  'updated_at',
];
/** The columns of an INSERT, in the order of {@link toRow}'s values (range columns follow). */
const insertColumns = ['vector', ...recordColumns, valuesColumn, pathsColumn];

function scopeColumns() {
  return scopeFields.map((field) => columnOf(field));
}

function columnOf(field: (typeof scopeFields)[number]) {
  return field.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
}

/**
 * The table of a collection: the name itself when it is a short lowercase identifier, else a
 * readable part plus a hash of the name (CQL names are at most 48 characters of `[a-z0-9_]`,
 * and index names add a suffix).
 */
export function tableName(collection: string): string {
  if (identifierPattern.test(collection)) return collection;
  const readable = collection
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_')
    .replace(/^[^a-z]+/, '')
    .slice(0, 18);
  const digest = createHash('sha256').update(collection).digest('hex').slice(0, 10);
  return `${readable || 'c'}_${digest}`;
}

/** The `CREATE TABLE` and SAI `CREATE INDEX` statements of a collection. */
export function collectionSchema(keyspace: string, table: string, dimensions: number): string[] {
  const qualified = `${keyspace}.${table}`;
  const indexed = (column: string, target = column, options = '') =>
    `CREATE INDEX IF NOT EXISTS ${table}_${column} ON ${qualified} (${target}) USING 'sai'${options}`;
  return [
    `CREATE TABLE IF NOT EXISTS ${qualified} (id text PRIMARY KEY, vector vector<float, ${dimensions}>, text text, metadata text, hash text, ${scopeColumns()
      .map((column) => `${column} text`)
      .join(
        ', ',
      )}, created_at text, updated_at text, ${valuesColumn} set<text>, ${pathsColumn} set<text>)`,
    indexed('vector', 'vector', ` WITH OPTIONS = {'similarity_function': 'cosine'}`),
    ...[...scopeColumns(), 'hash', valuesColumn, pathsColumn].map((column) => indexed(column)),
  ];
}

function toRow(record: VectorRecord, rangeColumns: readonly string[]) {
  const tags = metadataTags(record.metadata);
  return [
    new cassandra.types.Vector(new Float32Array(record.vector), 'float'),
    record.id,
    record.text,
    JSON.stringify(record.metadata),
    record.hash ?? null,
    ...scopeFields.map((field) => record[field] ?? null),
    record.createdAt,
    record.updatedAt,
    tags.values,
    tags.paths,
    ...rangeColumns.map((column) => tags.ranges.get(column) ?? null),
  ];
}

function toRecord(row: cassandra.types.Row, includeVectors: boolean | undefined): StoredRecord {
  const record: StoredRecord = {
    id: row.get('id'),
    text: row.get('text') ?? '',
    metadata: JSON.parse(row.get('metadata') ?? '{}'),
    createdAt: row.get('created_at') ?? '',
    updatedAt: row.get('updated_at') ?? '',
  };
  const hash = row.get('hash');
  if (hash != null) record.hash = hash;
  for (const field of scopeFields) {
    const value = row.get(columnOf(field));
    if (value != null) record[field] = value;
  }
  if (includeVectors) {
    const vector = row.get('vector') as Iterable<number> | null;
    if (vector) record.vector = Array.from(vector);
  }
  return record;
}

function missingCollection(collection: string, cause?: unknown): NotFoundError {
  return new NotFoundError({
    source,
    message: `Collection "${collection}" does not exist; call ensureCollection first.`,
    ...(cause === undefined ? {} : { cause }),
  });
}

/**
 * The `WHERE` part of a scope and a filter (empty when neither restricts); `false` when the
 * filter can match nothing.
 */
export function whereClause(
  scope: Scope | undefined,
  filter: FilterExpression | undefined,
  columns: ReadonlySet<string>,
) {
  const condition: CassandraCondition | false = filter
    ? translateCassandraFilter(filter, columns)
    : { clauses: [], params: [] };
  if (condition === false) return false;
  const normalized = normalizeScope(scope, { source });
  const scoped = scopeFields.filter((field) => normalized[field] !== undefined);
  condition.clauses.unshift(...scoped.map((field) => `${columnOf(field)} = ?`));
  condition.params.unshift(...scoped.map((field) => normalized[field]));
  return {
    where: condition.clauses.length > 0 ? ` WHERE ${condition.clauses.join(' AND ')}` : '',
    params: condition.params,
    /** Set when Cassandra must evaluate a clause row by row (see `CassandraCondition`). */
    filtering: condition.filtering === true,
  };
}

/** A `WHERE` part followed by `ALLOW FILTERING` when it needs it, for statements without ORDER BY. */
function filteredWhere(selection: { where: string; filtering: boolean }) {
  return selection.filtering ? `${selection.where} ALLOW FILTERING` : selection.where;
}

const pageStateEncoding = 'base64url';

function decodePageState(cursor: string | undefined): string | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  if (/^[A-Za-z0-9_-]+$/.test(cursor)) {
    const bytes = Buffer.from(cursor, pageStateEncoding);
    if (bytes.length > 0) return bytes.toString('hex');
  }
  throw invalidCursor();
}

function invalidCursor(cause?: unknown) {
  return new InvalidArgumentError({
    source,
    message: 'cursor is not valid; pass the nextCursor of a previous page unchanged.',
    ...(cause === undefined ? {} : { cause }),
  });
}

/**
 * An Engram vector store on Apache Cassandra 5 (or DataStax Astra DB): one table per
 * collection with a `vector<float, N>` column under a cosine SAI index, SAI indexes on the scope
 * columns, the hash and the metadata tag sets, and ANN queries (`ORDER BY vector ANN OF ?`) with
 * the scope and filter as SAI conditions, applied inside the search. The client is connected on
 * first use.
 */
export function createCassandraVectorStore(options: CassandraVectorStoreOptions = {}): VectorStore {
  const connection = createCassandraConnection(options);
  const keyspace = options.keyspace ?? optionalKeyspace() ?? 'engram';
  if (!/^[A-Za-z][A-Za-z0-9_]{0,47}$/.test(keyspace)) {
    throw new InvalidArgumentError({
      source,
      message: `keyspace "${keyspace}" is not a CQL name ([A-Za-z][A-Za-z0-9_]{0,47}).`,
    });
  }
  const consistency = cassandra.types.consistencies[options.consistency ?? 'localQuorum'];
  const dimensionsOf = new Map<string, number>();
  const rangeColumnsOf = new Map<string, Set<string>>();
  let schemaChanges: Promise<void> = Promise.resolve();
  let keyspaceReady: Promise<void> | undefined;

  function optionalKeyspace() {
    const value = process.env.CASSANDRA_KEYSPACE;
    return value === undefined || value === '' ? undefined : value;
  }

  async function connect(): Promise<CassandraClient> {
    const client = options.client ?? (await connection.client());
    const create = options.createKeyspace ?? !connection.astra;
    if (create) {
      keyspaceReady ??= execute(
        client,
        `CREATE KEYSPACE IF NOT EXISTS ${keyspace} WITH replication = ${cqlMap(options.replication ?? { class: 'SimpleStrategy', replication_factor: 1 })}`,
      ).then(() => undefined);
      keyspaceReady.catch(() => {
        keyspaceReady = undefined;
      });
      await keyspaceReady;
    }
    return client;
  }

  function execute(
    client: CassandraClient,
    query: string,
    params: unknown[] = [],
    extra: cassandra.QueryOptions = {},
  ) {
    return client.execute(query, params, { prepare: true, consistency, ...extra });
  }

  async function loadDimensions(client: CassandraClient, collection: string) {
    const result = await execute(
      client,
      'SELECT type FROM system_schema.columns WHERE keyspace_name = ? AND table_name = ? AND column_name = ?',
      [keyspace, tableName(collection), 'vector'],
    );
    const type = result.first()?.get('type') as string | undefined;
    const dimensions = type ? Number(/vector<float,\s*(\d+)>/.exec(type)?.[1]) : undefined;
    if (dimensions) dimensionsOf.set(collection, dimensions);
    return dimensions || undefined;
  }

  /** The range columns a collection's table has now (other processes may have added some). */
  async function loadRangeColumns(client: CassandraClient, collection: string) {
    const result = await execute(
      client,
      'SELECT column_name FROM system_schema.columns WHERE keyspace_name = ? AND table_name = ?',
      [keyspace, tableName(collection)],
    );
    const columns = new Set(
      result.rows
        .map((row) => row.get('column_name') as string)
        .filter((name) => /^[ns]_[0-9a-f]{16}$/.test(name)),
    );
    rangeColumnsOf.set(collection, columns);
    return columns;
  }

  async function rangeColumns(client: CassandraClient, collection: string) {
    return rangeColumnsOf.get(collection) ?? (await loadRangeColumns(client, collection));
  }

  /** Adds the typed, SAI-indexed columns of new metadata paths; one schema change at a time. */
  function addRangeColumns(
    client: CassandraClient,
    collection: string,
    missing: readonly string[],
  ) {
    const table = tableName(collection);
    const change = schemaChanges.then(async () => {
      for (const column of missing) {
        const type = column.startsWith('n_') ? 'double' : 'text';
        try {
          await execute(client, `ALTER TABLE ${keyspace}.${table} ADD ${column} ${type}`, [], {
            prepare: false,
          });
        } catch (error) {
          if (!/already exist|conflicts with an existing column/i.test(String(error))) throw error;
        }
        await execute(
          client,
          `CREATE INDEX IF NOT EXISTS ${table}_${column} ON ${keyspace}.${table} (${column}) USING 'sai'`,
          [],
          { prepare: false },
        );
      }
    });
    schemaChanges = change.catch(() => undefined);
    return change;
  }

  /** Runs a call on an existing collection; a table dropped behind the store's back is `NotFoundError`. */
  async function onCollection<T>(
    collection: string,
    work: (client: CassandraClient, table: string, dimensions: number) => Promise<T>,
  ): Promise<T> {
    const client = await connect();
    const dimensions = dimensionsOf.get(collection) ?? (await loadDimensions(client, collection));
    if (!dimensions) throw missingCollection(collection);
    try {
      return await work(client, `${keyspace}.${tableName(collection)}`, dimensions);
    } catch (error) {
      if (!isUnknownTable(error)) throw error;
      dimensionsOf.delete(collection);
      rangeColumnsOf.delete(collection);
      throw missingCollection(collection, error);
    }
  }

  async function selectIds(
    client: CassandraClient,
    table: string,
    where: string,
    params: unknown[],
  ) {
    const ids: string[] = [];
    let pageState: string | undefined;
    do {
      const result = await execute(client, `SELECT id FROM ${table}${where}`, params, {
        fetchSize: 1_000,
        ...(pageState ? { pageState } : {}),
      });
      for (const row of result.rows) ids.push(row.get('id'));
      pageState = result.pageState ?? undefined;
    } while (pageState);
    return ids;
  }

  /** Runs one prepared statement per parameter list, 32 at a time. */
  async function executeAll(client: CassandraClient, query: string, rows: readonly unknown[][]) {
    let next = 0;
    const worker = async () => {
      for (let index = next++; index < rows.length; index = next++) {
        await execute(client, query, rows[index]!);
      }
    };
    await Promise.all(Array.from({ length: Math.min(32, rows.length) }, worker));
  }

  async function deleteIds(client: CassandraClient, table: string, ids: readonly string[]) {
    await executeAll(
      client,
      `DELETE FROM ${table} WHERE id = ?`,
      ids.map((id) => [id]),
    );
  }

  async function readRecords(
    client: CassandraClient,
    table: string,
    ids: readonly string[],
    includeVectors: boolean | undefined,
  ) {
    const columns = [...recordColumns, ...(includeVectors ? ['vector'] : [])].join(', ');
    const unique = [...new Set(ids)];
    const byId = new Map<string, StoredRecord>();
    for (let start = 0; start < unique.length; start += 100) {
      const batch = unique.slice(start, start + 100);
      const result = await execute(client, `SELECT ${columns} FROM ${table} WHERE id IN ?`, [
        batch,
      ]);
      for (const row of result.rows) byId.set(row.get('id'), toRecord(row, includeVectors));
    }
    return ids.flatMap((id) => {
      const record = byId.get(id);
      return record ? [record] : [];
    });
  }

  return defineVectorStore({
    provider: source,
    capabilities: {
      keywordSearch: false,
      filterOperators: cassandraFilterOperators,
      maxBatchSize: 500,
      metric: 'cosine',
      atomicHistory: false,
    },
    toError: (error, action) =>
      toAdapterCallError(error, { source, action, isRetryable: isRetryableCassandraError(error) }),
    onClose: () => connection.close(),
    methods: () => ({
      async ensureCollection({ collection, dimensions }) {
        assertPositiveInteger(dimensions, 'dimensions', source);
        const client = await connect();
        let existing = dimensionsOf.get(collection) ?? (await loadDimensions(client, collection));
        if (existing === undefined) {
          for (const statement of collectionSchema(keyspace, tableName(collection), dimensions)) {
            await execute(client, statement, [], { prepare: false });
          }
          existing = await loadDimensions(client, collection);
          if (!existing) throw missingCollection(collection);
        }
        if (existing !== dimensions) {
          throw collectionDimensionMismatch({
            source,
            collection,
            existing,
            requested: dimensions,
          });
        }
      },

      upsert: (options) =>
        onCollection(options.collection, async (client, table, dimensions) => {
          const { records } = options;
          assertRecords(records, { source, dimensions, collection: options.collection });
          if (records.length === 0) return;
          const needed = new Set(
            records.flatMap((record) => [...metadataTags(record.metadata).ranges.keys()]),
          );
          let columns = await loadRangeColumns(client, options.collection);
          const missing = [...needed].filter((column) => !columns.has(column));
          if (missing.length > 0) {
            await addRangeColumns(client, options.collection, missing);
            columns = await loadRangeColumns(client, options.collection);
          }
          // An INSERT writes every column (null for absent ones), so a re-upsert keeps nothing old.
          const dynamic = [...columns].sort();
          const names = [...insertColumns, ...dynamic];
          const insert = `INSERT INTO ${table} (${names.join(', ')}) VALUES (${names.map(() => '?').join(', ')})`;
          const rows = records.map((record) => toRow(record, dynamic));
          // A column another call has just added can be listed in the schema tables a moment
          // before statements may name it; preparing the INSERT is retried a few times.
          for (let attempt = 1; ; attempt++) {
            try {
              await executeAll(client, insert, rows);
              return;
            } catch (error) {
              if (attempt >= 20 || !/undefined column name/i.test(String(error))) throw error;
              await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
            }
          }
        }),

      query: (options) =>
        onCollection(options.collection, async (client, table, dimensions) => {
          const vector = requireQueryVector(options, {
            source,
            noKeywordSearch:
              'Cassandra 5.0 has no full-text ranking in CQL; query with a vector (the engine ranks keywords itself).',
          });
          assertVectorLength(vector, dimensions, { source, what: 'The query vector' });
          const selection = whereClause(
            options.scope,
            options.filter,
            await rangeColumns(client, options.collection),
          );
          if (selection === false || options.topK <= 0) return [];
          const { where, params } = selection;
          if (options.topK > maxTopK) {
            throw new InvalidArgumentError({
              source,
              message: `topK ${options.topK} is over ${maxTopK}, the most rows Cassandra returns for an ANN query; ask for fewer.`,
            });
          }
          const probe = new cassandra.types.Vector(new Float32Array(vector), 'float');
          const columns = [...recordColumns, ...(options.includeVectors ? ['vector'] : [])].join(
            ', ',
          );
          const scored = `SELECT ${columns}, similarity_cosine(vector, ?) AS similarity FROM ${table}`;
          const toMatch = (row: cassandra.types.Row) => ({
            record: toRecord(row, options.includeVectors),
            // similarity_cosine is (1 + cos) / 2; scores are the cosine itself.
            score: 2 * Number(row.get('similarity')) - 1,
          });
          if (!selection.filtering) {
            const result = await execute(
              client,
              `${scored}${where} ORDER BY vector ANN OF ? LIMIT ${options.topK}`,
              [probe, ...params, probe],
            );
            return result.rows.map(toMatch);
          }
          // An ANN search post-filters clauses SAI cannot index, which loses matches; with a string
          // range, Cassandra scores every row that passes the filter and the best topK are kept.
          const matches: ReturnType<typeof toMatch>[] = [];
          let pageState: string | undefined;
          do {
            const page = await execute(
              client,
              `${scored}${filteredWhere(selection)}`,
              [probe, ...params],
              {
                fetchSize: 1_000,
                ...(pageState ? { pageState } : {}),
              },
            );
            matches.push(...page.rows.map(toMatch));
            pageState = page.pageState ?? undefined;
          } while (pageState);
          return matches.sort((left, right) => right.score - left.score).slice(0, options.topK);
        }),

      get: ({ collection, ids, includeVectors }) =>
        onCollection(collection, (client, table) =>
          readRecords(client, table, ids, includeVectors),
        ),

      delete: (options) =>
        onCollection(options.collection, async (client, table) => {
          if (options.ids) {
            if (options.ids.length === 0) return { deleted: 0 };
            const present = (await readRecords(client, table, options.ids, false)).map(
              (record) => record.id,
            );
            await deleteIds(client, table, present);
            return { deleted: present.length };
          }
          const scope = normalizeScope(options.scope, { source });
          assertDeleteSelection({ scope, filter: options.filter }, source);
          const selection = whereClause(
            scope,
            options.filter,
            await rangeColumns(client, options.collection),
          );
          if (selection === false) return { deleted: 0 };
          const ids = await selectIds(client, table, filteredWhere(selection), selection.params);
          await deleteIds(client, table, ids);
          return { deleted: ids.length };
        }),

      list: (options) =>
        onCollection(options.collection, async (client, table) => {
          assertPositiveInteger(options.limit, 'limit', source);
          const pageState = decodePageState(options.cursor);
          const selection = whereClause(
            options.scope,
            options.filter,
            await rangeColumns(client, options.collection),
          );
          if (selection === false) return { records: [] };
          const { params } = selection;
          const columns = [...recordColumns, ...(options.includeVectors ? ['vector'] : [])].join(
            ', ',
          );
          let result: cassandra.types.ResultSet;
          try {
            const statement = `SELECT ${columns} FROM ${table}${filteredWhere(selection)}`;
            result = await execute(client, statement, params, {
              fetchSize: options.limit,
              ...(pageState ? { pageState } : {}),
            });
          } catch (error) {
            if (pageState && /paging state/i.test(String(error))) throw invalidCursor(error);
            throw error;
          }
          const next = result.pageState;
          return {
            records: result.rows.map((row) => toRecord(row, options.includeVectors)),
            ...(next ? { nextCursor: Buffer.from(next, 'hex').toString(pageStateEncoding) } : {}),
          };
        }),

      count: (options) =>
        onCollection(options.collection, async (client, table) => {
          const selection = whereClause(
            options.scope,
            options.filter,
            await rangeColumns(client, options.collection),
          );
          if (selection === false) return 0;
          const result = await execute(
            client,
            `SELECT COUNT(*) AS total FROM ${table}${filteredWhere(selection)}`,
            selection.params,
          );
          return Number(result.first()?.get('total') ?? 0);
        }),

      async dropCollection({ collection }) {
        const client = await connect();
        dimensionsOf.delete(collection);
        rangeColumnsOf.delete(collection);
        await execute(client, `DROP TABLE IF EXISTS ${keyspace}.${tableName(collection)}`, [], {
          prepare: false,
        });
      },
    }),
  });
}

function cqlMap(entries: Record<string, string | number>): string {
  return `{${Object.entries(entries)
    .map(
      ([key, value]) =>
        `'${key.replaceAll("'", "''")}': ${typeof value === 'number' ? value : `'${value.replaceAll("'", "''")}'`}`,
    )
    .join(', ')}}`;
}
