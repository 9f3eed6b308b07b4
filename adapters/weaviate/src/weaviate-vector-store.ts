import {
  assertPositiveInteger,
  assertRecords,
  assertVectorLength,
  chunk,
  collectionDimensionMismatch,
  defineVectorStore,
  deleteNeedsSelectionMessage,
  toAdapterCallError,
} from '@engram/adapter-kit';
import {
  AdapterCallError,
  decodeCursor,
  EngramError,
  encodeCursor,
  type FilterExpression,
  filterOperators,
  InvalidArgumentError,
  KeyedMutex,
  keywordText,
  NotFoundError,
  normalizeScope,
  type Scope,
  type VectorStore,
} from '@engram/core';
import type { Collection, FilterValue, WeaviateClient } from 'weaviate-client';
import {
  connectWeaviate,
  isAlreadyExists,
  isMissingClass,
  isRetryableWeaviateError,
  type WeaviateConnectionOptions,
} from './weaviate-connection.js';
import {
  andFilters,
  type MetadataPropertyType,
  translateWeaviateFilter,
  type WeaviateFilter,
} from './weaviate-filter.js';
import { toClassName } from './weaviate-names.js';
import {
  collectionDefinition,
  dimensionsOfDescription,
  keywordTextFilled,
  keywordTextProperty,
  metadataPropertyDefinition,
  recordProperties,
  scopeFilter,
  toObject,
  toRecord,
  withKeywordTextFilled,
} from './weaviate-schema.js';

const source = 'weaviate';

/** Options of {@link createWeaviateVectorStore}: a client, or how to reach the server. */
export interface WeaviateVectorStoreOptions extends WeaviateConnectionOptions {
  /**
   * A connected client (`await weaviate.connectToLocal()`, `connectToWeaviateCloud`, ...). The
   * store does not close a client it was given.
   */
  client?: WeaviateClient;
  /** Records per gRPC batch in `upsert`; larger upserts are sent in several batches. Default 1,000. */
  batchSize?: number;
}

interface CollectionInfo {
  className: string;
  dimensions: number;
  properties: Set<string>;
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const nilUuid = '00000000-0000-0000-0000-000000000000';
/** Weaviate refuses to return more than QUERY_MAXIMUM_RESULTS (default 10,000) per request. */
const deletePage = 5_000;
/** Objects read per page, and partial updates in flight, while filling `keywordText`. */
const fillPage = 1_000;
const fillConcurrency = 16;

function missingCollection(collection: string, cause?: unknown): NotFoundError {
  return new NotFoundError({
    source,
    message: `Collection "${collection}" does not exist; call ensureCollection first.`,
    ...(cause === undefined ? {} : { cause }),
  });
}

function validIds(ids: readonly string[]): string[] {
  return [...new Set(ids.filter((id) => uuidPattern.test(id)))];
}

/**
 * Creates a {@link VectorStore} on Weaviate (REST and gRPC; tested with 1.39). Each Engram
 * collection is a Weaviate collection with a self-provided vector in an HNSW index with the
 * cosine distance; the client is connected on first use.
 */
export function createWeaviateVectorStore(options: WeaviateVectorStoreOptions = {}): VectorStore {
  const batchSize = Math.max(1, options.batchSize ?? 1_000);
  const infos = new Map<string, CollectionInfo>();
  const keywordTextFills = new Map<string, Promise<void>>();
  const schemaLock = new KeyedMutex();
  let clientPromise: Promise<WeaviateClient> | undefined;

  function connect(): Promise<WeaviateClient> {
    if (options.client) return Promise.resolve(options.client);
    clientPromise ??= connectWeaviate(options);
    clientPromise.catch(() => {
      clientPromise = undefined;
    });
    return clientPromise;
  }

  async function loadInfo(client: WeaviateClient, collection: string): Promise<CollectionInfo> {
    const className = toClassName(collection);
    if (!(await client.collections.exists(className))) throw missingCollection(collection);
    const config = await client.collections.use(className).config.get();
    const dimensions = dimensionsOfDescription(config.description);
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
    if (!info.properties.has(keywordTextProperty.name)) {
      try {
        await client.collections.use(className).config.addProperty(keywordTextProperty as never);
      } catch (error) {
        if (!isAlreadyExists(error)) throw error;
      }
      info.properties.add(keywordTextProperty.name);
    }
    if (!keywordTextFilled(config.description)) {
      await filledKeywordText(client, className, config.description ?? '');
    }
    infos.set(collection, info);
    return info;
  }

  /** Fills `keywordText` of the objects written before the property existed, once per process. */
  function filledKeywordText(
    client: WeaviateClient,
    className: string,
    description: string,
  ): Promise<void> {
    let filling = keywordTextFills.get(className);
    if (!filling) {
      filling = fillKeywordText(client.collections.use(className), description);
      keywordTextFills.set(className, filling);
      filling.catch(() => keywordTextFills.delete(className));
    }
    return filling;
  }

  /**
   * Reads every object in id order (Weaviate's `after` cursor) and gives those without a keyword
   * text that need one their `keywordText` (a partial update: the vector and the other
   * properties stay), then records in the description that the collection is filled. A fill
   * stopped half-way starts over next time and skips the objects it filled. Weaviate has no
   * conditional update: a record replaced between the read and the update keeps the keyword
   * text of its earlier text until written again.
   */
  async function fillKeywordText(target: Collection, description: string): Promise<void> {
    let after: string | undefined;
    for (;;) {
      const page = await target.query.fetchObjects({
        limit: fillPage,
        returnProperties: ['text', keywordTextProperty.name],
        ...(after === undefined ? {} : { after }),
      } as never);
      const updates = page.objects.flatMap((object) => {
        const properties = object.properties as Record<string, unknown>;
        if (typeof properties[keywordTextProperty.name] === 'string') return [];
        const text = String(properties.text ?? '');
        const indexed = keywordText(text);
        return indexed === text ? [] : [{ id: object.uuid, indexed }];
      });
      for (const group of chunk(updates, fillConcurrency)) {
        await Promise.all(
          group.map(({ id, indexed }) =>
            target.data
              .update({ id, properties: { [keywordTextProperty.name]: indexed } } as never)
              .catch((error: unknown) => {
                // deleted meanwhile: nothing to fill
                if ((error as { code?: unknown }).code !== 404) throw error;
              }),
          ),
        );
      }
      if (page.objects.length < fillPage) break;
      after = page.objects.at(-1)!.uuid;
    }
    await target.config.update({ description: withKeywordTextFilled(description) });
  }

  /**
   * Runs a call on an existing collection. A collection dropped behind this store's back surfaces
   * as a "class not found" error, which becomes `NotFoundError`.
   */
  async function onCollection<T>(
    collection: string,
    work: (target: Collection, info: CollectionInfo, client: WeaviateClient) => Promise<T>,
  ): Promise<T> {
    const client = await connect();
    try {
      const info = infos.get(collection) ?? (await loadInfo(client, collection));
      return await work(client.collections.use(info.className), info, client);
    } catch (error) {
      if (EngramError.isInstance(error) || !isMissingClass(error)) throw error;
      infos.delete(collection);
      throw missingCollection(collection, error);
    }
  }

  /**
   * Properties are added before the first record that needs them: left to auto-schema, strings
   * would get `word` tokenization (no exact match) and a number first seen as an integer an
   * `int` type that later floats could not join.
   */
  async function ensureProperties(
    client: WeaviateClient,
    collection: string,
    types: Map<string, MetadataPropertyType>,
  ): Promise<void> {
    const known = () => infos.get(collection)?.properties ?? new Set<string>();
    if ([...types.keys()].every((name) => known().has(name))) return;
    await schemaLock.run(collection, async () => {
      if ([...types.keys()].every((name) => known().has(name))) return;
      const current = await loadInfo(client, collection);
      const target = client.collections.use(current.className);
      for (const [name, type] of types) {
        if (current.properties.has(name)) continue;
        try {
          await target.config.addProperty(metadataPropertyDefinition(name, type) as never);
        } catch (error) {
          if (!isAlreadyExists(error)) throw error;
        }
        current.properties.add(name);
      }
    });
  }

  /** The scope and filter of a call as one Weaviate filter (`true`: all, `false`: none). */
  async function translate(
    client: WeaviateClient,
    info: CollectionInfo,
    options: {
      collection: string;
      scope?: Scope | undefined;
      filter?: FilterExpression | undefined;
    },
  ): Promise<WeaviateFilter> {
    const { collection, filter } = options;
    const scope = normalizeScope(options.scope, { source });
    let current = info;
    if (filter) {
      // Properties only ever get added, so only a miss needs a fresh look at the schema.
      let missing = false;
      translateWeaviateFilter(filter, {
        hasProperty: (name) => {
          if (!current.properties.has(name)) missing = true;
          return current.properties.has(name);
        },
      });
      if (missing) current = await loadInfo(client, collection);
    }
    const schema = { hasProperty: (name: string) => current.properties.has(name) };
    return andFilters(scopeFilter(scope), filter ? translateWeaviateFilter(filter, schema) : true);
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

  return defineVectorStore({
    provider: source,
    capabilities: {
      keywordSearch: true,
      filterOperators,
      maxBatchSize: 1_000,
      metric: 'cosine',
      atomicHistory: false,
    },
    toError: (error, action) =>
      toAdapterCallError(error, { source, action, isRetryable: isRetryableWeaviateError(error) }),
    async onClose() {
      const pending = clientPromise;
      clientPromise = undefined;
      if (!pending || options.client) return;
      try {
        await (await pending).close();
      } catch {
        // a client that never connected has nothing to release
      }
    },
    methods: () => ({
      async ensureCollection({ collection, dimensions }) {
        assertPositiveInteger(dimensions, 'dimensions', source);
        const client = await connect();
        const check = (info: CollectionInfo) => {
          if (info.dimensions === dimensions) return;
          throw collectionDimensionMismatch({
            source,
            collection,
            existing: info.dimensions,
            requested: dimensions,
          });
        };
        const cached = infos.get(collection);
        if (cached) return check(cached);
        await schemaLock.run(collection, async () => {
          const className = toClassName(collection);
          if (!(await client.collections.exists(className))) {
            try {
              await client.collections.create(
                collectionDefinition(className, collection, dimensions),
              );
            } catch (error) {
              if (!isAlreadyExists(error)) throw error;
            }
          }
          check(await loadInfo(client, collection));
        });
      },

      upsert: ({ collection, records }) =>
        onCollection(collection, async (target, info, client) => {
          assertRecords(records, { source, dimensions: info.dimensions, collection });
          const notUuid = records.find((record) => !uuidPattern.test(record.id));
          if (notUuid) {
            throw new InvalidArgumentError({
              source,
              message: `Record id ${JSON.stringify(notUuid.id)} is not a UUID; Weaviate object ids must be UUIDs.`,
            });
          }
          if (records.length === 0) return;
          const converted = records.map(toObject);
          const types = new Map<string, MetadataPropertyType>();
          for (const { types: recordTypes } of converted) {
            for (const [name, type] of recordTypes) types.set(name, type);
          }
          await ensureProperties(client, collection, types);
          for (const batch of chunk(
            converted.map(({ object }) => object),
            batchSize,
          )) {
            const result = await target.data.insertMany(batch);
            if (!result.hasErrors) continue;
            const first = Object.values(result.errors)[0];
            throw new AdapterCallError({
              source,
              message: `upsert failed for ${Object.keys(result.errors).length} of ${batch.length} records: ${first?.message ?? 'unknown error'}`,
              cause: result.errors,
            });
          }
        }),

      query: (options) =>
        onCollection(options.collection, async (target, info, client) => {
          const { vector, text, topK, includeVectors } = options;
          if (!vector && text === undefined) {
            throw new InvalidArgumentError({ source, message: 'query needs a vector or a text.' });
          }
          if (vector) {
            assertVectorLength(vector, info.dimensions, { source, what: 'The query vector' });
          }
          const filter = await translate(client, info, options);
          if (filter === false || topK <= 0) return [];
          const common = {
            limit: topK,
            ...(filter === true ? {} : { filters: filter }),
            returnProperties: recordProperties,
            ...(includeVectors ? { includeVector: true } : {}),
          };
          if (vector) {
            const result = await target.query.nearVector(vector, {
              ...common,
              returnMetadata: ['distance'],
            } as never);
            return result.objects.map((object) => ({
              record: toRecord(object, includeVectors),
              score: 1 - (object.metadata?.distance ?? 1),
            }));
          }
          const result = await target.query.bm25(text ?? '', {
            ...common,
            queryProperties: ['text', keywordTextProperty.name],
            returnMetadata: ['score'],
          } as never);
          return result.objects
            .map((object) => ({
              record: toRecord(object, includeVectors),
              score: object.metadata?.score ?? 0,
            }))
            .filter((match) => match.score > 0);
        }),

      get: ({ collection, ids, includeVectors }) =>
        onCollection(collection, async (target) => {
          const wanted = validIds(ids);
          if (wanted.length === 0) return [];
          const result = await target.query.fetchObjects({
            filters: target.filter.byId().containsAny(wanted),
            limit: wanted.length,
            returnProperties: recordProperties,
            ...(includeVectors ? { includeVector: true } : {}),
          } as never);
          const byId = new Map(result.objects.map((object) => [object.uuid, object]));
          return ids.flatMap((id) => {
            const object = byId.get(id);
            return object ? [toRecord(object, includeVectors)] : [];
          });
        }),

      delete: (options) =>
        onCollection(options.collection, async (target, info, client) => {
          if (options.ids) {
            let deleted = 0;
            for (const ids of chunk(validIds(options.ids), deletePage)) {
              const result = await target.data.deleteMany(target.filter.byId().containsAny(ids));
              deleted += result.successful;
            }
            return { deleted };
          }
          const scope = normalizeScope(options.scope, { source });
          if (!options.filter && Object.keys(scope).length === 0) {
            throw new InvalidArgumentError({ source, message: deleteNeedsSelectionMessage });
          }
          const filter = await translate(client, info, options);
          if (filter === false) return { deleted: 0 };
          const all: FilterValue = target.filter.byId().notEqual(nilUuid);
          return { deleted: await deleteMatching(target, filter === true ? all : filter) };
        }),

      list: (options) =>
        onCollection(options.collection, async (target, info, client) => {
          const after = decodeCursor(options.cursor, source);
          if (after !== undefined && !uuidPattern.test(after)) {
            throw new InvalidArgumentError({
              source,
              message: 'cursor is not valid; pass the nextCursor of a previous page unchanged.',
            });
          }
          assertPositiveInteger(options.limit, 'limit', source);
          const filter = await translate(client, info, options);
          if (filter === false) return { records: [] };
          // Keyset pagination on the id: Weaviate's `after` cursor cannot be combined with a filter.
          const keyset = andFilters(
            filter,
            after === undefined
              ? true
              : ({ operator: 'GreaterThan', target: { property: '_id' }, value: after } as const),
          );
          const result = await target.query.fetchObjects({
            limit: options.limit + 1,
            ...(keyset === true || keyset === false ? {} : { filters: keyset }),
            sort: target.sort.byId(true),
            returnProperties: recordProperties,
            ...(options.includeVectors ? { includeVector: true } : {}),
          } as never);
          const page = result.objects.slice(0, options.limit);
          const last = page.at(-1);
          return {
            records: page.map((object) => toRecord(object, options.includeVectors)),
            ...(result.objects.length > options.limit && last
              ? { nextCursor: encodeCursor(last.uuid) }
              : {}),
          };
        }),

      count: (options) =>
        onCollection(options.collection, async (target, info, client) => {
          const filter = await translate(client, info, options);
          if (filter === false) return 0;
          const result = await target.aggregate.overAll(filter === true ? {} : { filters: filter });
          return result.totalCount;
        }),

      async dropCollection({ collection }) {
        const client = await connect();
        await schemaLock.run(collection, async () => {
          infos.delete(collection);
          await client.collections.delete(toClassName(collection));
        });
      },
    }),
  });
}
