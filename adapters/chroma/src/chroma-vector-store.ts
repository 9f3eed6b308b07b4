import {
  AdapterCallError,
  ClosedError,
  type CountOptions,
  type DeleteOptions,
  DimensionMismatchError,
  EngramError,
  type EnsureCollectionOptions,
  type FilterExpression,
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
  UnsupportedFunctionalityError,
  type UpsertOptions,
  type VectorMatch,
  type VectorRecord,
  type VectorStore,
  type VectorStoreCapabilities,
} from '@engram/core';
import type { ChromaClient, Collection, Metadata, Where } from 'chromadb';
import {
  chromaFilterOperators,
  chromaMatchAll,
  flattenChromaMetadata,
  translateChromaFilter,
} from './chroma-filter.js';

const source = 'chroma';

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

const capabilities: VectorStoreCapabilities = {
  keywordSearch: false,
  filterOperators: chromaFilterOperators,
  maxBatchSize,
  metric: 'cosine',
  atomicHistory: false,
};

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

function wrapError(error: unknown, action: string): unknown {
  if (EngramError.isInstance(error)) return error;
  const name = (error as { name?: unknown } | null)?.name;
  const detail = error instanceof Error ? error.message : String(error);
  if (name === 'ChromaNotFoundError') {
    return new NotFoundError({ source, message: `${action}: not found (${detail})`, cause: error });
  }
  return new AdapterCallError({
    source,
    message: `${action} failed: ${detail}`,
    isRetryable: typeof name === 'string' && retryableErrors.has(name),
    cause: error,
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
  let client: ChromaClient | undefined = options.client;
  let clientPromise: Promise<ChromaClient> | undefined;
  const handles = new Map<string, Promise<CollectionHandle>>();
  const countPageSize = options.countPageSize ?? 5_000;
  let closed = false;

  async function connect(): Promise<ChromaClient> {
    if (client) return client;
    clientPromise ??= (async () => {
      const { ChromaClient } = await import('chromadb');
      const rawUrl = options.url ?? process.env.CHROMA_URL ?? 'http://localhost:8000';
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
      const apiKey = options.apiKey ?? process.env.CHROMA_API_KEY;
      const headers = {
        ...(apiKey ? { 'x-chroma-token': apiKey } : {}),
        ...options.headers,
      };
      const tenant = options.tenant ?? process.env.CHROMA_TENANT;
      const database = options.database ?? process.env.CHROMA_DATABASE;
      client = new ChromaClient({
        host: url.hostname,
        port: url.port ? Number(url.port) : ssl ? 443 : 80,
        ssl,
        headers,
        ...(tenant ? { tenant } : {}),
        ...(database ? { database } : {}),
      });
      return client;
    })();
    return clientPromise;
  }

  function open(signal: AbortSignal | undefined): void {
    if (closed) {
      throw new ClosedError({ source, message: 'The store was closed; create a new one.' });
    }
    throwIfAborted(signal, source);
  }

  async function run<T>(
    signal: AbortSignal | undefined,
    action: string,
    work: (client: ChromaClient) => Promise<T>,
  ): Promise<T> {
    open(signal);
    try {
      return await work(await connect());
    } catch (error) {
      throw wrapError(error, action);
    }
  }

  function handleOf(collection: Collection): CollectionHandle {
    const dimensions = collection.metadata?.[keys.dimensions];
    return {
      collection,
      dimensions: typeof dimensions === 'number' ? dimensions : undefined,
    };
  }

  async function collectionOf(chroma: ChromaClient, name: string): Promise<CollectionHandle> {
    let handle = handles.get(name);
    if (!handle) {
      handle = chroma
        .getCollection({ name })
        .then(handleOf)
        .catch((error: unknown) => {
          handles.delete(name);
          if ((error as { name?: unknown } | null)?.name === 'ChromaNotFoundError') {
            throw new NotFoundError({
              source,
              message: `Collection "${name}" does not exist; call ensureCollection first.`,
              cause: error,
            });
          }
          throw error;
        });
      handles.set(name, handle);
    }
    return handle;
  }

  /** Runs work on a collection; a collection dropped elsewhere is forgotten and reported missing. */
  async function onCollection<T>(
    signal: AbortSignal | undefined,
    action: string,
    name: string,
    work: (handle: CollectionHandle) => Promise<T>,
  ): Promise<T> {
    return run(signal, action, async (chroma) => {
      const handle = await collectionOf(chroma, name);
      try {
        return await work(handle);
      } catch (error) {
        if ((error as { name?: unknown } | null)?.name === 'ChromaNotFoundError') {
          handles.delete(name);
          throw new NotFoundError({
            source,
            message: `Collection "${name}" does not exist; call ensureCollection first.`,
            cause: error,
          });
        }
        throw error;
      }
    });
  }

  function checkVector(handle: CollectionHandle, vector: readonly number[], what: string): void {
    if (!Array.isArray(vector)) {
      throw new InvalidArgumentError({ source, message: `${what} must be an array of numbers.` });
    }
    if (handle.dimensions !== undefined && vector.length !== handle.dimensions) {
      throw new DimensionMismatchError({
        source,
        expected: handle.dimensions,
        actual: vector.length,
        message: `${what} has ${vector.length} dimensions; the collection holds ${handle.dimensions}.`,
      });
    }
  }

  function checkRecords(handle: CollectionHandle, records: readonly VectorRecord[]): void {
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

  /** Ids matching a `where`, page by page, in Chroma's stable internal order. */
  async function matchingIds(collection: Collection, where: Where): Promise<string[]> {
    const ids: string[] = [];
    for (let offset = 0; ; offset += countPageSize) {
      const page = await collection.get({ where, include: [], limit: countPageSize, offset });
      ids.push(...page.ids);
      if (page.ids.length < countPageSize) return ids;
    }
  }

  async function close(): Promise<void> {
    closed = true;
    handles.clear();
  }

  return {
    specificationVersion: 'v1',
    provider: source,
    capabilities,

    async ensureCollection({ collection: name, dimensions, abortSignal }: EnsureCollectionOptions) {
      open(abortSignal);
      if (!Number.isInteger(dimensions) || dimensions <= 0) {
        throw new InvalidArgumentError({
          source,
          message: `dimensions must be a positive integer, got ${dimensions}.`,
        });
      }
      await run(abortSignal, 'ensureCollection', async (chroma) => {
        const collection = await chroma.getOrCreateCollection({
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
        if (handle.dimensions !== dimensions) {
          throw new DimensionMismatchError({
            source,
            expected: handle.dimensions,
            actual: dimensions,
            message: `Collection "${name}" holds ${handle.dimensions}-dimensional vectors, not ${dimensions}. Use the embedder it was created with, or another collection.`,
          });
        }
        handles.set(name, Promise.resolve(handle));
      });
    },

    async upsert({ collection: name, records, abortSignal }: UpsertOptions) {
      await onCollection(abortSignal, 'upsert', name, async (handle) => {
        checkRecords(handle, records);
        // Chroma rejects a batch that names an id twice; the last one wins, as with separate calls.
        const latest = [...new Map(records.map((record) => [record.id, record])).values()];
        for (let start = 0; start < latest.length; start += maxBatchSize) {
          throwIfAborted(abortSignal, source);
          const batch = latest.slice(start, start + maxBatchSize);
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

    async query(options: QueryOptions): Promise<VectorMatch[]> {
      open(options.abortSignal);
      if (options.vector === undefined) {
        if (options.text !== undefined) {
          throw new UnsupportedFunctionalityError({
            source,
            message:
              'Keyword search is not supported by the Chroma store: Chroma has substring document filters but no ranked full-text search. Query with a vector.',
          });
        }
        throw new InvalidArgumentError({ source, message: 'query needs a vector.' });
      }
      if (!Number.isInteger(options.topK) || options.topK <= 0) {
        throw new InvalidArgumentError({
          source,
          message: `topK must be a positive integer, got ${options.topK}.`,
        });
      }
      const { where } = whereOf(options.scope, options.filter);
      const vector = options.vector;
      return onCollection(options.abortSignal, 'query', options.collection, async (handle) => {
        checkVector(handle, vector, 'The query vector');
        const result = await handle.collection.query({
          queryEmbeddings: [vector],
          nResults: options.topK,
          ...(where ? { where } : {}),
          include: [
            'documents',
            'metadatas',
            'distances',
            ...(options.includeVectors ? (['embeddings'] as const) : []),
          ] as never,
        });
        const ids = result.ids[0] ?? [];
        return ids.map((id, index) => ({
          record: fromChroma(
            id,
            result.documents[0]?.[index],
            result.metadatas[0]?.[index],
            result.embeddings?.[0]?.[index],
            options.includeVectors,
          ),
          score: 1 - (result.distances?.[0]?.[index] ?? 1),
        }));
      });
    },

    async get({ collection: name, ids, includeVectors, abortSignal }: GetOptions) {
      open(abortSignal);
      if (ids.length === 0) {
        await onCollection(abortSignal, 'get', name, async () => undefined);
        return [];
      }
      return onCollection(abortSignal, 'get', name, async (handle) => {
        const result = await handle.collection.get({
          ids: [...new Set(ids)],
          include: ['documents', 'metadatas', ...(includeVectors ? ['embeddings'] : [])] as never,
        });
        return result.ids.map((id, index) =>
          fromChroma(
            id,
            result.documents[index],
            result.metadatas[index],
            result.embeddings?.[index],
            includeVectors,
          ),
        );
      });
    },

    async delete(options: DeleteOptions) {
      open(options.abortSignal);
      if (options.ids) {
        const ids = [...new Set(options.ids)];
        return onCollection(options.abortSignal, 'delete', options.collection, async (handle) => {
          if (ids.length === 0) return { deleted: 0 };
          // Chroma ignores unknown ids; counting the ones that exist gives the exact number.
          const existing = await handle.collection.get({ ids, include: [] });
          if (existing.ids.length > 0) await handle.collection.delete({ ids: existing.ids });
          return { deleted: existing.ids.length };
        });
      }
      const { where, scope } = whereOf(options.scope, options.filter);
      if (!options.filter && Object.keys(scope).length === 0) {
        throw new InvalidArgumentError({
          source,
          message:
            'delete needs ids, a non-empty scope or a filter; use dropCollection to empty a collection.',
        });
      }
      return onCollection(options.abortSignal, 'delete', options.collection, async (handle) => {
        const ids = await matchingIds(handle.collection, where ?? chromaMatchAll);
        for (let start = 0; start < ids.length; start += maxBatchSize) {
          await handle.collection.delete({ ids: ids.slice(start, start + maxBatchSize) });
        }
        return { deleted: ids.length };
      });
    },

    async list(options: ListOptions): Promise<ListPage> {
      open(options.abortSignal);
      if (!Number.isInteger(options.limit) || options.limit <= 0) {
        throw new InvalidArgumentError({
          source,
          message: `limit must be a positive integer, got ${options.limit}.`,
        });
      }
      const offset = decodeOffsetCursor(options.cursor);
      const { where } = whereOf(options.scope, options.filter);
      return onCollection(options.abortSignal, 'list', options.collection, async (handle) => {
        // One extra record tells whether another page follows without a second request.
        const result = await handle.collection.get({
          ...(where ? { where } : {}),
          limit: options.limit + 1,
          offset,
          include: [
            'documents',
            'metadatas',
            ...(options.includeVectors ? ['embeddings'] : []),
          ] as never,
        });
        const count = Math.min(result.ids.length, options.limit);
        const records = result.ids
          .slice(0, count)
          .map((id, index) =>
            fromChroma(
              id,
              result.documents[index],
              result.metadatas[index],
              result.embeddings?.[index],
              options.includeVectors,
            ),
          );
        return {
          records,
          ...(result.ids.length > options.limit
            ? { nextCursor: encodeOffsetCursor(offset + count) }
            : {}),
        };
      });
    },

    async count(options: CountOptions) {
      open(options.abortSignal);
      const { where } = whereOf(options.scope, options.filter);
      return onCollection(options.abortSignal, 'count', options.collection, async (handle) => {
        if (!where) return handle.collection.count();
        // Chroma counts only whole collections, so a filtered count walks the matching ids.
        return (await matchingIds(handle.collection, where)).length;
      });
    },

    async dropCollection({ collection: name, abortSignal }) {
      await run(abortSignal, 'dropCollection', async (chroma) => {
        handles.delete(name);
        try {
          await chroma.deleteCollection({ name });
        } catch (error) {
          if ((error as { name?: unknown } | null)?.name !== 'ChromaNotFoundError') throw error;
        } finally {
          handles.delete(name);
        }
      });
    },

    close,
    [Symbol.asyncDispose]: close,
  };
}
