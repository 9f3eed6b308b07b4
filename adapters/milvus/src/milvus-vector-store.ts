import {
  assertDeleteSelection,
  assertPositiveInteger,
  assertRecords,
  assertVectorLength,
  chunk,
  collectionDimensionMismatch,
  defineVectorStore,
  type Lifecycle,
  optionalSettingLoader,
  requireQueryVector,
} from '@engram/adapter-kit';
import {
  AdapterCallError,
  decodeCursor,
  encodeCursor,
  type FilterExpression,
  InvalidArgumentError,
  type JsonValue,
  NotFoundError,
  normalizeScope,
  type Scope,
  type StoredRecord,
  type VectorRecord,
  type VectorStore,
} from '@engram/core';
import {
  type ClientConfig,
  ConsistencyLevelEnum,
  DataType,
  type FieldType,
  LoadState,
  MilvusClient,
  type RowData,
} from '@zilliz/milvus2-sdk-node';
import {
  checkStatus,
  errorIsCollectionMissing,
  errorIsCollectionNotLoaded,
  isCollectionMissing,
  source,
  toMilvusError,
} from './milvus-errors.js';
import {
  metadataField,
  metadataNullPaths,
  milvusFilterOperators,
  milvusStringLiteral,
  nullPathsField,
  translateMilvusFilter,
} from './milvus-filter.js';

const noKeywordSearch =
  'Keyword search (query with text) is not supported by the Milvus store; query with a vector, or let the engine rank keywords.';

/** Index of the vector field. */
export interface MilvusIndexOptions {
  /**
   * Milvus index type of the vector field: `HNSW` (the default), `AUTOINDEX`, `FLAT` (exact),
   * `IVF_FLAT`, `DISKANN`, ... The metric is always `COSINE`.
   */
  type?: string;
  /** Build parameters of the index. Default for `HNSW`: `{ M: 16, efConstruction: 200 }`. */
  params?: Record<string, unknown>;
}

/** Options of {@link createMilvusVectorStore}. */
export interface MilvusVectorStoreOptions {
  /**
   * A `MilvusClient` to use instead of creating one. The connection settings below are then
   * ignored, and `close()` leaves the client open: whoever created it closes it.
   */
  client?: MilvusClient;
  /**
   * Address of the Milvus proxy (gRPC): `host:port`, `http://host:port`, or `https://host:port`
   * for TLS. Default: the `MILVUS_URL` environment variable, then `MILVUS_ADDRESS`, then
   * `localhost:19530`.
   */
  address?: string;
  /** Same as `address`; the name every server-backed Engram adapter accepts. */
  url?: string;
  /**
   * Authentication token: a Zilliz Cloud API key or `username:password`. Default: the
   * `MILVUS_TOKEN` environment variable.
   */
  token?: string;
  /** User name, when authentication is enabled. Default: the `MILVUS_USERNAME` environment variable. */
  username?: string;
  /** Password of {@link MilvusVectorStoreOptions.username}. Default: the `MILVUS_PASSWORD` environment variable. */
  password?: string;
  /** Database holding the collections. Default: the `MILVUS_DATABASE` environment variable, else Milvus's `default`. */
  database?: string;
  /** Use TLS even when the address does not start with `https://`. */
  ssl?: boolean;
  /** Timeout of every call to Milvus in milliseconds. Default 60,000. */
  timeoutMs?: number;
  /** Index built on the vector field of new collections. Default HNSW (M 16, efConstruction 200). */
  index?: MilvusIndexOptions;
  /**
   * Search parameters sent with every vector query, e.g. `{ ef: 128 }` for HNSW or
   * `{ nprobe: 16 }` for IVF indexes. For HNSW, `ef` defaults to 64 and is raised to `topK`
   * when smaller, as Milvus requires.
   */
  searchParams?: Record<string, unknown>;
}

const vectorField = 'vector';
const scopeColumns = { userId: 'user_id', agentId: 'agent_id', runId: 'run_id' } as const;
const recordFields = [
  'id',
  'text',
  'hash',
  'user_id',
  'agent_id',
  'run_id',
  metadataField,
  'created_at',
  'updated_at',
];

// Milvus limits: VARCHAR lengths are bytes (at most 65,535); topK and offset + limit of one
// query are at most 16,384.
const idMaxBytes = 512;
const textMaxBytes = 65_535;
const hashMaxBytes = 512;
const scopeMaxBytes = 1_024;
const dateMaxBytes = 64;
const maxWindow = 16_384;
const maxDimensions = 32_768;
const upsertChunk = 1_000;
const idChunk = 1_000;
const maxPageSize = 8_191;

const collectionNamePattern = /^[A-Za-z_][A-Za-z0-9_]{0,254}$/;

interface CollectionState {
  dimensions: number;
}

type Row = Record<string, unknown>;

function byteLength(value: string): number {
  return Buffer.byteLength(value, 'utf8');
}

/** Milvus orders VARCHAR values by their UTF-8 bytes; page boundaries must use the same order. */
function compareIds(left: string, right: string): number {
  return Buffer.compare(Buffer.from(left, 'utf8'), Buffer.from(right, 'utf8'));
}

function and(...parts: (string | undefined)[]): string {
  const present = parts.filter((part): part is string => part !== undefined && part !== '');
  if (present.length <= 1) return present[0] ?? '';
  return present.map((part) => `(${part})`).join(' and ');
}

function idList(ids: readonly string[]): string {
  return `id in [${ids.map(milvusStringLiteral).join(', ')}]`;
}

function toRecord(row: Row, includeVectors: boolean | undefined): StoredRecord {
  const metadata = row[metadataField];
  const record: StoredRecord = {
    id: String(row.id),
    text: typeof row.text === 'string' ? row.text : '',
    metadata:
      metadata != null && typeof metadata === 'object' && !Array.isArray(metadata)
        ? (metadata as Record<string, JsonValue>)
        : {},
    createdAt: typeof row.created_at === 'string' ? row.created_at : '',
    updatedAt: typeof row.updated_at === 'string' ? row.updated_at : '',
  };
  // Milvus 2.3 has no nullable scalar fields: an empty string stands for "absent" (scope ids
  // can never be empty).
  if (typeof row.hash === 'string' && row.hash !== '') record.hash = row.hash;
  for (const [field, column] of Object.entries(scopeColumns)) {
    const value = row[column];
    if (typeof value === 'string' && value !== '') record[field as keyof Scope] = value;
  }
  if (includeVectors && Array.isArray(row[vectorField])) {
    record.vector = (row[vectorField] as unknown[]).map(Number);
  }
  return record;
}

function scopeExpression(scope: Scope | undefined): string {
  const normalized = normalizeScope(scope, { source });
  return and(
    ...Object.entries(scopeColumns).map(([field, column]) => {
      const value = normalized[field as keyof Scope];
      return value === undefined ? undefined : `${column} == ${milvusStringLiteral(value)}`;
    }),
  );
}

function filterExpression(filter: FilterExpression | undefined): string {
  return filter ? translateMilvusFilter(filter) : '';
}

function checkCollectionName(collection: unknown): asserts collection is string {
  if (typeof collection !== 'string' || !collectionNamePattern.test(collection)) {
    throw new InvalidArgumentError({
      source,
      message: `Collection name ${JSON.stringify(collection)} is not valid in Milvus: use letters, digits and "_", starting with a letter or "_", at most 255 characters.`,
    });
  }
}

function collectionFields(dimensions: number): FieldType[] {
  return [
    { name: 'id', data_type: DataType.VarChar, is_primary_key: true, max_length: idMaxBytes },
    { name: vectorField, data_type: DataType.FloatVector, dim: dimensions },
    { name: 'text', data_type: DataType.VarChar, max_length: textMaxBytes },
    { name: 'hash', data_type: DataType.VarChar, max_length: hashMaxBytes },
    { name: 'user_id', data_type: DataType.VarChar, max_length: scopeMaxBytes },
    { name: 'agent_id', data_type: DataType.VarChar, max_length: scopeMaxBytes },
    { name: 'run_id', data_type: DataType.VarChar, max_length: scopeMaxBytes },
    { name: metadataField, data_type: DataType.JSON },
    { name: nullPathsField, data_type: DataType.JSON },
    { name: 'created_at', data_type: DataType.VarChar, max_length: dateMaxBytes },
    { name: 'updated_at', data_type: DataType.VarChar, max_length: dateMaxBytes },
  ];
}

/** The Milvus store: a vector store that can also wait for its index to be built. */
export type MilvusVectorStore = VectorStore & {
  /**
   * Flushes the collection (so that Milvus seals the segments still growing, which it indexes
   * only once sealed) and waits until its vector index covers every row: for a bulk import,
   * before timing or serving queries that should use the index rather than scan unindexed
   * segments. Resolves to the rows indexed; fails with the server's reason when the build fails,
   * or after `timeoutMs` (default one hour) with the rows indexed by then.
   */
  buildIndex(options: {
    collection: string;
    timeoutMs?: number;
    abortSignal?: AbortSignal;
  }): Promise<{ indexedRows: number; totalRows: number }>;
};

/** Pause between two looks at an index build's progress, in ms. */
const indexPollMs = 1_000;

/**
 * A `VectorStore` on Milvus (2.3 or newer). Each collection holds the record fields as columns
 * (scope ids as indexed VARCHAR fields, metadata as a JSON field), a `COSINE` vector index, and
 * is read with `Strong` consistency so that every read sees the writes before it.
 */
export function createMilvusVectorStore(options: MilvusVectorStoreOptions = {}): MilvusVectorStore {
  let client: MilvusClient | undefined = options.client;
  const ownsClient = options.client === undefined;
  const collections = new Map<string, Promise<CollectionState>>();
  const indexType = (options.index?.type ?? 'HNSW').toUpperCase();
  const indexParams =
    options.index?.params ?? (indexType === 'HNSW' ? { M: 16, efConstruction: 200 } : {});
  const setting = optionalSettingLoader(source);

  function milvus(): MilvusClient {
    if (client) return client;
    const address =
      setting(options.address ?? options.url, 'url', 'MILVUS_URL') ??
      setting(undefined, 'address', 'MILVUS_ADDRESS') ??
      'localhost:19530';
    const config: ClientConfig = {
      address,
      timeout: options.timeoutMs ?? 60_000,
      logLevel: 'error',
    };
    const token = setting(options.token, 'token', 'MILVUS_TOKEN');
    const username = setting(options.username, 'username', 'MILVUS_USERNAME');
    const password = setting(options.password, 'password', 'MILVUS_PASSWORD');
    const database = setting(options.database, 'database', 'MILVUS_DATABASE');
    if (token) config.token = token;
    if (username) config.username = username;
    if (password) config.password = password;
    if (database) config.database = database;
    if (options.ssl !== undefined) config.ssl = options.ssl;
    try {
      client = new MilvusClient(config);
    } catch (error) {
      throw new InvalidArgumentError({
        source,
        message: `Cannot create a Milvus client for "${address}": ${(error as Error).message}`,
        cause: error,
      });
    }
    // The client starts connecting at once; a failure there is reported by the first call.
    client.connectPromise.catch(() => {});
    return client;
  }

  async function call<T>(action: string, collection: string | undefined, run: () => Promise<T>) {
    try {
      return await run();
    } catch (error) {
      if (collection !== undefined && errorIsCollectionMissing(error))
        collections.delete(collection);
      throw toMilvusError(error, action, collection);
    }
  }

  function notFound(collection: string): NotFoundError {
    return new NotFoundError({
      source,
      message: `Collection "${collection}" does not exist; call ensureCollection first.`,
    });
  }

  async function describe(collection: string): Promise<CollectionState | undefined> {
    const response = await milvus().describeCollection({
      collection_name: collection,
      cache: false,
    });
    if (isCollectionMissing(response.status)) return undefined;
    checkStatus('describeCollection', response.status);
    const fields = response.schema?.fields ?? [];
    const vector = fields.find((field) => field.name === vectorField);
    const dimParam = vector?.type_params?.find((param) => param.key === 'dim')?.value;
    const dimensions = Number(vector?.dim ?? dimParam);
    const missing = ['id', 'text', metadataField, nullPathsField].filter(
      (name) => !fields.some((field) => field.name === name),
    );
    if (!vector || !Number.isInteger(dimensions) || missing.length > 0) {
      throw new InvalidArgumentError({
        source,
        message: `Collection "${collection}" exists but does not have Engram's schema (fields id, ${vectorField}, text, ${metadataField}, ${nullPathsField}); use another collection name.`,
      });
    }
    return { dimensions };
  }

  async function ensureIndexed(collection: string): Promise<void> {
    const client = milvus();
    const state = await client.getLoadState({ collection_name: collection });
    checkStatus('getLoadState', state.status);
    if (state.state === LoadState.LoadStateLoaded) return;
    if (state.state !== LoadState.LoadStateLoading) {
      const index = await client.describeIndex({
        collection_name: collection,
        field_name: vectorField,
      });
      const hasIndex =
        index.status.error_code === 'Success' && (index.index_descriptions ?? []).length > 0;
      if (!hasIndex) {
        const created = await client.createIndex({
          collection_name: collection,
          field_name: vectorField,
          index_type: indexType,
          metric_type: 'COSINE',
          params: indexParams,
        });
        checkStatus('createIndex', created);
        // Scalar indexes speed up scope filters; the server picks the type (Trie on 2.3,
        // INVERTED later). They are optional, so a server that refuses them is not an error.
        for (const field of Object.values(scopeColumns)) {
          await client
            .createIndex({ collection_name: collection, field_name: field })
            .catch(() => {});
        }
      }
    }
    const loaded = await client.loadCollectionSync({ collection_name: collection });
    checkStatus('loadCollection', loaded);
  }

  /** The collection's state, described once per store; `NotFoundError` when it does not exist. */
  function known(collection: string): Promise<CollectionState> {
    checkCollectionName(collection);
    const cached = collections.get(collection);
    if (cached) return cached;
    const pending = call('describeCollection', collection, async () => {
      const state = await describe(collection);
      if (!state) throw notFound(collection);
      await ensureIndexed(collection);
      return state;
    });
    collections.set(collection, pending);
    pending.catch(() => {
      if (collections.get(collection) === pending) collections.delete(collection);
    });
    return pending;
  }

  /** Runs a read; a collection that is not loaded (after a server restart or release) is loaded once. */
  async function read<T>(action: string, collection: string, run: () => Promise<T>): Promise<T> {
    return call(action, collection, async () => {
      try {
        return await run();
      } catch (error) {
        if (!errorIsCollectionNotLoaded(error)) throw error;
        await ensureIndexed(collection);
        return await run();
      }
    });
  }

  async function queryRows(
    collection: string,
    expression: string,
    limit: number,
    outputFields: string[],
  ): Promise<Row[]> {
    return read('query', collection, async () => {
      const response = await milvus().query({
        collection_name: collection,
        filter: expression,
        output_fields: outputFields,
        limit,
        consistency_level: ConsistencyLevelEnum.Strong,
      });
      checkStatus('query', response.status);
      return response.data as Row[];
    });
  }

  async function countRows(collection: string, expression: string): Promise<number> {
    return read('count', collection, async () => {
      const response = await milvus().query({
        collection_name: collection,
        filter: expression,
        output_fields: ['count(*)'],
        consistency_level: ConsistencyLevelEnum.Strong,
      });
      checkStatus('count', response.status);
      return Number(response.data[0]?.['count(*)'] ?? 0);
    });
  }

  async function deleteIds(collection: string, ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await call('delete', collection, async () => {
      const response = await milvus().delete({ collection_name: collection, filter: idList(ids) });
      checkStatus('delete', response.status);
    });
  }

  function outputFields(includeVectors: boolean | undefined): string[] {
    return includeVectors ? [...recordFields, vectorField] : recordFields;
  }

  /** The Milvus row of a record, after the checks Milvus's column limits add to the kit's. */
  function toRow(record: VectorRecord): Row {
    if (byteLength(record.id) > idMaxBytes) {
      throw new InvalidArgumentError({
        source,
        message: `Record id "${record.id.slice(0, 40)}..." is longer than ${idMaxBytes} bytes.`,
      });
    }
    if (typeof record.text !== 'string' || byteLength(record.text) > textMaxBytes) {
      throw new InvalidArgumentError({
        source,
        message: `Record "${record.id}" needs a text of at most ${textMaxBytes} UTF-8 bytes.`,
      });
    }
    if (
      record.hash !== undefined &&
      (typeof record.hash !== 'string' || byteLength(record.hash) > hashMaxBytes)
    ) {
      throw new InvalidArgumentError({
        source,
        message: `Record "${record.id}" has a hash that is not a string of at most ${hashMaxBytes} bytes.`,
      });
    }
    const metadata = record.metadata ?? {};
    if (typeof metadata !== 'object' || Array.isArray(metadata)) {
      throw new InvalidArgumentError({
        source,
        message: `Record "${record.id}" has metadata that is not a JSON object.`,
      });
    }
    for (const field of ['createdAt', 'updatedAt'] as const) {
      if (typeof record[field] !== 'string' || byteLength(record[field]) > dateMaxBytes) {
        throw new InvalidArgumentError({
          source,
          message: `Record "${record.id}" needs ${field} as an ISO-8601 string.`,
        });
      }
    }
    const scope = normalizeScope(record, { source });
    return {
      id: record.id,
      [vectorField]: record.vector,
      text: record.text,
      hash: record.hash ?? '',
      user_id: scope.userId ?? '',
      agent_id: scope.agentId ?? '',
      run_id: scope.runId ?? '',
      [metadataField]: metadata,
      [nullPathsField]: { paths: metadataNullPaths(metadata) },
      created_at: record.createdAt,
      updated_at: record.updatedAt,
    };
  }

  function searchParams(topK: number): Record<string, unknown> {
    const params: Record<string, unknown> = { ...(options.searchParams ?? {}) };
    if (indexType === 'HNSW') params.ef = Math.max(Number(params.ef ?? 64) || 64, topK);
    return params;
  }

  /**
   * One page of ids after `after`, in byte order. Milvus query has no ORDER BY; it returns the
   * smallest primary keys in practice, and the page is checked with a count so that a server that
   * does not cannot make the cursor skip records: if fewer than `size` records lie at or below
   * the page's last id, the range is narrowed and read again.
   */
  async function listPage(
    collection: string,
    base: string,
    after: string | undefined,
    size: number,
    fields: string[],
  ): Promise<{ rows: Row[]; more: boolean }> {
    let upper: string | undefined;
    for (let round = 0; round < 64; round++) {
      const range = and(
        after === undefined ? undefined : `id > ${milvusStringLiteral(after)}`,
        upper === undefined ? undefined : `id <= ${milvusStringLiteral(upper)}`,
      );
      const rows = await queryRows(collection, and(base, range), size + 1, fields);
      rows.sort((left, right) => compareIds(String(left.id), String(right.id)));
      if (rows.length <= size) return { rows, more: upper !== undefined };
      const page = rows.slice(0, size);
      const last = String(page.at(-1)!.id);
      const upTo = and(
        base,
        after === undefined ? undefined : `id > ${milvusStringLiteral(after)}`,
        `id <= ${milvusStringLiteral(last)}`,
      );
      if ((await countRows(collection, upTo)) === size) return { rows: page, more: true };
      upper = last;
    }
    throw new AdapterCallError({
      source,
      message: `Listing collection "${collection}" did not settle on a page; retry.`,
      isRetryable: true,
    });
  }

  /** See {@link MilvusVectorStore.buildIndex}. */
  async function buildIndex(
    lifecycle: Lifecycle,
    buildOptions: {
      collection: string;
      timeoutMs?: number;
      abortSignal?: AbortSignal;
    },
  ) {
    const { collection } = buildOptions;
    await known(collection);
    await call('flush', collection, async () => {
      const flushed = await milvus().flushSync({ collection_names: [collection] });
      checkStatus('flush', flushed.status);
    });
    const timeoutMs = buildOptions.timeoutMs ?? 3_600_000;
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      lifecycle.check(buildOptions.abortSignal);
      const index = await call('describeIndex', collection, async () => {
        const response = await milvus().describeIndex({
          collection_name: collection,
          field_name: vectorField,
        });
        checkStatus('describeIndex', response.status);
        return response.index_descriptions?.[0];
      });
      const indexedRows = Number(index?.indexed_rows ?? 0);
      const totalRows = Number(index?.total_rows ?? 0);
      if (index?.state === 'Failed') {
        throw new AdapterCallError({
          source,
          message: `Milvus failed to build the index of "${collection}": ${index.index_state_fail_reason || 'no reason given'}.`,
        });
      }
      if (index && indexedRows >= totalRows && Number(index.pending_index_rows ?? 0) === 0) {
        return { indexedRows, totalRows };
      }
      if (performance.now() >= deadline) {
        throw new AdapterCallError({
          source,
          isRetryable: true,
          message: `The index of "${collection}" covered ${indexedRows} of ${totalRows} rows after ${timeoutMs} ms; call buildIndex again to go on waiting.`,
        });
      }
      await new Promise((resolve) => setTimeout(resolve, indexPollMs));
    }
  }

  const store = defineVectorStore({
    provider: source,
    capabilities: {
      keywordSearch: false,
      filterOperators: milvusFilterOperators,
      maxBatchSize: upsertChunk,
      metric: 'cosine',
      atomicHistory: false,
    },
    toError: (error, action) => toMilvusError(error, action),
    onClose: async () => {
      collections.clear();
      if (!ownsClient || !client) return;
      const current = client;
      client = undefined;
      await current.closeConnection().catch(() => {});
    },
    methods: (lifecycle) => ({
      // Not a VectorStore method: spread so that the contract's shape is checked for the rest.
      ...{
        buildIndex: (options: Parameters<MilvusVectorStore['buildIndex']>[0]) =>
          buildIndex(lifecycle, options),
      },
      async ensureCollection({ collection, dimensions, abortSignal }) {
        checkCollectionName(collection);
        if (!Number.isInteger(dimensions) || dimensions <= 0 || dimensions > maxDimensions) {
          throw new InvalidArgumentError({
            source,
            message: `dimensions must be an integer from 1 to ${maxDimensions}, got ${dimensions}.`,
          });
        }
        const mismatch = (existing: number) =>
          collectionDimensionMismatch({ source, collection, existing, requested: dimensions });
        const cached = collections.get(collection);
        if (cached) {
          const state = await cached.catch(() => undefined);
          if (state) {
            if (state.dimensions !== dimensions) throw mismatch(state.dimensions);
            return;
          }
        }
        const pending = call('ensureCollection', collection, async () => {
          let state = await describe(collection);
          if (!state) {
            const created = await milvus().createCollection({
              collection_name: collection,
              description: 'Engram memories',
              fields: collectionFields(dimensions),
              consistency_level: 'Strong',
            });
            // A concurrent ensureCollection may have created it first; describe decides.
            state = await describe(collection);
            if (!state) checkStatus('createCollection', created);
            if (!state) throw notFound(collection);
          }
          if (state.dimensions !== dimensions) throw mismatch(state.dimensions);
          await ensureIndexed(collection);
          return state;
        });
        collections.set(collection, pending);
        pending.catch(() => {
          if (collections.get(collection) === pending) collections.delete(collection);
        });
        lifecycle.check(abortSignal);
        await pending;
      },

      async upsert({ collection, records, abortSignal }) {
        if (
          !Array.isArray(records) ||
          records.some((record) => record == null || typeof record !== 'object')
        ) {
          throw new InvalidArgumentError({
            source,
            message: 'records must be an array of objects.',
          });
        }
        const { dimensions } = await known(collection);
        assertRecords(records, { source, dimensions, collection });
        // Milvus keeps every copy of a primary key sent twice in one request; the last one wins here.
        const rows = new Map(records.map((record) => [record.id, toRow(record)]));
        for (const batch of chunk([...rows.values()], upsertChunk)) {
          lifecycle.check(abortSignal);
          await call('upsert', collection, async () => {
            const response = await milvus().upsert({
              collection_name: collection,
              data: batch as RowData[],
            });
            checkStatus('upsert', response.status);
          });
        }
      },

      async query(options) {
        const { collection, topK } = options;
        const vector = requireQueryVector(options, { source, noKeywordSearch });
        if (!Number.isInteger(topK) || topK < 0 || topK > maxWindow) {
          throw new InvalidArgumentError({
            source,
            message: `topK must be an integer from 0 to ${maxWindow} (Milvus's limit), got ${topK}.`,
          });
        }
        const expression = and(scopeExpression(options.scope), filterExpression(options.filter));
        const { dimensions } = await known(collection);
        assertVectorLength(vector, dimensions, { source, what: 'The query vector', collection });
        if (topK === 0) return [];
        const results = await read('search', collection, async () => {
          const response = await milvus().search({
            collection_name: collection,
            anns_field: vectorField,
            data: [vector],
            limit: topK,
            ...(expression ? { filter: expression } : {}),
            output_fields: outputFields(options.includeVectors),
            params: searchParams(topK),
            consistency_level: ConsistencyLevelEnum.Strong,
          });
          checkStatus('search', response.status);
          return response.results as unknown as Row[];
        });
        return results.map((row) => ({
          record: toRecord(row, options.includeVectors),
          score: Number(row.score),
        }));
      },

      async get({ collection, ids, includeVectors }) {
        if (!Array.isArray(ids))
          throw new InvalidArgumentError({ source, message: 'ids must be an array.' });
        await known(collection);
        const unique = [...new Set(ids.filter((id) => typeof id === 'string' && id.length > 0))];
        const found = new Map<string, StoredRecord>();
        for (const batch of chunk(unique, idChunk)) {
          const rows = await queryRows(
            collection,
            idList(batch),
            batch.length,
            outputFields(includeVectors),
          );
          for (const row of rows) found.set(String(row.id), toRecord(row, includeVectors));
        }
        return ids.flatMap((id) => {
          const record = found.get(id);
          return record ? [structuredClone(record)] : [];
        });
      },

      async delete(options) {
        const { collection } = options;
        if (options.ids) {
          if (!Array.isArray(options.ids)) {
            throw new InvalidArgumentError({ source, message: 'ids must be an array.' });
          }
          await known(collection);
          const unique = [
            ...new Set(options.ids.filter((id) => typeof id === 'string' && id !== '')),
          ];
          let deleted = 0;
          for (const batch of chunk(unique, idChunk)) {
            // Milvus counts every id it was asked to delete, present or not.
            const existing = await queryRows(collection, idList(batch), batch.length, ['id']);
            const existingIds = existing.map((row) => String(row.id));
            await deleteIds(collection, existingIds);
            deleted += existingIds.length;
          }
          return { deleted };
        }
        const scope = scopeExpression(options.scope);
        const filter = filterExpression(options.filter);
        assertDeleteSelection({ scope, filter }, source);
        await known(collection);
        const expression = and(scope, filter);
        let deleted = 0;
        let previous = '';
        for (;;) {
          lifecycle.check(options.abortSignal);
          const rows = await queryRows(collection, expression, idChunk, ['id']);
          if (rows.length === 0) break;
          const ids = rows.map((row) => String(row.id));
          const signature = ids.join('\u0000');
          if (signature === previous) {
            throw new AdapterCallError({
              source,
              message: `Deleted records of "${collection}" are still visible; the delete did not apply.`,
              isRetryable: true,
            });
          }
          previous = signature;
          await deleteIds(collection, ids);
          deleted += ids.length;
        }
        return { deleted };
      },

      async list(options) {
        const { collection, limit } = options;
        assertPositiveInteger(limit, 'limit', source);
        const after = decodeCursor(options.cursor, source);
        const base = and(scopeExpression(options.scope), filterExpression(options.filter));
        await known(collection);
        const { rows, more } = await listPage(
          collection,
          base,
          after,
          Math.min(limit, maxPageSize),
          outputFields(options.includeVectors),
        );
        const records = rows.map((row) => toRecord(row, options.includeVectors));
        const last = records.at(-1);
        return { records, ...(more && last ? { nextCursor: encodeCursor(last.id) } : {}) };
      },

      async count(options) {
        const expression = and(scopeExpression(options.scope), filterExpression(options.filter));
        await known(options.collection);
        return countRows(options.collection, expression);
      },

      async stats({ collection }) {
        await known(collection);
        // Collection statistics count deleted rows until compaction and give no size: count(*).
        return { vectors: await countRows(collection, '') };
      },

      async dropCollection({ collection }) {
        checkCollectionName(collection);
        collections.delete(collection);
        await call('dropCollection', collection, async () => {
          const response = await milvus().dropCollection({ collection_name: collection });
          if (isCollectionMissing(response)) return;
          checkStatus('dropCollection', response);
        });
        collections.delete(collection);
      },
    }),
  });
  return store as MilvusVectorStore;
}
