import {
  assertCollectionDimensions,
  assertDeleteSelection,
  assertPositiveInteger,
  assertRecords,
  assertVectorLength,
  chunk,
  defineVectorStore,
  optionalSettingLoader,
  pollUntil,
  requiredSetting,
  requireQueryVector,
  restJson,
} from '@engram/adapter-kit';
import {
  AdapterCallError,
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
import { DatabricksResponseError, toDatabricksError } from './databricks-errors.js';
import {
  type DatabricksColumnType,
  type DatabricksFilter,
  databricksEqualityTokens,
  databricksFilterColumnValues,
  databricksFilterOperators,
  databricksTokenColumn,
  databricksTokenFilterOperators,
  translateDatabricksFilter,
} from './databricks-filter.js';

const source = 'databricks';

const noKeywordSearch =
  'This store does not run keyword search in Databricks (hybrid queries of a direct-access index need a query vector); query with a vector (the engine fuses keyword relevance itself).';

/** Options of {@link createDatabricksVectorStore}. */
export interface DatabricksVectorStoreOptions {
  /** Workspace URL, e.g. `https://dbc-1234.cloud.databricks.com`. Default: `DATABRICKS_HOST`. */
  host?: string;
  /** A personal access token (or any bearer token). Default: `DATABRICKS_TOKEN`. */
  token?: string;
  /** OAuth M2M service principal id, used when no token is set. Default: `DATABRICKS_CLIENT_ID`. */
  clientId?: string;
  /** OAuth M2M secret. Default: `DATABRICKS_CLIENT_SECRET`. */
  clientSecret?: string;
  /** The Vector Search endpoint serving the indexes (a standard endpoint). Default: `DATABRICKS_VECTOR_SEARCH_ENDPOINT`. */
  endpointName?: string;
  /** Unity Catalog `catalog.schema` holding the indexes. Default: `DATABRICKS_VECTOR_SEARCH_SCHEMA`. */
  schema?: string;
  /** Index name of a collection. Default: `<schema>.<collection>`. */
  indexName?: (collection: string) => string;
  /**
   * Top-level metadata keys stored as typed columns, so filters on them run in Databricks
   * (`eq`, `in`, numeric ranges, `and`). Fixed when an index is created. Default: none, and then
   * no metadata filter is accepted.
   */
  filterColumns?: Readonly<Record<string, DatabricksColumnType>>;
  /** Largest number of rows a filtered `list`, `count` or `delete` may enumerate. Default: 10,000. */
  maxEnumeration?: number;
  /** How long `ensureCollection` waits for a new index to be ready, in ms. Default: 600,000. */
  readyTimeout?: number;
  /** The `fetch` to use. Default: the global one. */
  fetch?: typeof globalThis.fetch;
}

/** Rows per upsert-data and delete-data request. */
const maxBatchSize = 500;
const scanPage = 1000;
const columnPattern = /^[A-Za-z_][A-Za-z0-9_]{0,60}$/;
const scopeColumns = { userId: 'user_id', agentId: 'agent_id', runId: 'run_id' } as const;

/** The row of a record: id, vector, the record JSON, scope columns and declared filter columns. */
export function toDatabricksRow(
  record: VectorRecord,
  filterColumns: Readonly<Record<string, DatabricksColumnType>> = {},
): Record<string, unknown> {
  const { vector, keywordText: _keywordText, ...stored } = record;
  const { values, problem } = databricksFilterColumnValues(record.metadata, filterColumns);
  if (problem) {
    throw new InvalidArgumentError({ source, message: `Record "${record.id}": ${problem}.` });
  }
  return {
    id: record.id,
    vector,
    record: JSON.stringify(stored),
    [databricksTokenColumn]: databricksEqualityTokens(record.metadata),
    ...Object.fromEntries(scopeFields.map((field) => [scopeColumns[field], record[field] ?? null])),
    ...values,
  };
}

/** Scope and portable filter as one `filters_json` document; `false` when nothing can match. */
export function databricksSelection(
  scope: Scope | undefined,
  filter: FilterExpression | undefined,
  filterColumns: Readonly<Record<string, DatabricksColumnType>> = {},
): DatabricksFilter | undefined | false {
  const normalized = normalizeScope(scope, { source });
  const document: DatabricksFilter = {};
  for (const field of scopeFields) {
    if (normalized[field] !== undefined) document[scopeColumns[field]] = normalized[field];
  }
  if (filter) {
    const translated = translateDatabricksFilter(validateFilter(filter), filterColumns);
    if (translated === false) return false;
    Object.assign(document, translated);
  }
  return Object.keys(document).length === 0 ? undefined : document;
}

interface QueryResponse {
  manifest?: { columns?: { name: string }[] };
  result?: { row_count?: number; data_array?: unknown[][] };
}

interface ScanResponse {
  last_primary_key?: string;
  data?: { fields?: { key: string; value?: Record<string, unknown> }[] }[];
}

/**
 * A Databricks Mosaic AI Vector Search store: one direct-access index (self-managed embeddings)
 * per Engram collection on one standard endpoint, through the REST API.
 */
export function createDatabricksVectorStore(
  options: DatabricksVectorStoreOptions = {},
): VectorStore {
  const setting = optionalSettingLoader(source);
  const filterColumns = options.filterColumns ?? {};
  for (const key of Object.keys(filterColumns)) {
    if (!columnPattern.test(key)) {
      throw new InvalidArgumentError({
        source,
        message: `filterColumns key "${key}" is not a column name (a letter or "_", then letters, digits or "_").`,
      });
    }
  }
  const maxEnumeration = options.maxEnumeration ?? 10_000;
  const dimensionsByCollection = new Map<string, number>();
  let oauth: { token: string; expires: number } | undefined;

  const required = (value: string | undefined, what: string, variable: string) =>
    requiredSetting(
      value,
      source,
      `Databricks Vector Search needs ${what}: pass it in the options or set ${variable}.`,
    );

  const host = () =>
    required(setting(options.host, 'host', 'DATABRICKS_HOST'), 'host', 'DATABRICKS_HOST').replace(
      /\/+$/,
      '',
    );

  async function bearer(signal?: AbortSignal): Promise<string> {
    const token = setting(options.token, 'token', 'DATABRICKS_TOKEN');
    if (token) return token;
    const clientId = setting(options.clientId, 'clientId', 'DATABRICKS_CLIENT_ID');
    const clientSecret = setting(options.clientSecret, 'clientSecret', 'DATABRICKS_CLIENT_SECRET');
    if (!clientId || !clientSecret) {
      throw new InvalidArgumentError({
        source,
        message:
          'Databricks Vector Search needs credentials: set token (DATABRICKS_TOKEN), or clientId and clientSecret (DATABRICKS_CLIENT_ID, DATABRICKS_CLIENT_SECRET) of a service principal.',
      });
    }
    if (oauth && oauth.expires > Date.now() + 60_000) return oauth.token;
    const response = await (options.fetch ?? fetch)(`${host()}/oidc/v1/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'grant_type=client_credentials&scope=all-apis',
      ...(signal ? { signal } : {}),
    });
    const body = (await response.json().catch(() => ({}))) as {
      access_token?: string;
      expires_in?: number;
      error_description?: string;
    };
    if (!response.ok || !body.access_token) {
      throw new DatabricksResponseError(
        response.status,
        'OAUTH',
        `OAuth token request failed: ${body.error_description ?? response.statusText}; check clientId and clientSecret.`,
      );
    }
    oauth = { token: body.access_token, expires: Date.now() + (body.expires_in ?? 3600) * 1000 };
    return oauth.token;
  }

  async function call<T>(
    method: string,
    path: string,
    body?: unknown,
    signal?: AbortSignal,
  ): Promise<T> {
    return restJson<T>({
      url: `${host()}/api/2.0/vector-search/${path}`,
      method,
      headers: { authorization: `Bearer ${await bearer(signal)}` },
      body,
      signal,
      fetch: options.fetch,
      failure: (answer) =>
        answer.ok
          ? undefined
          : new DatabricksResponseError(
              answer.status,
              typeof answer.body.error_code === 'string' ? answer.body.error_code : undefined,
              typeof answer.body.message === 'string' ? answer.body.message : answer.statusText,
            ),
    });
  }

  function indexName(collection: string): string {
    if (options.indexName) return options.indexName(collection);
    const schema = required(
      setting(options.schema, 'schema', 'DATABRICKS_VECTOR_SEARCH_SCHEMA'),
      'a catalog.schema for its indexes (schema)',
      'DATABRICKS_VECTOR_SEARCH_SCHEMA',
    );
    return `${schema}.${collection}`;
  }

  const indexPath = (collection: string) => `indexes/${encodeURIComponent(indexName(collection))}`;

  interface IndexDescription {
    direct_access_index_spec?: {
      embedding_vector_columns?: { name: string; embedding_dimension?: number }[];
    };
    status?: { ready?: boolean; message?: string };
  }

  async function describe(collection: string): Promise<IndexDescription | undefined> {
    try {
      return await call<IndexDescription>('GET', indexPath(collection));
    } catch (error) {
      if (error instanceof DatabricksResponseError && error.status === 404) return undefined;
      throw error;
    }
  }

  const dimensionOf = (index: IndexDescription | undefined) =>
    index?.direct_access_index_spec?.embedding_vector_columns?.find(
      (column) => column.name === 'vector',
    )?.embedding_dimension;

  async function dimensionsOf(collection: string): Promise<number> {
    const known = dimensionsByCollection.get(collection);
    if (known !== undefined) return known;
    const dimension = dimensionOf(await call<IndexDescription>('GET', indexPath(collection)));
    if (!dimension) {
      throw new InvalidArgumentError({
        source,
        message: `Index "${indexName(collection)}" has no "vector" embedding column; it was not created by this store.`,
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

  async function query(
    collection: string,
    body: {
      vector: number[];
      topK: number;
      selection?: DatabricksFilter;
      includeVectors?: boolean;
    },
  ): Promise<{ row: Record<string, unknown>; score: number }[]> {
    const columns = ['id', 'record', ...(body.includeVectors ? ['vector'] : [])];
    const response = await call<QueryResponse>('POST', `${indexPath(collection)}/query`, {
      columns,
      query_vector: body.vector,
      num_results: body.topK,
      ...(body.selection ? { filters_json: JSON.stringify(body.selection) } : {}),
    });
    const names = (response.manifest?.columns ?? []).map((column) => column.name);
    return (response.result?.data_array ?? []).map((values) => {
      const row = Object.fromEntries(names.map((name, index) => [name, values[index]]));
      return { row, score: Number(row.score) };
    });
  }

  /** Every row the selection matches, by a filtered query as wide as `maxEnumeration`. */
  async function matching(collection: string, selection: DatabricksFilter, vectors = false) {
    const size = await dimensionsOf(collection);
    const probe = Array.from({ length: size }, (_, position) => (position === 0 ? 1 : 0));
    const rows = await query(collection, {
      vector: probe,
      topK: maxEnumeration,
      selection,
      includeVectors: vectors,
    });
    if (rows.length >= maxEnumeration) {
      throw new AdapterCallError({
        source,
        message: `The scope and filter select ${maxEnumeration} rows or more, the most this store enumerates for a filtered get, list, count or delete; narrow them or raise maxEnumeration.`,
        isRetryable: false,
      });
    }
    return rows
      .map(({ row }) => toRecord(row, vectors))
      .sort((left, right) => (left.id < right.id ? -1 : left.id > right.id ? 1 : 0));
  }

  async function scan(collection: string, after: string | undefined, limit: number) {
    const response = await call<ScanResponse>('POST', `${indexPath(collection)}/scan`, {
      num_results: limit,
      ...(after === undefined ? {} : { last_primary_key: after }),
    });
    return (response.data ?? []).map((entry) => {
      const row: Record<string, unknown> = {};
      for (const field of entry.fields ?? []) {
        const value = field.value ?? {};
        row[field.key] =
          value.string_value ??
          value.number_value ??
          value.bool_value ??
          (value.list_value as { values?: { number_value?: number }[] } | undefined)?.values?.map(
            (item) => item.number_value,
          ) ??
          null;
      }
      return row;
    });
  }

  async function byIds(collection: string, ids: readonly string[], includeVectors?: boolean) {
    const found = new Map<string, StoredRecord>();
    for (const batch of chunk([...new Set(ids)], maxBatchSize)) {
      for (const record of await matching(collection, { id: batch }, includeVectors)) {
        found.set(record.id, record);
      }
    }
    return ids.filter((id) => found.has(id)).map((id) => found.get(id)!);
  }

  async function removeKeys(collection: string, keys: readonly string[], signal?: AbortSignal) {
    for (const batch of chunk(keys, maxBatchSize)) {
      const parameters = new URLSearchParams(
        batch.map((key): [string, string] => ['primary_keys', key]),
      );
      await call('DELETE', `${indexPath(collection)}/delete-data?${parameters}`, undefined, signal);
    }
  }

  return defineVectorStore({
    provider: source,
    capabilities: {
      keywordSearch: false,
      filterOperators:
        Object.keys(filterColumns).length > 0
          ? databricksFilterOperators
          : databricksTokenFilterOperators,
      maxBatchSize,
      metric: 'euclidean',
      atomicHistory: false,
    },
    toError: (error, action) => toDatabricksError(error, action),
    methods: (lifecycle) => ({
      async ensureCollection({ collection, dimensions, abortSignal }) {
        assertPositiveInteger(dimensions, 'dimensions', source);
        let index = await describe(collection);
        if (!index) {
          const endpoint = required(
            setting(options.endpointName, 'endpointName', 'DATABRICKS_VECTOR_SEARCH_ENDPOINT'),
            'a Vector Search endpoint (endpointName)',
            'DATABRICKS_VECTOR_SEARCH_ENDPOINT',
          );
          const schema: Record<string, string> = {
            id: 'string',
            vector: 'array<float>',
            record: 'string',
            [databricksTokenColumn]: 'string',
            user_id: 'string',
            agent_id: 'string',
            run_id: 'string',
          };
          for (const [key, type] of Object.entries(filterColumns)) schema[`m_${key}`] = type;
          try {
            await call('POST', 'indexes', {
              name: indexName(collection),
              endpoint_name: endpoint,
              primary_key: 'id',
              index_type: 'DIRECT_ACCESS',
              direct_access_index_spec: {
                embedding_vector_columns: [{ name: 'vector', embedding_dimension: dimensions }],
                schema_json: JSON.stringify(schema),
              },
            });
          } catch (error) {
            // Created concurrently by another caller: use theirs.
            if (!(error instanceof DatabricksResponseError && error.status === 409)) throw error;
          }
          index = await pollUntil(() => describe(collection), {
            done: (found) => found?.status?.ready !== false,
            timeout: options.readyTimeout ?? 600_000,
            interval: 2000,
            check: () => lifecycle.check(abortSignal),
          });
        }
        const existing = dimensionOf(index) ?? dimensions;
        assertCollectionDimensions({ source, collection, existing, requested: dimensions });
        dimensionsByCollection.set(collection, existing);
      },

      async upsert({ collection, records, abortSignal }) {
        if (records.length === 0) return;
        assertRecords(records, { source, dimensions: await dimensionsOf(collection), collection });
        const rows = records.map((record) => toDatabricksRow(record, filterColumns));
        for (const batch of chunk(rows, maxBatchSize)) {
          lifecycle.check(abortSignal);
          const response = await call<{
            status?: string;
            result?: { failed_primary_keys?: string[] };
          }>('POST', `${indexPath(collection)}/upsert-data`, {
            inputs_json: JSON.stringify(batch),
          });
          if (response.status !== 'SUCCESS') {
            throw new AdapterCallError({
              source,
              message: `upsert-data answered ${response.status ?? 'no status'}; rows not written: ${(response.result?.failed_primary_keys ?? []).join(', ') || 'unknown'}. Retry the upsert.`,
              isRetryable: true,
            });
          }
        }
      },

      async query({ collection, vector: given, text, topK, scope, filter, includeVectors }) {
        const vector = requireQueryVector({ vector: given, text }, { source, noKeywordSearch });
        assertVectorLength(vector, await dimensionsOf(collection), {
          source,
          what: 'The query vector',
          collection,
        });
        const selection = databricksSelection(scope, filter, filterColumns);
        if (selection === false || topK < 1) return [];
        const rows = await query(collection, {
          vector,
          topK,
          ...(selection ? { selection } : {}),
          ...(includeVectors ? { includeVectors } : {}),
        });
        // The score of a direct-access index is 1 / (1 + squared L2 distance): higher is closer.
        return rows.map(({ row, score }) => ({ score, record: toRecord(row, includeVectors) }));
      },

      async get({ collection, ids, includeVectors }) {
        return ids.length === 0 ? [] : byIds(collection, ids, includeVectors);
      },

      async delete({ collection, ids, scope, filter, abortSignal }) {
        let keys: string[];
        if (ids) {
          // delete-data does not say what existed, so look first.
          keys = (await byIds(collection, [...new Set(ids)])).map((record) => record.id);
        } else {
          const normalized = normalizeScope(scope, { source });
          assertDeleteSelection({ scope: normalized, filter }, source);
          const selection = databricksSelection(normalized, filter, filterColumns);
          if (selection === false) return { deleted: 0 };
          keys = (await matching(collection, selection!)).map((record) => record.id);
        }
        await removeKeys(collection, keys, abortSignal);
        return { deleted: keys.length };
      },

      async list({ collection, limit, cursor, scope, filter, includeVectors }) {
        assertPositiveInteger(limit, 'limit', source);
        const after = decodeCursor(cursor, source);
        const selection = databricksSelection(scope, filter, filterColumns);
        if (selection === false) return { records: [] };
        let records: StoredRecord[];
        if (selection === undefined) {
          records = (await scan(collection, after, limit + 1)).map((row) =>
            toRecord(row, includeVectors),
          );
        } else {
          records = (await matching(collection, selection, includeVectors)).filter(
            (record) => after === undefined || record.id > after,
          );
        }
        const page = records.slice(0, limit);
        return {
          records: page,
          ...(records.length > limit ? { nextCursor: encodeCursor(page.at(-1)!.id) } : {}),
        };
      },

      async count({ collection, scope, filter }) {
        const selection = databricksSelection(scope, filter, filterColumns);
        if (selection === false) return 0;
        if (selection) return (await matching(collection, selection)).length;
        let total = 0;
        let after: string | undefined;
        for (;;) {
          const rows = await scan(collection, after, scanPage);
          total += rows.length;
          if (rows.length < scanPage) return total;
          after = String(rows.at(-1)!.id);
        }
      },

      async dropCollection({ collection }) {
        dimensionsByCollection.delete(collection);
        try {
          await call('DELETE', indexPath(collection));
        } catch (error) {
          if (!(error instanceof DatabricksResponseError && error.status === 404)) throw error;
        }
      },
    }),
  });
}
