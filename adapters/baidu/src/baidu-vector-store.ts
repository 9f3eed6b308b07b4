import {
  assertCollectionDimensions,
  assertDeleteSelection,
  assertPositiveInteger,
  assertRecords,
  assertVectorLength,
  chunk,
  defineVectorStore,
  optionalSettingLoader,
  orderedHex,
  pagedScan,
  pollUntil,
  requiredSetting,
  requireQueryVector,
  restJson,
} from '@engram/adapter-kit';
import {
  decodeCursor,
  encodeCursor,
  type FilterExpression,
  InvalidArgumentError,
  normalizeScope,
  type Scope,
  type StoredRecord,
  scopeFields,
  type VectorRecord,
  type VectorStore,
  validateFilter,
} from '@engram/core';
import { BaiduResponseError, baiduTableExistsCode, toBaiduError } from './baidu-errors.js';
import {
  assertBaiduFilterPaths,
  baiduFilterColumnValues,
  baiduFilterOperators,
  baiduNumberColumn,
  baiduStringColumn,
  baiduStringLiteral,
  baiduTypeColumn,
  translateBaiduFilter,
} from './baidu-filter.js';

const source = 'baidu';

const noKeywordSearch =
  'This store does not run keyword search in Baidu VectorDB; query with a vector (the engine fuses keyword relevance itself).';

/** Options of {@link createBaiduVectorStore}. */
export interface BaiduVectorStoreOptions {
  /** The instance endpoint, e.g. `http://10.0.0.1:5287`. Default: `BAIDU_VECTORDB_ENDPOINT`. */
  endpoint?: string;
  /** The account. Default: `BAIDU_VECTORDB_ACCOUNT`, else `root`. */
  account?: string;
  /** The account's API key. Default: `BAIDU_VECTORDB_API_KEY`. */
  apiKey?: string;
  /** The database holding the tables (create it first). Default: `BAIDU_VECTORDB_DATABASE`. */
  database?: string;
  /** Table name of a collection. Default: the collection name. */
  tableName?: (collection: string) => string;
  /**
   * Metadata paths (e.g. `topic`, `nested.city`) stored as typed columns so that filters on them
   * run in the database. Fixed when a table is created. Default: none, and then no metadata
   * filter is accepted.
   */
  filterFields?: readonly string[];
  /** Hash partitions of a new table. Default: 1. */
  partitions?: number;
  /** Replicas of a new table. Default: 3 (the service's minimum for production). */
  replication?: number;
  /** How long `ensureCollection` waits for a new table to be ready, in ms. Default: 300,000. */
  readyTimeout?: number;
  /** The `fetch` to use. Default: the global one. */
  fetch?: typeof globalThis.fetch;
}

/** Rows per upsert request. */
const maxBatchSize = 500;
const selectPage = 1000;
const scopeColumns = { userId: 'user_id', agentId: 'agent_id', runId: 'run_id' } as const;
const projections = ['id', 'record'];

/** A scope id or any string as a column value: `s` + hex, or `''` when absent. */
const encoded = (value: string | undefined) =>
  value === undefined ? '' : baiduStringLiteral(value);

/** The row of a record: id, its hex, vector, the record JSON, scope columns and filter columns. */
export function toBaiduRow(
  record: VectorRecord,
  filterFields: readonly string[] = [],
): Record<string, unknown> {
  const { vector, keywordText: _keywordText, ...stored } = record;
  return {
    id: record.id,
    h_id: orderedHex(record.id),
    vector,
    record: JSON.stringify(stored),
    ...Object.fromEntries(
      scopeFields.map((field) => [scopeColumns[field], encoded(record[field])]),
    ),
    ...baiduFilterColumnValues(record.metadata, filterFields),
  };
}

/** Scope, ids and portable filter as one filter expression; `false` when nothing can match. */
export function baiduSelection(
  selection: {
    scope?: Scope | undefined;
    filter?: FilterExpression | undefined;
    ids?: readonly string[];
  },
  filterFields: readonly string[] = [],
): string | undefined | false {
  const normalized = normalizeScope(selection.scope, { source });
  const conditions: string[] = scopeFields
    .filter((field) => normalized[field] !== undefined)
    .map((field) => `${scopeColumns[field]} = '${encoded(normalized[field])}'`);
  if (selection.ids) {
    if (selection.ids.length === 0) return false;
    conditions.push(`h_id IN (${selection.ids.map((id) => `'${orderedHex(id)}'`).join(', ')})`);
  }
  if (selection.filter) {
    const translated = translateBaiduFilter(validateFilter(selection.filter), filterFields);
    if (translated === false) return false;
    if (translated !== true) conditions.push(translated);
  }
  return conditions.length === 0 ? undefined : conditions.join(' AND ');
}

interface TableDescription {
  table?: {
    state?: string;
    schema?: { fields?: { fieldName: string; dimension?: number }[] };
  };
}

/**
 * A Baidu VectorDB (Mochow) store: one table per Engram collection, with an HNSW cosine index on
 * `vector`, the record as JSON, scope columns and typed columns for the declared filter paths.
 */
export function createBaiduVectorStore(options: BaiduVectorStoreOptions = {}): VectorStore {
  const setting = optionalSettingLoader(source);
  const filterFields = [...(options.filterFields ?? [])];
  assertBaiduFilterPaths(filterFields);
  const dimensionsByCollection = new Map<string, number>();

  const required = (value: string | undefined, what: string, variable: string) =>
    requiredSetting(
      value,
      source,
      `Baidu VectorDB needs ${what}: pass it in the options or set ${variable}.`,
    );

  async function call<T>(resource: string, action: string, body: Record<string, unknown>) {
    const endpoint = required(
      setting(options.endpoint, 'endpoint', 'BAIDU_VECTORDB_ENDPOINT'),
      'an endpoint',
      'BAIDU_VECTORDB_ENDPOINT',
    ).replace(/\/+$/, '');
    const account = setting(options.account, 'account', 'BAIDU_VECTORDB_ACCOUNT') ?? 'root';
    const apiKey = required(
      setting(options.apiKey, 'apiKey', 'BAIDU_VECTORDB_API_KEY'),
      'an API key (apiKey)',
      'BAIDU_VECTORDB_API_KEY',
    );
    const database = required(
      setting(options.database, 'database', 'BAIDU_VECTORDB_DATABASE'),
      'a database',
      'BAIDU_VECTORDB_DATABASE',
    );
    return restJson<T>({
      url: `${endpoint}/v1/${resource}?${action}`,
      method: 'POST',
      headers: { authorization: `Bearer account=${account}&api_key=${apiKey}` },
      body: { database, ...body },
      fetch: options.fetch,
      failure: ({ ok, status, statusText, body: answer }) => {
        const code = typeof answer.code === 'number' ? answer.code : undefined;
        if (ok && (code === undefined || code === 0)) return undefined;
        return new BaiduResponseError(
          status,
          code,
          typeof answer.msg === 'string' ? answer.msg : statusText,
        );
      },
    });
  }

  const table = (collection: string) =>
    options.tableName ? options.tableName(collection) : collection;

  async function describe(collection: string): Promise<TableDescription | undefined> {
    try {
      return await call<TableDescription>('table', 'desc', { table: table(collection) });
    } catch (error) {
      if (error instanceof BaiduResponseError && error.code === 69) return undefined;
      throw error;
    }
  }

  const dimensionOf = (description: TableDescription | undefined) =>
    description?.table?.schema?.fields?.find((field) => field.fieldName === 'vector')?.dimension;

  async function dimensionsOf(collection: string): Promise<number> {
    const known = dimensionsByCollection.get(collection);
    if (known !== undefined) return known;
    const dimension = dimensionOf(
      await call<TableDescription>('table', 'desc', { table: table(collection) }),
    );
    if (!dimension) {
      throw new InvalidArgumentError({
        source,
        message: `Table "${table(collection)}" has no "vector" field; it was not created by this store.`,
      });
    }
    dimensionsByCollection.set(collection, dimension);
    return dimension;
  }

  function toRecord(row: Record<string, unknown>, includeVectors?: boolean): StoredRecord {
    const record = JSON.parse(String(row.record)) as StoredRecord;
    if (includeVectors && Array.isArray(row.vector)) record.vector = row.vector as number[];
    return record;
  }

  type Marker = Record<string, unknown>;

  async function select(
    collection: string,
    filter: string | undefined,
    limit: number,
    marker?: Marker,
    includeVectors?: boolean,
  ) {
    return call<{ rows?: Record<string, unknown>[]; isTruncated?: boolean; nextMarker?: Marker }>(
      'row',
      'select',
      {
        table: table(collection),
        limit,
        ...(filter ? { filter } : {}),
        ...(marker ? { marker } : {}),
        projections: includeVectors ? [...projections, 'vector'] : projections,
      },
    );
  }

  /** The ids of every row the filter selects, following `nextMarker`. */
  async function matchingIds(collection: string, filter: string | undefined) {
    const { items } = await pagedScan(async (marker: Marker | undefined) => {
      const page = await select(collection, filter, selectPage, marker);
      return {
        items: (page.rows ?? []).map((row) => String(row.id)),
        next: page.isTruncated ? page.nextMarker : undefined,
      };
    });
    return items;
  }

  return defineVectorStore({
    provider: source,
    capabilities: {
      keywordSearch: false,
      filterOperators: filterFields.length > 0 ? baiduFilterOperators : [],
      maxBatchSize,
      metric: 'cosine',
      atomicHistory: false,
    },
    toError: (error, action) => toBaiduError(error, action),
    methods: (lifecycle) => ({
      async ensureCollection({ collection, dimensions, abortSignal }) {
        assertPositiveInteger(dimensions, 'dimensions', source);
        let description = await describe(collection);
        if (!description) {
          const string = (fieldName: string) => ({ fieldName, fieldType: 'STRING', notNull: true });
          const fields = [
            {
              fieldName: 'id',
              fieldType: 'STRING',
              primaryKey: true,
              partitionKey: true,
              notNull: true,
            },
            string('h_id'),
            string('record'),
            ...Object.values(scopeColumns).map(string),
            ...filterFields.flatMap((path) => [
              string(baiduStringColumn(path)),
              { fieldName: baiduNumberColumn(path), fieldType: 'DOUBLE', notNull: true },
              string(baiduTypeColumn(path)),
            ]),
            {
              fieldName: 'vector',
              fieldType: 'FLOAT_VECTOR',
              notNull: true,
              dimension: dimensions,
            },
          ];
          try {
            await call('table', 'create', {
              table: table(collection),
              replication: options.replication ?? 3,
              partition: { partitionType: 'HASH', partitionNum: options.partitions ?? 1 },
              enableDynamicField: false,
              schema: {
                fields,
                indexes: [
                  {
                    indexName: 'vector_idx',
                    indexType: 'HNSW',
                    field: 'vector',
                    metricType: 'COSINE',
                    params: { M: 16, efConstruction: 200 },
                    autoBuild: true,
                  },
                ],
              },
            });
          } catch (error) {
            // Created concurrently by another caller: use theirs.
            if (!(error instanceof BaiduResponseError && error.code === baiduTableExistsCode)) {
              throw error;
            }
          }
          description = await pollUntil(() => describe(collection), {
            done: (found) => found?.table?.state !== 'CREATING',
            timeout: options.readyTimeout ?? 300_000,
            interval: 1000,
            check: () => lifecycle.check(abortSignal),
          });
        }
        const existing = dimensionOf(description) ?? dimensions;
        assertCollectionDimensions({ source, collection, existing, requested: dimensions });
        dimensionsByCollection.set(collection, existing);
      },

      async upsert({ collection, records, abortSignal }) {
        if (records.length === 0) return;
        assertRecords(records, { source, dimensions: await dimensionsOf(collection), collection });
        for (const batch of chunk(records, maxBatchSize)) {
          lifecycle.check(abortSignal);
          await call('row', 'upsert', {
            table: table(collection),
            rows: batch.map((record) => toBaiduRow(record, filterFields)),
          });
        }
      },

      async query({ collection, vector: given, text, topK, scope, filter, includeVectors }) {
        const vector = requireQueryVector({ vector: given, text }, { source, noKeywordSearch });
        assertVectorLength(vector, await dimensionsOf(collection), {
          source,
          what: 'The query vector',
          collection,
        });
        const selection = baiduSelection({ scope, filter }, filterFields);
        if (selection === false || topK < 1) return [];
        const response = await call<{
          rows?: { row: Record<string, unknown>; score?: number; distance?: number }[];
        }>('row', 'search', {
          table: table(collection),
          anns: {
            vectorField: 'vector',
            vectorFloats: vector,
            params: { ef: Math.max(topK, 64), limit: topK },
            ...(selection ? { filter: selection } : {}),
          },
          projections,
          retrieveVector: includeVectors ?? false,
        });
        // With the COSINE metric, `score` is the cosine similarity (higher is closer).
        return (response.rows ?? []).map((item) => ({
          score: Number(item.score ?? 1 - Number(item.distance ?? 1)),
          record: toRecord(item.row, includeVectors),
        }));
      },

      async get({ collection, ids, includeVectors }) {
        if (ids.length === 0) return [];
        const found = new Map<string, StoredRecord>();
        for (const batch of chunk([...new Set(ids)], selectPage)) {
          const page = await select(
            collection,
            baiduSelection({ ids: batch }) || undefined,
            batch.length,
            undefined,
            includeVectors,
          );
          for (const row of page.rows ?? []) {
            const record = toRecord(row, includeVectors);
            found.set(record.id, record);
          }
        }
        return ids.filter((id) => found.has(id)).map((id) => found.get(id)!);
      },

      async delete({ collection, ids, scope, filter }) {
        let selection: string | undefined | false;
        if (ids) {
          selection = baiduSelection({ ids: [...new Set(ids)] });
        } else {
          const normalized = normalizeScope(scope, { source });
          assertDeleteSelection({ scope: normalized, filter }, source);
          selection = baiduSelection({ scope: normalized, filter }, filterFields);
        }
        if (selection === false || selection === undefined) return { deleted: 0 };
        // delete does not say how many rows it removed, so count them first.
        const doomed = await matchingIds(collection, selection);
        if (doomed.length > 0) {
          await call('row', 'delete', { table: table(collection), filter: selection });
        }
        return { deleted: doomed.length };
      },

      async list({ collection, limit, cursor, scope, filter, includeVectors }) {
        assertPositiveInteger(limit, 'limit', source);
        const position = decodeCursor(cursor, source);
        let marker: Marker | undefined;
        if (position !== undefined) {
          try {
            marker = JSON.parse(position) as Marker;
          } catch {
            marker = undefined;
          }
          if (!marker || typeof marker !== 'object') {
            throw new InvalidArgumentError({
              source,
              message: 'cursor is not valid; pass the nextCursor of a previous page unchanged.',
            });
          }
        }
        const selection = baiduSelection({ scope, filter }, filterFields);
        if (selection === false) return { records: [] };
        const page = await select(collection, selection, limit, marker, includeVectors);
        return {
          records: (page.rows ?? []).map((row) => toRecord(row, includeVectors)),
          ...(page.isTruncated && page.nextMarker
            ? { nextCursor: encodeCursor(JSON.stringify(page.nextMarker)) }
            : {}),
        };
      },

      async count({ collection, scope, filter }) {
        const selection = baiduSelection({ scope, filter }, filterFields);
        if (selection === false) return 0;
        await dimensionsOf(collection);
        return (await matchingIds(collection, selection)).length;
      },

      async dropCollection({ collection }) {
        dimensionsByCollection.delete(collection);
        try {
          await call('table', 'drop', { table: table(collection) });
        } catch (error) {
          if (!(error instanceof BaiduResponseError && error.code === 69)) throw error;
        }
      },
    }),
  });
}
