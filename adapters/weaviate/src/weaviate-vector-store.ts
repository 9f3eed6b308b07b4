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
  KeyedMutex,
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
import weaviate, {
  type Collection,
  type FilterValue,
  type WeaviateClient,
  type WeaviateField,
} from 'weaviate-client';
import {
  andFilters,
  indexMetadata,
  type MetadataPropertyType,
  pathsProperty,
  translateWeaviateFilter,
  unwrapExact,
  type WeaviateFilter,
  wrapExact,
} from './weaviate-filter.js';
import { toClassName } from './weaviate-names.js';

const source = 'weaviate';

/** Options of {@link createWeaviateVectorStore}: a client, or how to reach the server. */
export interface WeaviateVectorStoreOptions {
  /**
   * A connected client (`await weaviate.connectToLocal()`, `connectToWeaviateCloud`, ...). The
   * store does not close a client it was given.
   */
  client?: WeaviateClient;
  /**
   * REST endpoint, e.g. `http://localhost:8080` or `https://my-cluster.weaviate.cloud`.
   * Default: `WEAVIATE_URL`, else `http://localhost:8080`.
   */
  url?: string;
  /** gRPC port on the same host. Default: `WEAVIATE_GRPC_PORT`, else 443 for https, else 50051. */
  grpcPort?: number;
  /** gRPC host, when it differs from the REST host. Default: `WEAVIATE_GRPC_HOST`, else the URL's host. */
  grpcHost?: string;
  /** API key sent as a bearer token. Default: `WEAVIATE_API_KEY`. */
  apiKey?: string;
  /** Extra headers on every request (e.g. for a proxy). */
  headers?: Record<string, string>;
  /** Per-request timeouts in seconds. Default: 30 for queries, 90 for inserts, 10 for setup. */
  timeout?: { query?: number; insert?: number; init?: number };
  /** Records per gRPC batch in `upsert`; larger upserts are sent in several batches. Default 1,000. */
  batchSize?: number;
}

interface CollectionInfo {
  className: string;
  dimensions: number;
  properties: Set<string>;
}

type Properties = Record<string, WeaviateField>;

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const nilUuid = '00000000-0000-0000-0000-000000000000';
const descriptionPrefix = 'engram:';
const recordProperties = [
  'text',
  'hash',
  'userId',
  'agentId',
  'runId',
  'metadata',
  'createdAt',
  'updatedAt',
] as const;
/** Weaviate refuses to return more than QUERY_MAXIMUM_RESULTS (default 10,000) per request. */
const deletePage = 5_000;

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
    name === 'WeaviateRequestTimeoutError' ||
    name === 'WeaviateGRPCUnavailableError' ||
    name === 'WeaviateStartUpError'
  ) {
    return true;
  }
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'number' && (code === 429 || code >= 500)) return true;
  return /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|socket hang up|fetch failed|UNAVAILABLE|DEADLINE_EXCEEDED|RESOURCE_EXHAUSTED|status code: (429|5\d\d)|timed? ?out/i.test(
    `${errorMessage(error)} ${errorMessage((error as { cause?: unknown } | null)?.cause)}`,
  );
}

function isMissingClass(error: unknown): boolean {
  return /class .*(not found|does not exist)|could not find class|no such class|collection .* not found/i.test(
    errorMessage(error),
  );
}

function isAlreadyExists(error: unknown): boolean {
  return /already exists|already used|exists already/i.test(errorMessage(error));
}

function closedError(): ClosedError {
  return new ClosedError({ source, message: 'The store was closed; create a new one.' });
}

function missingCollection(collection: string, cause?: unknown): NotFoundError {
  return new NotFoundError({
    source,
    message: `Collection "${collection}" does not exist; call ensureCollection first.`,
    ...(cause === undefined ? {} : { cause }),
  });
}

function parseDimensions(description: string | undefined): number | undefined {
  if (!description?.startsWith(descriptionPrefix)) return undefined;
  try {
    const parsed = JSON.parse(description.slice(descriptionPrefix.length)) as {
      dimensions?: unknown;
    };
    return typeof parsed.dimensions === 'number' ? parsed.dimensions : undefined;
  } catch {
    return undefined;
  }
}

function propertyConfig(name: string, type: MetadataPropertyType) {
  if (type === 'text' || type === 'text[]') {
    return {
      name,
      dataType: type,
      tokenization: 'field' as const,
      indexFilterable: true,
      indexSearchable: false,
    };
  }
  return { name, dataType: type, indexFilterable: true, indexRangeFilters: type === 'number' };
}

function scopeFilter(scope: Scope): WeaviateFilter {
  return andFilters(
    ...scopeFields.flatMap((field): WeaviateFilter[] =>
      scope[field] === undefined
        ? []
        : [{ operator: 'Equal', target: { property: field }, value: wrapExact(scope[field]) }],
    ),
  );
}

/**
 * Creates a {@link VectorStore} on Weaviate (REST and gRPC; tested with 1.39). Each Engram
 * collection is a Weaviate collection with a self-provided vector in an HNSW index with the
 * cosine distance; the client is connected on first use.
 */
export function createWeaviateVectorStore(options: WeaviateVectorStoreOptions = {}): VectorStore {
  const capabilities: VectorStoreCapabilities = {
    keywordSearch: true,
    filterOperators,
    maxBatchSize: 1_000,
    metric: 'cosine',
    atomicHistory: false,
  };
  const batchSize = Math.max(1, options.batchSize ?? 1_000);
  const infos = new Map<string, CollectionInfo>();
  const schemaLock = new KeyedMutex();
  let clientPromise: Promise<WeaviateClient> | undefined;
  let closed = false;

  function connect(): Promise<WeaviateClient> {
    if (options.client) return Promise.resolve(options.client);
    clientPromise ??= (async () => {
      const url = new URL(options.url ?? env('WEAVIATE_URL') ?? 'http://localhost:8080');
      const secure = url.protocol === 'https:';
      const grpcPortSetting = options.grpcPort ?? env('WEAVIATE_GRPC_PORT');
      const apiKey = options.apiKey ?? env('WEAVIATE_API_KEY');
      return weaviate.connectToCustom({
        httpHost: url.hostname,
        httpPort: url.port ? Number(url.port) : secure ? 443 : 80,
        httpSecure: secure,
        ...(url.pathname && url.pathname !== '/'
          ? { httpPath: url.pathname.replace(/\/$/, '') }
          : {}),
        grpcHost: options.grpcHost ?? env('WEAVIATE_GRPC_HOST') ?? url.hostname,
        grpcPort: grpcPortSetting !== undefined ? Number(grpcPortSetting) : secure ? 443 : 50051,
        grpcSecure: secure,
        ...(apiKey ? { authCredentials: new weaviate.ApiKey(apiKey) } : {}),
        ...(options.headers ? { headers: options.headers } : {}),
        timeout: {
          query: options.timeout?.query ?? 30,
          insert: options.timeout?.insert ?? 90,
          init: options.timeout?.init ?? 10,
        },
      });
    })();
    clientPromise.catch(() => {
      clientPromise = undefined;
    });
    return clientPromise;
  }

  async function call<T>(
    signal: AbortSignal | undefined,
    action: string,
    task: (client: WeaviateClient) => Promise<T>,
  ): Promise<T> {
    if (closed) throw closedError();
    throwIfAborted(signal, source);
    try {
      const client = await connect();
      if (closed) throw closedError();
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

  async function loadInfo(client: WeaviateClient, collection: string): Promise<CollectionInfo> {
    const className = toClassName(collection);
    if (!(await client.collections.exists(className))) throw missingCollection(collection);
    const config = await client.collections.use(className).config.get();
    const dimensions = parseDimensions(config.description);
    if (dimensions === undefined) {
      throw new InvalidArgumentError({
        source,
        message: `Weaviate collection "${className}" was not created by Engram (its description does not record the vector dimensions).`,
      });
    }
    const info: CollectionInfo = {
      className,
      dimensions,
      properties: new Set(config.properties.map((property) => property.name)),
    };
    infos.set(collection, info);
    return info;
  }

  async function describe(client: WeaviateClient, collection: string): Promise<CollectionInfo> {
    return infos.get(collection) ?? (await loadInfo(client, collection));
  }

  function handle(client: WeaviateClient, info: CollectionInfo): Collection {
    return client.collections.use(info.className);
  }

  /**
   * Properties are added before the first record that needs them: left to auto-schema, strings
   * would get `word` tokenization (no exact match) and a number first seen as an integer an
   * `int` type that later floats could not join.
   */
  async function ensureProperties(
    client: WeaviateClient,
    collection: string,
    info: CollectionInfo,
    types: Map<string, MetadataPropertyType>,
  ): Promise<void> {
    if ([...types.keys()].every((name) => info.properties.has(name))) return;
    await schemaLock.run(collection, async () => {
      let current = infos.get(collection) ?? info;
      let missing = [...types.keys()].filter((name) => !current.properties.has(name));
      if (missing.length === 0) return;
      current = await loadInfo(client, collection);
      missing = missing.filter((name) => !current.properties.has(name));
      const target = handle(client, current);
      for (const name of missing) {
        try {
          await target.config.addProperty(propertyConfig(name, types.get(name)!) as never);
        } catch (error) {
          if (!isAlreadyExists(error)) throw error;
        }
        current.properties.add(name);
      }
    });
  }

  async function translate(
    client: WeaviateClient,
    collection: string,
    info: CollectionInfo,
    scope: Scope | undefined,
    filter: FilterExpression | undefined,
  ): Promise<WeaviateFilter> {
    const normalizedScope = normalizeScope(scope, { source });
    let current = info;
    if (filter) {
      // Properties only ever get added, so only a miss needs a fresh look at the schema.
      const missing = { value: false };
      translateWeaviateFilter(filter, {
        hasProperty: (name) => {
          if (!current.properties.has(name)) missing.value = true;
          return current.properties.has(name);
        },
      });
      if (missing.value) current = await loadInfo(client, collection);
    }
    const schema = { hasProperty: (name: string) => current.properties.has(name) };
    return andFilters(
      scopeFilter(normalizedScope),
      filter ? translateWeaviateFilter(filter, schema) : true,
    );
  }

  function toRecord(
    uuid: string,
    properties: Properties,
    vectors: Record<string, unknown> | undefined,
    includeVectors: boolean | undefined,
  ): StoredRecord {
    const record: StoredRecord = {
      id: uuid,
      text: String(properties.text ?? ''),
      metadata: JSON.parse(String(properties.metadata ?? '{}')),
      createdAt: String(properties.createdAt ?? ''),
      updatedAt: String(properties.updatedAt ?? ''),
    };
    for (const field of ['hash', ...scopeFields] as const) {
      const value = properties[field];
      if (typeof value === 'string') record[field] = unwrapExact(value);
    }
    if (includeVectors) {
      const vector = vectors?.default ?? Object.values(vectors ?? {})[0];
      if (Array.isArray(vector)) record.vector = vector as number[];
    }
    return record;
  }

  function toObject(record: VectorRecord) {
    const indexed = indexMetadata(record.metadata);
    const properties: Properties = {
      text: record.text,
      metadata: JSON.stringify(record.metadata),
      createdAt: record.createdAt,
      updatedAt: record.updatedAt,
      ...indexed.properties,
    };
    for (const field of ['hash', ...scopeFields] as const) {
      const value = record[field];
      if (value !== undefined) properties[field] = wrapExact(value);
    }
    return { object: { id: record.id, properties, vectors: record.vector }, types: indexed.types };
  }

  function validIds(ids: readonly string[]): string[] {
    return [...new Set(ids.filter((id) => uuidPattern.test(id)))];
  }

  async function deleteMatching(target: Collection, filter: FilterValue): Promise<number> {
    let deleted = 0;
    for (;;) {
      const page = await target.query.fetchObjects({
        filters: filter,
        limit: deletePage,
        returnProperties: [],
      });
      if (page.objects.length === 0) return deleted;
      const ids = page.objects.map((object) => object.uuid);
      const result = await target.data.deleteMany(target.filter.byId().containsAny(ids));
      deleted += result.successful;
      if (result.failed > 0) {
        throw new AdapterCallError({
          source,
          message: `delete failed for ${result.failed} of ${ids.length} records.`,
          cause: result,
          isRetryable: true,
        });
      }
      if (page.objects.length < deletePage) return deleted;
    }
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
        const className = toClassName(collection);
        const check = (info: CollectionInfo) => {
          if (info.dimensions !== dimensions) {
            throw new DimensionMismatchError({
              source,
              expected: info.dimensions,
              actual: dimensions,
              message: `Collection "${collection}" holds ${info.dimensions}-dimensional vectors, not ${dimensions}. Use the embedder it was created with, or another collection.`,
            });
          }
        };
        const cached = infos.get(collection);
        if (cached) return check(cached);
        await schemaLock.run(collection, async () => {
          if (!(await client.collections.exists(className))) {
            try {
              await client.collections.create({
                name: className,
                description: `${descriptionPrefix}${JSON.stringify({ collection, dimensions })}`,
                properties: [
                  {
                    name: 'text',
                    dataType: 'text',
                    tokenization: 'word',
                    indexFilterable: false,
                    indexSearchable: true,
                  },
                  ...(['hash', ...scopeFields] as const).map((name) => ({
                    name,
                    dataType: 'text' as const,
                    tokenization: 'field' as const,
                    indexFilterable: true,
                    indexSearchable: false,
                  })),
                  ...(['metadata', 'createdAt', 'updatedAt'] as const).map((name) => ({
                    name,
                    dataType: 'text' as const,
                    indexFilterable: false,
                    indexSearchable: false,
                  })),
                  {
                    name: pathsProperty,
                    dataType: 'text[]',
                    tokenization: 'field',
                    indexFilterable: true,
                    indexSearchable: false,
                  },
                ],
                vectorizers: weaviate.configure.vectors.selfProvided({
                  vectorIndexConfig: weaviate.configure.vectorIndex.hnsw({
                    distanceMetric: 'cosine',
                  }),
                }),
              });
            } catch (error) {
              if (!isAlreadyExists(error)) throw error;
            }
          }
          check(await loadInfo(client, collection));
        });
      });
    },

    upsert({ collection, records, abortSignal }: UpsertOptions) {
      return call(abortSignal, 'upsert', async (client) => {
        const info = await describe(client, collection);
        for (const record of records) {
          if (typeof record.id !== 'string' || !uuidPattern.test(record.id)) {
            throw new InvalidArgumentError({
              source,
              message: `Record id ${JSON.stringify(record.id)} is not a UUID; Weaviate object ids must be UUIDs.`,
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
        const converted = records.map(toObject);
        const types = new Map<string, MetadataPropertyType>();
        for (const { types: recordTypes } of converted) {
          for (const [name, type] of recordTypes) types.set(name, type);
        }
        await ensureProperties(client, collection, info, types);
        const target = handle(client, info);
        for (let start = 0; start < converted.length; start += batchSize) {
          const batch = converted.slice(start, start + batchSize).map(({ object }) => object);
          const result = await target.data.insertMany(batch);
          if (result.hasErrors) {
            const first = Object.values(result.errors)[0];
            throw new AdapterCallError({
              source,
              message: `upsert failed for ${Object.keys(result.errors).length} of ${batch.length} records: ${first?.message ?? 'unknown error'}`,
              cause: result.errors,
            });
          }
        }
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
        const filter = await translate(
          client,
          options.collection,
          info,
          options.scope,
          options.filter,
        );
        if (filter === false || options.topK <= 0) return [];
        const target = handle(client, info);
        const common = {
          limit: options.topK,
          ...(filter === true ? {} : { filters: filter }),
          returnProperties: [...recordProperties],
          ...(options.includeVectors ? { includeVector: true } : {}),
        };
        if (options.vector) {
          const result = await target.query.nearVector(options.vector, {
            ...common,
            returnMetadata: ['distance'],
          } as never);
          return result.objects.map((object) => ({
            record: toRecord(
              object.uuid,
              object.properties as Properties,
              object.vectors as Record<string, unknown>,
              options.includeVectors,
            ),
            score: 1 - (object.metadata?.distance ?? 1),
          }));
        }
        const result = await target.query.bm25(options.text ?? '', {
          ...common,
          queryProperties: ['text'],
          returnMetadata: ['score'],
        } as never);
        return result.objects
          .map((object) => ({
            record: toRecord(
              object.uuid,
              object.properties as Properties,
              object.vectors as Record<string, unknown>,
              options.includeVectors,
            ),
            score: object.metadata?.score ?? 0,
          }))
          .filter((match) => match.score > 0);
      });
    },

    get({ collection, ids, includeVectors, abortSignal }: GetOptions) {
      return call(abortSignal, 'get', async (client) => {
        const info = await describe(client, collection);
        const wanted = validIds(ids);
        if (wanted.length === 0) return [];
        const target = handle(client, info);
        const result = await target.query.fetchObjects({
          filters: target.filter.byId().containsAny(wanted),
          limit: wanted.length,
          returnProperties: [...recordProperties],
          ...(includeVectors ? { includeVector: true } : {}),
        } as never);
        const byId = new Map(
          result.objects.map((object) => [
            object.uuid,
            toRecord(
              object.uuid,
              object.properties as Properties,
              object.vectors as Record<string, unknown>,
              includeVectors,
            ),
          ]),
        );
        return ids.flatMap((id) => {
          const record = byId.get(id);
          return record ? [record] : [];
        });
      });
    },

    delete(options: DeleteOptions) {
      return call(options.abortSignal, 'delete', async (client) => {
        const info = await describe(client, options.collection);
        const target = handle(client, info);
        if (options.ids) {
          const ids = validIds(options.ids);
          if (ids.length === 0) return { deleted: 0 };
          let deleted = 0;
          for (let start = 0; start < ids.length; start += deletePage) {
            const result = await target.data.deleteMany(
              target.filter.byId().containsAny(ids.slice(start, start + deletePage)),
            );
            deleted += result.successful;
          }
          return { deleted };
        }
        const scope = normalizeScope(options.scope, { source });
        if (!options.filter && Object.keys(scope).length === 0) {
          throw new InvalidArgumentError({
            source,
            message:
              'delete needs ids, a non-empty scope or a filter; use dropCollection to empty a collection.',
          });
        }
        const filter = await translate(client, options.collection, info, scope, options.filter);
        if (filter === false) return { deleted: 0 };
        const all: FilterValue = target.filter.byId().notEqual(nilUuid);
        return { deleted: await deleteMatching(target, filter === true ? all : filter) };
      });
    },

    list(options: ListOptions): Promise<ListPage> {
      return call(options.abortSignal, 'list', async (client) => {
        const info = await describe(client, options.collection);
        const after = decodeCursor(options.cursor, source);
        if (after !== undefined && !uuidPattern.test(after)) {
          throw new InvalidArgumentError({
            source,
            message: 'cursor is not valid; pass the nextCursor of a previous page unchanged.',
          });
        }
        if (!Number.isInteger(options.limit) || options.limit <= 0) {
          throw new InvalidArgumentError({
            source,
            message: `limit must be a positive integer, got ${options.limit}.`,
          });
        }
        const filter = await translate(
          client,
          options.collection,
          info,
          options.scope,
          options.filter,
        );
        if (filter === false) return { records: [] };
        const target = handle(client, info);
        // Keyset pagination on the id: Weaviate's `after` cursor cannot be combined with a filter.
        const keyset = andFilters(
          filter,
          after === undefined
            ? true
            : ({
                operator: 'GreaterThan',
                target: { property: '_id' },
                value: after,
              } as FilterValue),
        );
        const result = await target.query.fetchObjects({
          limit: options.limit + 1,
          ...(keyset === true || keyset === false ? {} : { filters: keyset }),
          sort: target.sort.byId(true),
          returnProperties: [...recordProperties],
          ...(options.includeVectors ? { includeVector: true } : {}),
        } as never);
        const records = result.objects.map((object) =>
          toRecord(
            object.uuid,
            object.properties as Properties,
            object.vectors as Record<string, unknown>,
            options.includeVectors,
          ),
        );
        const page = records.slice(0, options.limit);
        const last = page.at(-1);
        return {
          records: page,
          ...(records.length > options.limit && last ? { nextCursor: encodeCursor(last.id) } : {}),
        };
      });
    },

    count(options: CountOptions) {
      return call(options.abortSignal, 'count', async (client) => {
        const info = await describe(client, options.collection);
        const filter = await translate(
          client,
          options.collection,
          info,
          options.scope,
          options.filter,
        );
        if (filter === false) return 0;
        const result = await handle(client, info).aggregate.overAll(
          filter === true ? {} : { filters: filter },
        );
        return result.totalCount;
      });
    },

    dropCollection({ collection, abortSignal }) {
      return call(abortSignal, 'dropCollection', async (client) => {
        await schemaLock.run(collection, async () => {
          infos.delete(collection);
          await client.collections.delete(toClassName(collection));
        });
      });
    },

    async close() {
      if (closed) return;
      closed = true;
      const pending = clientPromise;
      clientPromise = undefined;
      if (pending && !options.client) {
        try {
          await (await pending).close();
        } catch {
          // a client that never connected has nothing to release
        }
      }
    },

    async [Symbol.asyncDispose]() {
      await store.close();
    },
  };

  // A collection dropped behind this store's back surfaces as a "class not found" error.
  for (const method of ['upsert', 'query', 'get', 'delete', 'list', 'count'] as const) {
    const original = store[method] as (options: { collection: string }) => Promise<unknown>;
    (store as unknown as Record<string, unknown>)[method] = async (options: {
      collection: string;
    }) => {
      try {
        return await original(options);
      } catch (error) {
        if (AdapterCallError.isInstance(error) && isMissingClass(error.cause)) {
          infos.delete(options.collection);
          throw missingCollection(options.collection, error);
        }
        throw error;
      }
    };
  }
  return store;
}
