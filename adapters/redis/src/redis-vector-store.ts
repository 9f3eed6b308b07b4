import {
  AdapterCallError,
  ClosedError,
  type CountOptions,
  type DeleteOptions,
  DimensionMismatchError,
  decodeCursor,
  EngramError,
  encodeCursor,
  type FilterExpression,
  filterOperators,
  type GetOptions,
  InvalidArgumentError,
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
import { createClient, RESP_TYPES } from 'redis';
import {
  andQueries,
  elementsField,
  hex,
  metadataTags,
  needsValueTags,
  pathsField,
  type RedisFilter,
  translateRedisFilter,
  valuesField,
} from './redis-filter.js';

const source = 'redis';

/** The part of a node-redis client the store uses; any connected `createClient()` fits. */
export interface RedisCommandClient {
  /** Sends one raw command. */
  sendCommand<T = unknown>(args: ReadonlyArray<string | Buffer>, options?: object): Promise<T>;
  /** Starts a MULTI/EXEC transaction. */
  multi(): {
    addCommand(args: ReadonlyArray<string | Buffer>): unknown;
    exec(): Promise<unknown>;
  };
}

/** Options of {@link createRedisVectorStore}: a client, or how to reach the server. */
export interface RedisVectorStoreOptions {
  /**
   * A connected node-redis client (`await createClient({ url }).connect()`), on a server with the
   * query engine (Redis 8, or Redis Stack). The store does not close a client it was given.
   */
  client?: RedisCommandClient;
  /** Server URL, e.g. `redis://localhost:6379`. Default: `REDIS_URL`, else `redis://localhost:6379`. */
  url?: string;
  /** Password, when not in the URL. Default: `REDIS_PASSWORD`. */
  password?: string;
  /** ACL user name, when not in the URL. Default: `REDIS_USERNAME`. */
  username?: string;
  /**
   * Prefix of every key and index name, so several applications can share one database.
   * Default `engram`: collection `memories` is index `engram:idx:memories` over keys
   * `engram:memories:<id>`.
   */
  keyPrefix?: string;
  /** Timeout of each query engine command in milliseconds (RediSearch `TIMEOUT`). Default 30,000. */
  queryTimeoutMs?: number;
}

interface CollectionInfo {
  index: string;
  keyPrefix: string;
  dimensions: number;
}

const binary = { typeMapping: { [RESP_TYPES.BLOB_STRING]: Buffer } };
const returnedFields = [
  'id',
  'text',
  'metadata',
  'createdAt',
  'updatedAt',
  'hash',
  'userId',
  'agentId',
  'runId',
] as const;
const deletePage = 1_000;

function env(name: string): string | undefined {
  const value = process.env[name];
  return value === undefined || value === '' ? undefined : value;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function isRetryable(error: unknown): boolean {
  const name = (error as { name?: string } | null)?.name ?? '';
  if (
    /SocketClosedUnexpectedly|ConnectionTimeout|ClientClosed|ClientOffline|Reconnect/i.test(name)
  ) {
    return true;
  }
  return /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|EAI_AGAIN|^LOADING|^BUSY|^TRYAGAIN|^CLUSTERDOWN|^MASTERDOWN|socket|timeout|timed out/i.test(
    errorMessage(error),
  );
}

function isUnknownIndex(error: unknown): boolean {
  return /unknown index name|no such index|index not found/i.test(errorMessage(error));
}

/** Keys and index names keep only `[A-Za-z0-9_-]`; anything else is percent-encoded UTF-8. */
function encodeName(name: string): string {
  return name.replace(/[^A-Za-z0-9_-]/gu, (character) =>
    [...Buffer.from(character, 'utf8')]
      .map((byte) => `%${byte.toString(16).toUpperCase().padStart(2, '0')}`)
      .join(''),
  );
}

function text(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  return Buffer.isBuffer(value) ? value.toString('utf8') : String(value);
}

function toVector(value: unknown): number[] | undefined {
  if (!Buffer.isBuffer(value)) return undefined;
  const copy = new Uint8Array(value.byteLength);
  copy.set(value);
  return Array.from(new Float32Array(copy.buffer));
}

function pairs(list: unknown): Map<string, unknown> {
  const map = new Map<string, unknown>();
  if (!Array.isArray(list)) return map;
  for (let index = 0; index + 1 < list.length; index += 2) {
    map.set(text(list[index]) ?? '', list[index + 1]);
  }
  return map;
}

function scopeQuery(scope: Scope): RedisFilter {
  return andQueries(
    scopeFields.flatMap((field) =>
      scope[field] === undefined ? [] : [`@tag_${field}:{${hex(scope[field])}}`],
    ),
  );
}

/** Single-quoted string of a RediSearch expression (`FILTER`). */
function expressionString(value: string): string {
  return `'${value.replace(/[\\']/g, (character) => `\\${character}`)}'`;
}

/**
 * Creates a {@link VectorStore} on Redis with the query engine (Redis 8, or Redis Stack 7.2+):
 * each collection is a RediSearch index over HASH keys with an HNSW cosine vector field, a TEXT
 * field for BM25 and TAG fields for scope and metadata. The client is connected on first use.
 */
export function createRedisVectorStore(options: RedisVectorStoreOptions = {}): VectorStore {
  const capabilities: VectorStoreCapabilities = {
    keywordSearch: true,
    filterOperators,
    maxBatchSize: 1_000,
    metric: 'cosine',
    atomicHistory: false,
  };
  const prefix = options.keyPrefix ?? 'engram';
  const timeout = String(options.queryTimeoutMs ?? 30_000);
  const infos = new Map<string, CollectionInfo>();
  let clientPromise: Promise<RedisCommandClient> | undefined;
  let ownClient: { close(): Promise<void>; destroy(): void } | undefined;
  let closed = false;

  function connect(): Promise<RedisCommandClient> {
    if (options.client) return Promise.resolve(options.client);
    clientPromise ??= (async () => {
      const username = options.username ?? env('REDIS_USERNAME');
      const password = options.password ?? env('REDIS_PASSWORD');
      const client = createClient({
        url: options.url ?? env('REDIS_URL') ?? 'redis://localhost:6379',
        ...(username ? { username } : {}),
        ...(password ? { password } : {}),
        RESP: 2,
        socket: {
          connectTimeout: 10_000,
          // Fail the call instead of waiting forever for a server that is not there.
          reconnectStrategy: (retries: number, cause: Error) =>
            retries >= 3 ? cause : Math.min(200 * 2 ** retries, 2_000),
        },
      });
      client.on('error', () => {
        // errors reach the caller through the failed command
      });
      ownClient = client;
      await client.connect();
      return client as unknown as RedisCommandClient;
    })();
    clientPromise.catch(() => {
      clientPromise = undefined;
      const failed = ownClient;
      ownClient = undefined;
      failed?.destroy();
    });
    return clientPromise;
  }

  async function call<T>(
    signal: AbortSignal | undefined,
    action: string,
    task: (client: RedisCommandClient) => Promise<T>,
  ): Promise<T> {
    if (closed)
      throw new ClosedError({ source, message: 'The store was closed; create a new one.' });
    throwIfAborted(signal, source);
    try {
      const client = await connect();
      if (closed) {
        throw new ClosedError({ source, message: 'The store was closed; create a new one.' });
      }
      const result = await task(client);
      throwIfAborted(signal, source);
      return result;
    } catch (error) {
      if (EngramError.isInstance(error)) throw error;
      throw new AdapterCallError({
        source,
        message: `${action} failed: ${errorMessage(error)}`,
        cause: error,
        isRetryable: isRetryable(error),
      });
    }
  }

  function names(collection: string) {
    const encoded = encodeName(collection);
    return { index: `${prefix}:idx:${encoded}`, keyPrefix: `${prefix}:${encoded}:` };
  }

  function missing(collection: string, cause?: unknown): NotFoundError {
    return new NotFoundError({
      source,
      message: `Collection "${collection}" does not exist; call ensureCollection first.`,
      ...(cause === undefined ? {} : { cause }),
    });
  }

  async function loadInfo(
    client: RedisCommandClient,
    collection: string,
  ): Promise<CollectionInfo | undefined> {
    const { index, keyPrefix } = names(collection);
    let reply: unknown;
    try {
      reply = await client.sendCommand(['FT.INFO', index]);
    } catch (error) {
      if (isUnknownIndex(error)) return undefined;
      throw error;
    }
    const attributes = pairs(reply).get('attributes');
    let dimensions: number | undefined;
    for (const attribute of Array.isArray(attributes) ? attributes : []) {
      const fields = new Map(
        [...pairs(attribute)].map(([key, value]) => [key.toLowerCase(), value]),
      );
      if (text(fields.get('identifier')) === 'vector') {
        dimensions = Number(text(fields.get('dim')));
      }
    }
    if (!dimensions) {
      throw new InvalidArgumentError({
        source,
        message: `Index "${index}" was not created by Engram (it has no vector field).`,
      });
    }
    const info = { index, keyPrefix, dimensions };
    infos.set(collection, info);
    return info;
  }

  async function describe(client: RedisCommandClient, collection: string) {
    const info = infos.get(collection) ?? (await loadInfo(client, collection));
    if (!info) throw missing(collection);
    return info;
  }

  async function translate(
    client: RedisCommandClient,
    info: CollectionInfo,
    scope: Scope | undefined,
    filter: FilterExpression | undefined,
  ): Promise<RedisFilter> {
    const normalized = normalizeScope(scope, { source });
    let translated: RedisFilter = true;
    if (filter) {
      const valueTags =
        needsValueTags(filter) && info
          ? ((await client.sendCommand(['FT.TAGVALS', info.index, valuesField])) as string[])
          : undefined;
      translated = translateRedisFilter(filter, valueTags ? { valueTags } : {});
    }
    return andQueries([scopeQuery(normalized), translated]);
  }

  function queryString(filter: RedisFilter): string {
    return filter === true ? '*' : String(filter);
  }

  function toRecord(fields: Map<string, unknown>, includeVectors: boolean | undefined) {
    const record: StoredRecord = {
      id: text(fields.get('id')) ?? '',
      text: text(fields.get('text')) ?? '',
      metadata: JSON.parse(text(fields.get('metadata')) ?? '{}'),
      createdAt: text(fields.get('createdAt')) ?? '',
      updatedAt: text(fields.get('updatedAt')) ?? '',
    };
    for (const field of ['hash', ...scopeFields] as const) {
      const value = text(fields.get(field));
      if (value !== undefined) record[field] = value;
    }
    if (includeVectors) {
      const vector = toVector(fields.get('vector'));
      if (vector) record.vector = vector;
    }
    return record;
  }

  function hashFields(record: VectorRecord): (string | Buffer)[] {
    const tags = metadataTags(record.metadata);
    const fields: (string | Buffer)[] = [
      'id',
      record.id,
      'text',
      record.text,
      'vector',
      Buffer.from(new Float32Array(record.vector).buffer),
      'metadata',
      JSON.stringify(record.metadata),
      'createdAt',
      record.createdAt,
      'updatedAt',
      record.updatedAt,
    ];
    for (const field of ['hash', ...scopeFields] as const) {
      const value = record[field];
      if (value === undefined) continue;
      fields.push(field, value);
      if (field !== 'hash') fields.push(`tag_${field}`, hex(value));
    }
    if (record.hash !== undefined) fields.push('tag_hash', hex(record.hash));
    for (const field of [valuesField, elementsField, pathsField] as const) {
      if (tags[field].length > 0) fields.push(field, tags[field].join(','));
    }
    return fields;
  }

  async function readRecords(
    client: RedisCommandClient,
    info: CollectionInfo,
    ids: readonly string[],
    includeVectors: boolean | undefined,
  ): Promise<StoredRecord[]> {
    const replies = await Promise.all(
      ids.map((id) => client.sendCommand(['HGETALL', `${info.keyPrefix}${id}`], binary)),
    );
    return replies.flatMap((reply) => {
      const fields = Array.isArray(reply)
        ? pairs(reply)
        : new Map(Object.entries((reply ?? {}) as Record<string, unknown>));
      return fields.size === 0 ? [] : [toRecord(fields, includeVectors)];
    });
  }

  /** Parses an `FT.SEARCH` reply: total, then key, [score], fields for each document. */
  function searchResults(reply: unknown, withScores: boolean) {
    const list = Array.isArray(reply) ? reply : [];
    const results: { fields: Map<string, unknown>; score: number }[] = [];
    const step = withScores ? 3 : 2;
    for (let index = 1; index + step - 1 < list.length; index += step) {
      const score = withScores ? Number(text(list[index + 1])) : 0;
      results.push({ fields: pairs(list[index + step - 1]), score });
    }
    return results;
  }

  const store: VectorStore = {
    specificationVersion: 'v1',
    provider: source,
    capabilities,

    ensureCollection({ collection, dimensions, abortSignal }) {
      return call(abortSignal, 'ensureCollection', async (client) => {
        if (!Number.isInteger(dimensions) || dimensions <= 0) {
          throw new InvalidArgumentError({
            source,
            message: `dimensions must be a positive integer, got ${dimensions}.`,
          });
        }
        let info = infos.get(collection) ?? (await loadInfo(client, collection));
        if (!info) {
          const { index, keyPrefix } = names(collection);
          try {
            await client.sendCommand([
              'FT.CREATE',
              index,
              'ON',
              'HASH',
              'PREFIX',
              '1',
              keyPrefix,
              'STOPWORDS',
              '0',
              'SCHEMA',
              'id',
              'TEXT',
              'NOINDEX',
              'SORTABLE',
              'UNF',
              'text',
              'TEXT',
              'vector',
              'VECTOR',
              'HNSW',
              '6',
              'TYPE',
              'FLOAT32',
              'DIM',
              String(dimensions),
              'DISTANCE_METRIC',
              'COSINE',
              ...[
                'tag_userId',
                'tag_agentId',
                'tag_runId',
                'tag_hash',
                valuesField,
                elementsField,
                pathsField,
              ].flatMap((field) => [field, 'TAG']),
            ]);
          } catch (error) {
            if (!/already exists/i.test(errorMessage(error))) throw error;
          }
          info = await loadInfo(client, collection);
          if (!info) throw missing(collection);
        }
        if (info.dimensions !== dimensions) {
          throw new DimensionMismatchError({
            source,
            expected: info.dimensions,
            actual: dimensions,
            message: `Collection "${collection}" holds ${info.dimensions}-dimensional vectors, not ${dimensions}. Use the embedder it was created with, or another collection.`,
          });
        }
      });
    },

    upsert({ collection, records, abortSignal }: UpsertOptions) {
      return call(abortSignal, 'upsert', async (client) => {
        const info = await describe(client, collection);
        for (const record of records) {
          if (typeof record.id !== 'string' || record.id.length === 0) {
            throw new InvalidArgumentError({
              source,
              message: 'Every record needs a non-empty string id.',
            });
          }
          if (record.vector.length !== info.dimensions) {
            throw new DimensionMismatchError({
              source,
              expected: info.dimensions,
              actual: record.vector.length,
              message: `Record "${record.id}" has a ${record.vector.length}-dimensional vector; the collection holds ${info.dimensions}.`,
            });
          }
        }
        if (records.length === 0) return;
        // DEL then HSET in one transaction: a re-upsert must not keep fields the new record lacks.
        const transaction = client.multi();
        for (const record of records) {
          const key = `${info.keyPrefix}${record.id}`;
          transaction.addCommand(['DEL', key]);
          transaction.addCommand(['HSET', key, ...hashFields(record)]);
        }
        const result = await transaction.exec();
        if (!Array.isArray(result)) {
          throw new AdapterCallError({
            source,
            message: 'upsert transaction was aborted.',
            cause: result,
          });
        }
        const failure = result.find((reply) => reply instanceof Error);
        if (failure) throw failure;
      });
    },

    query(options: QueryOptions): Promise<VectorMatch[]> {
      return call(options.abortSignal, 'query', async (client) => {
        const info = await describe(client, options.collection);
        if (!options.vector && options.text === undefined) {
          throw new InvalidArgumentError({ source, message: 'query needs a vector or a text.' });
        }
        if (options.vector && options.vector.length !== info.dimensions) {
          throw new DimensionMismatchError({
            source,
            expected: info.dimensions,
            actual: options.vector.length,
            message: `The query vector has ${options.vector.length} dimensions; the collection holds ${info.dimensions}.`,
          });
        }
        const filter = await translate(client, info, options.scope, options.filter);
        if (filter === false || options.topK <= 0) return [];
        const fields = [...returnedFields, ...(options.includeVectors ? ['vector'] : [])];
        if (options.vector) {
          const reply = await client.sendCommand(
            [
              'FT.SEARCH',
              info.index,
              `(${queryString(filter)})=>[KNN $k @vector $blob AS __distance]`,
              'PARAMS',
              '4',
              'k',
              String(options.topK),
              'blob',
              Buffer.from(new Float32Array(options.vector).buffer),
              'RETURN',
              String(fields.length + 1),
              ...fields,
              '__distance',
              'SORTBY',
              '__distance',
              'ASC',
              'LIMIT',
              '0',
              String(options.topK),
              'TIMEOUT',
              timeout,
              'DIALECT',
              '2',
            ],
            binary,
          );
          return searchResults(reply, false).map(({ fields: values }) => ({
            record: toRecord(values, options.includeVectors),
            score: 1 - Number(text(values.get('__distance'))),
          }));
        }
        const words = [
          ...new Set((options.text ?? '').toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []),
        ];
        if (words.length === 0) return [];
        const textQuery = andQueries([`@text:(${words.join(' | ')})`, filter]);
        const reply = await client.sendCommand(
          [
            'FT.SEARCH',
            info.index,
            String(textQuery),
            'SCORER',
            'BM25',
            'WITHSCORES',
            'RETURN',
            String(fields.length),
            ...fields,
            'LIMIT',
            '0',
            String(options.topK),
            'TIMEOUT',
            timeout,
            'DIALECT',
            '2',
          ],
          binary,
        );
        return searchResults(reply, true)
          .map(({ fields: values, score }) => ({
            record: toRecord(values, options.includeVectors),
            score,
          }))
          .filter((match) => match.score > 0);
      });
    },

    get({ collection, ids, includeVectors, abortSignal }: GetOptions) {
      return call(abortSignal, 'get', async (client) => {
        const info = await describe(client, collection);
        return readRecords(client, info, ids, includeVectors);
      });
    },

    delete(options: DeleteOptions) {
      return call(options.abortSignal, 'delete', async (client) => {
        const info = await describe(client, options.collection);
        if (options.ids) {
          if (options.ids.length === 0) return { deleted: 0 };
          const keys = [...new Set(options.ids)].map((id) => `${info.keyPrefix}${id}`);
          return { deleted: Number(await client.sendCommand(['DEL', ...keys])) };
        }
        const scope = normalizeScope(options.scope, { source });
        if (!options.filter && Object.keys(scope).length === 0) {
          throw new InvalidArgumentError({
            source,
            message:
              'delete needs ids, a non-empty scope or a filter; use dropCollection to empty a collection.',
          });
        }
        const filter = await translate(client, info, scope, options.filter);
        if (filter === false) return { deleted: 0 };
        let deleted = 0;
        for (;;) {
          const reply = (await client.sendCommand([
            'FT.SEARCH',
            info.index,
            queryString(filter),
            'NOCONTENT',
            'LIMIT',
            '0',
            String(deletePage),
            'TIMEOUT',
            timeout,
            'DIALECT',
            '2',
          ])) as unknown[];
          const keys = reply.slice(1).map((key) => String(key));
          if (keys.length === 0) return { deleted };
          deleted += Number(await client.sendCommand(['DEL', ...keys]));
        }
      });
    },

    list(options: ListOptions): Promise<ListPage> {
      return call(options.abortSignal, 'list', async (client) => {
        const info = await describe(client, options.collection);
        const after = decodeCursor(options.cursor, source);
        if (!Number.isInteger(options.limit) || options.limit <= 0) {
          throw new InvalidArgumentError({
            source,
            message: `limit must be a positive integer, got ${options.limit}.`,
          });
        }
        const filter = await translate(client, info, options.scope, options.filter);
        if (filter === false) return { records: [] };
        // Keyset pagination on the id: an offset would hit the query engine's result window.
        const reply = (await client.sendCommand([
          'FT.AGGREGATE',
          info.index,
          queryString(filter),
          'LOAD',
          '1',
          '@id',
          ...(after === undefined ? [] : ['FILTER', `@id > ${expressionString(after)}`]),
          'SORTBY',
          '2',
          '@id',
          'ASC',
          'MAX',
          String(options.limit + 1),
          'LIMIT',
          '0',
          String(options.limit + 1),
          'TIMEOUT',
          timeout,
          'DIALECT',
          '2',
        ])) as unknown[];
        const ids = reply
          .slice(1)
          .map((row) => text(pairs(row).get('id')))
          .filter((id): id is string => id !== undefined);
        const pageIds = ids.slice(0, options.limit);
        const records = await readRecords(client, info, pageIds, options.includeVectors);
        const last = pageIds.at(-1);
        return {
          records,
          ...(ids.length > options.limit && last ? { nextCursor: encodeCursor(last) } : {}),
        };
      });
    },

    count(options: CountOptions) {
      return call(options.abortSignal, 'count', async (client) => {
        const info = await describe(client, options.collection);
        const filter = await translate(client, info, options.scope, options.filter);
        if (filter === false) return 0;
        const reply = (await client.sendCommand([
          'FT.SEARCH',
          info.index,
          queryString(filter),
          'LIMIT',
          '0',
          '0',
          'TIMEOUT',
          timeout,
          'DIALECT',
          '2',
        ])) as unknown[];
        return Number(reply[0]);
      });
    },

    dropCollection({ collection, abortSignal }) {
      return call(abortSignal, 'dropCollection', async (client) => {
        infos.delete(collection);
        try {
          await client.sendCommand(['FT.DROPINDEX', names(collection).index, 'DD']);
        } catch (error) {
          if (!isUnknownIndex(error)) throw error;
        }
      });
    },

    async close() {
      if (closed) return;
      closed = true;
      const client = ownClient;
      ownClient = undefined;
      clientPromise = undefined;
      if (client) {
        try {
          await client.close();
        } catch {
          client.destroy();
        }
      }
    },

    async [Symbol.asyncDispose]() {
      await store.close();
    },
  };

  // An index dropped behind this store's back surfaces as "Unknown index name".
  for (const method of ['upsert', 'query', 'get', 'delete', 'list', 'count'] as const) {
    const original = store[method] as (options: { collection: string }) => Promise<unknown>;
    (store as unknown as Record<string, unknown>)[method] = async (options: {
      collection: string;
    }) => {
      try {
        return await original(options);
      } catch (error) {
        if (AdapterCallError.isInstance(error) && isUnknownIndex(error.cause)) {
          infos.delete(options.collection);
          throw missing(options.collection, error);
        }
        throw error;
      }
    };
  }
  return store;
}
