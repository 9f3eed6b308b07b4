import {
  assertCollectionDimensions,
  assertDeleteSelection,
  assertPositiveInteger,
  assertRecords,
  assertVectorLength,
  chunk,
  defineVectorStore,
  isRetryableNetworkError,
  optionalSettingLoader,
  requireQueryVector,
  toAdapterCallError,
} from '@engram/adapter-kit';
import {
  EngramError,
  type FilterExpression,
  InvalidArgumentError,
  type JsonValue,
  NotFoundError,
  normalizeScope,
  type Scope,
  type StoredRecord,
  scopeFields,
  type VectorRecord,
  type VectorStore,
} from '@engram/core';
import type { ChromaClient, Collection, Metadata, Where } from 'chromadb';
import {
  chromaFilterOperators,
  chromaMatchAll,
  flattenChromaMetadata,
  translateChromaFilter,
} from './chroma-filter.js';

const source = 'chroma';

const noKeywordSearch =
  'Keyword search is not supported by the Chroma store: Chroma has substring document filters but no ranked full-text search. Query with a vector.';

/** Options of {@link createChromaVectorStore}. */
export interface ChromaVectorStoreOptions {
  /**
   * A configured `ChromaClient` (or `CloudClient`) from the `chromadb` package. When given, the
   * connection options below are ignored.
   */
  client?: ChromaClient;
  /**
   * Server URL, e.g. `http://localhost:8000`. Default: the `CHROMA_URL` environment variable, else
   * `http://localhost:8000`. Only scheme, host and port are used.
   */
  url?: string;
  /**
   * Token sent in the `x-chroma-token` header (Chroma Cloud, or a server with token auth).
   * Default: the `CHROMA_API_KEY` environment variable.
   */
  apiKey?: string;
  /** Tenant. Default: `CHROMA_TENANT`, else the server's default for the caller. */
  tenant?: string;
  /** Database. Default: `CHROMA_DATABASE`, else the server's default for the caller. */
  database?: string;
  /** Extra HTTP headers sent with every request. */
  headers?: Record<string, string>;
  /** Records per page when `count` with a scope or filter walks the matching ids. Default 5,000. */
  countPageSize?: number;
}

/** Records per upsert request; Chroma's own limit on a default server is 5,461. */
const maxBatchSize = 1_000;

const keys = {
  metadata: 'engram:metadata',
  hash: 'engram:hash',
  createdAt: 'engram:createdAt',
  updatedAt: 'engram:updatedAt',
  dimensions: 'engram:dimensions',
} as const;

function scopeKeyOf(field: (typeof scopeFields)[number]): string {
  return `engram:${field}`;
}

interface CollectionHandle {
  collection: Collection;
  dimensions: number | undefined;
}

const retryableErrors = new Set([
  'ChromaConnectionError',
  'ChromaServerError',
  'ChromaRateLimitError',
]);

function isChromaNotFound(error: unknown): boolean {
  return (error as { name?: unknown } | null)?.name === 'ChromaNotFoundError';
}

function toChromaError(error: unknown, action: string): EngramError {
  if (EngramError.isInstance(error)) return error;
  if (isChromaNotFound(error)) {
    const detail = error instanceof Error ? error.message : String(error);
    return new NotFoundError({ source, message: `${action}: not found (${detail})`, cause: error });
  }
  const name = (error as { name?: unknown } | null)?.name;
  return toAdapterCallError(error, {
    source,
    action,
    isRetryable:
      (typeof name === 'string' && retryableErrors.has(name)) || isRetryableNetworkError(error),
  });
}

/**
 * Chroma 1.x answers a query that races the first flush of a fresh collection's HNSW segment
 * with "Error creating hnsw segment reader: Nothing found on disk" (seen under concurrent upserts
 * and queries); the same query succeeds moments later, so it is retried a few times.
 */
async function whileSegmentUnflushed<T>(query: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await query();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (attempt >= 5 || !message.includes('hnsw segment reader')) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
    }
  }
}

function collectionMissing(name: string, cause: unknown): NotFoundError {
  return new NotFoundError({
    source,
    message: `Collection "${name}" does not exist; call ensureCollection first.`,
    cause,
  });
}

function encodeOffsetCursor(offset: number): string {
  return Buffer.from(JSON.stringify({ offset }), 'utf8').toString('base64url');
}

function decodeOffsetCursor(cursor: string | undefined): number {
  if (cursor === undefined || cursor === '') return 0;
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as {
      offset?: unknown;
    };
    if (Number.isSafeInteger(parsed.offset) && (parsed.offset as number) >= 0) {
      return parsed.offset as number;
    }
  } catch {
    // reported below
  }
  throw new InvalidArgumentError({
    source,
    message: 'cursor is not valid; pass the nextCursor of a previous page unchanged.',
  });
}

function toChromaMetadata(record: VectorRecord): Metadata {
  const metadata: Metadata = {
    ...flattenChromaMetadata(record.metadata),
    [keys.metadata]: JSON.stringify(record.metadata),
    [keys.createdAt]: record.createdAt,
    [keys.updatedAt]: record.updatedAt,
  };
  if (record.hash !== undefined) metadata[keys.hash] = record.hash;
  for (const field of scopeFields) {
    const value = record[field];
    if (value !== undefined) metadata[scopeKeyOf(field)] = value;
  }
  return metadata;
}

function fromChroma(
  id: string,
  document: string | null | undefined,
  metadata: Metadata | null | undefined,
  embedding: number[] | null | undefined,
  includeVectors: boolean | undefined,
): StoredRecord {
  const stored = metadata ?? {};
  const record: StoredRecord = {
    id,
    text: document ?? '',
    metadata: JSON.parse(String(stored[keys.metadata] ?? '{}')) as Record<string, JsonValue>,
    createdAt: String(stored[keys.createdAt] ?? ''),
    updatedAt: String(stored[keys.updatedAt] ?? ''),
  };
  if (typeof stored[keys.hash] === 'string') record.hash = stored[keys.hash] as string;
  for (const field of scopeFields) {
    const value = stored[scopeKeyOf(field)];
    if (typeof value === 'string') record[field] = value;
  }
  if (includeVectors && embedding) record.vector = Array.from(embedding);
  return record;
}

/** The records of a `get` result, in its order. */
function recordsOf(
  result: Awaited<ReturnType<Collection['get']>>,
  includeVectors: boolean | undefined,
): StoredRecord[] {
  return result.ids.map((id, index) =>
    fromChroma(
      id,
      result.documents[index],
      result.metadatas[index],
      result.embeddings?.[index],
      includeVectors,
    ),
  );
}

/**
 * The `where` clause for a scope and a filter: every scope field must equal its value (a record
 * without the field never matches), and the filter must hold.
 */
function whereOf(scopeInput: Scope | undefined, filter: FilterExpression | undefined) {
  const scope = normalizeScope(scopeInput, { source });
  const conditions: Where[] = [];
  for (const field of scopeFields) {
    const value = scope[field];
    if (value !== undefined) conditions.push({ [scopeKeyOf(field)]: { $eq: value } });
  }
  if (filter) conditions.push(translateChromaFilter(filter));
  const where: Where | undefined =
    conditions.length === 0
      ? undefined
      : conditions.length === 1
        ? conditions[0]
        : { $and: conditions };
  return { where, scope };
}

/**
 * A `VectorStore` on a Chroma server, through the official `chromadb` client. Collections use the
 * cosine space; scores are `1 - distance`. Scope fields and flattened metadata are Chroma
 * metadata keys that `where` filters before the nearest-neighbour search, and the metadata itself
 * is kept as exact JSON. The factory does no I/O: the client is created on first use.
 */
export function createChromaVectorStore(options: ChromaVectorStoreOptions = {}): VectorStore {
  let client: Promise<ChromaClient> | undefined = options.client
    ? Promise.resolve(options.client)
    : undefined;
  const handles = new Map<string, Promise<CollectionHandle>>();
  const countPageSize = options.countPageSize ?? 5_000;
  const setting = optionalSettingLoader(source);

  async function createClient(): Promise<ChromaClient> {
    const { ChromaClient } = await import('chromadb');
    const rawUrl = setting(options.url, 'url', 'CHROMA_URL') ?? 'http://localhost:8000';
    let url: URL;
    try {
      url = new URL(rawUrl);
    } catch (error) {
      throw new InvalidArgumentError({
        source,
        message: `url must be an absolute URL such as http://localhost:8000, got ${JSON.stringify(rawUrl)}.`,
        cause: error,
      });
    }
    const ssl = url.protocol === 'https:';
    const apiKey = setting(options.apiKey, 'apiKey', 'CHROMA_API_KEY');
    const tenant = setting(options.tenant, 'tenant', 'CHROMA_TENANT');
    const database = setting(options.database, 'database', 'CHROMA_DATABASE');
    return new ChromaClient({
      host: url.hostname,
      port: url.port ? Number(url.port) : ssl ? 443 : 80,
      ssl,
      headers: { ...(apiKey ? { 'x-chroma-token': apiKey } : {}), ...options.headers },
      ...(tenant ? { tenant } : {}),
      ...(database ? { database } : {}),
    });
  }

  function chroma(): Promise<ChromaClient> {
    client ??= createClient();
    return client;
  }

  function handleOf(collection: Collection): CollectionHandle {
    const dimensions = collection.metadata?.[keys.dimensions];
    return { collection, dimensions: typeof dimensions === 'number' ? dimensions : undefined };
  }

  /** Runs work on a collection; a collection dropped elsewhere is forgotten and reported missing. */
  async function onCollection<T>(
    name: string,
    work: (handle: CollectionHandle) => Promise<T>,
  ): Promise<T> {
    let handle = handles.get(name);
    if (!handle) {
      const pending = chroma().then((current) => current.getCollection({ name }).then(handleOf));
      pending.catch(() => handles.get(name) === pending && handles.delete(name));
      handles.set(name, pending);
      handle = pending;
    }
    try {
      return await work(await handle);
    } catch (error) {
      if (!isChromaNotFound(error)) throw error;
      if (handles.get(name) === handle) handles.delete(name);
      throw collectionMissing(name, error);
    }
  }

  function checkRecords(handle: CollectionHandle, records: readonly VectorRecord[]): void {
    assertRecords(records, {
      source,
      ...(handle.dimensions === undefined ? {} : { dimensions: handle.dimensions }),
    });
    for (const record of records) {
      if (typeof record.text !== 'string') {
        throw new InvalidArgumentError({
          source,
          message: `Record "${record.id}" needs a string text.`,
        });
      }
      normalizeScope(record, { source });
    }
  }

  /** Ids matching a `where`, page by page, in Chroma's stable internal order. */
  async function matchingIds(collection: Collection, where: Where): Promise<string[]> {
    const ids: string[] = [];
    for (let offset = 0; ; offset += countPageSize) {
      const page = await collection.get({ where, include: [], limit: countPageSize, offset });
      ids.push(...page.ids);
      if (page.ids.length < countPageSize) return ids;
    }
  }

  return defineVectorStore({
    provider: source,
    capabilities: {
      keywordSearch: false,
      filterOperators: chromaFilterOperators,
      maxBatchSize,
      metric: 'cosine',
      atomicHistory: false,
    },
    toError: toChromaError,
    onClose: () => handles.clear(),
    methods: (lifecycle) => ({
      async ensureCollection({ collection: name, dimensions }) {
        assertPositiveInteger(dimensions, 'dimensions', source);
        const collection = await (await chroma()).getOrCreateCollection({
          name,
          embeddingFunction: null,
          configuration: { hnsw: { space: 'cosine' } },
          metadata: { [keys.dimensions]: dimensions },
        });
        const space =
          collection.configuration?.hnsw?.space ?? collection.configuration?.spann?.space;
        if (space !== undefined && space !== 'cosine') {
          throw new InvalidArgumentError({
            source,
            message: `Collection "${name}" exists with the "${space}" space; Engram needs "cosine". Use another collection name.`,
          });
        }
        const handle = handleOf(collection);
        if (handle.dimensions === undefined) {
          await collection.modify({
            metadata: { ...collection.metadata, [keys.dimensions]: dimensions },
          });
          handle.dimensions = dimensions;
        }
        assertCollectionDimensions({
          source,
          collection: name,
          existing: handle.dimensions,
          requested: dimensions,
        });
        handles.set(name, Promise.resolve(handle));
      },

      async upsert({ collection: name, records, abortSignal }) {
        await onCollection(name, async (handle) => {
          checkRecords(handle, records);
          // Chroma rejects a batch that names an id twice; the last one wins, as with separate calls.
          const latest = [...new Map(records.map((record) => [record.id, record])).values()];
          for (const batch of chunk(latest, maxBatchSize)) {
            lifecycle.check(abortSignal);
            const ids = batch.map((record) => record.id);
            const metadatas = batch.map(toChromaMetadata);
            // Chroma merges the metadata of an existing record with the new one and cannot remove
            // a key, so a record that would keep a key it no longer has is deleted first.
            const existing = await handle.collection.get({ ids, include: ['metadatas'] as never });
            const byId = new Map(ids.map((id, index) => [id, metadatas[index]!]));
            const stale = existing.ids.filter((id, index) => {
              const metadata = byId.get(id) ?? {};
              return Object.keys(existing.metadatas[index] ?? {}).some((key) => !(key in metadata));
            });
            if (stale.length > 0) await handle.collection.delete({ ids: stale });
            await handle.collection.upsert({
              ids,
              embeddings: batch.map((record) => record.vector),
              documents: batch.map((record) => record.text),
              metadatas,
            });
          }
        });
      },

      async query({ collection, vector: given, text, topK, scope, filter, includeVectors }) {
        const vector = requireQueryVector({ vector: given, text }, { source, noKeywordSearch });
        assertPositiveInteger(topK, 'topK', source);
        const { where } = whereOf(scope, filter);
        return onCollection(collection, async (handle) => {
          if (handle.dimensions !== undefined) {
            const what = 'The query vector';
            assertVectorLength(vector, handle.dimensions, { source, what, collection });
          }
          const result = await whileSegmentUnflushed(() =>
            handle.collection.query({
              queryEmbeddings: [vector],
              nResults: topK,
              ...(where ? { where } : {}),
              include: [
                'documents',
                'metadatas',
                'distances',
                ...(includeVectors ? (['embeddings'] as const) : []),
              ] as never,
            }),
          );
          return (result.ids[0] ?? []).map((id, index) => ({
            record: fromChroma(
              id,
              result.documents[0]?.[index],
              result.metadatas[0]?.[index],
              result.embeddings?.[0]?.[index],
              includeVectors,
            ),
            score: 1 - (result.distances?.[0]?.[index] ?? 1),
          }));
        });
      },

      async get({ collection, ids, includeVectors }) {
        return onCollection(collection, async (handle) => {
          if (ids.length === 0) return [];
          const result = await handle.collection.get({
            ids: [...new Set(ids)],
            include: ['documents', 'metadatas', ...(includeVectors ? ['embeddings'] : [])] as never,
          });
          return recordsOf(result, includeVectors);
        });
      },

      async delete({ collection, ids, scope: scopeInput, filter }) {
        if (ids) {
          const unique = [...new Set(ids)];
          return onCollection(collection, async (handle) => {
            if (unique.length === 0) return { deleted: 0 };
            // Chroma ignores unknown ids; counting the ones that exist gives the exact number.
            const existing = await handle.collection.get({ ids: unique, include: [] });
            if (existing.ids.length > 0) await handle.collection.delete({ ids: existing.ids });
            return { deleted: existing.ids.length };
          });
        }
        const { where, scope } = whereOf(scopeInput, filter);
        assertDeleteSelection({ scope, filter }, source);
        return onCollection(collection, async (handle) => {
          const matching = await matchingIds(handle.collection, where ?? chromaMatchAll);
          for (const batch of chunk(matching, maxBatchSize)) {
            await handle.collection.delete({ ids: batch });
          }
          return { deleted: matching.length };
        });
      },

      async list({ collection, limit, cursor, scope, filter, includeVectors }) {
        assertPositiveInteger(limit, 'limit', source);
        const offset = decodeOffsetCursor(cursor);
        const { where } = whereOf(scope, filter);
        return onCollection(collection, async (handle) => {
          // One extra record tells whether another page follows without a second request.
          const result = await handle.collection.get({
            ...(where ? { where } : {}),
            limit: limit + 1,
            offset,
            include: ['documents', 'metadatas', ...(includeVectors ? ['embeddings'] : [])] as never,
          });
          const records = recordsOf(result, includeVectors).slice(0, limit);
          const count = records.length;
          const more = result.ids.length > limit;
          return { records, ...(more ? { nextCursor: encodeOffsetCursor(offset + count) } : {}) };
        });
      },

      async count({ collection, scope, filter }) {
        const { where } = whereOf(scope, filter);
        return onCollection(collection, async (handle) => {
          if (!where) return handle.collection.count();
          // Chroma counts only whole collections, so a filtered count walks the matching ids.
          return (await matchingIds(handle.collection, where)).length;
        });
      },

      async stats({ collection }) {
        // Chroma reports no size per collection, only its record count.
        return onCollection(collection, async (handle) => ({
          vectors: await handle.collection.count(),
        }));
      },

      async dropCollection({ collection: name }) {
        handles.delete(name);
        try {
          await (await chroma()).deleteCollection({ name });
        } catch (error) {
          if (!isChromaNotFound(error)) throw error;
        } finally {
          handles.delete(name);
        }
      },
    }),
  });
}
