import {
  ClosedError,
  type CountOptions,
  type DeleteOptions,
  DimensionMismatchError,
  decodeCursor,
  type EnsureCollectionOptions,
  encodeCursor,
  type FilterExpression,
  type GetOptions,
  InvalidArgumentError,
  type ListOptions,
  type ListPage,
  normalizeScope,
  type QueryOptions,
  type Scope,
  type StoredRecord,
  scopeFields,
  throwIfAborted,
  UnsupportedFunctionalityError,
  type UpsertOptions,
  type VectorMatch,
  type VectorStore,
  type VectorStoreCapabilities,
  validateFilter,
} from '@engram/core';
import { QdrantClient } from '@qdrant/js-client-rest';
import { qdrantErrorStatus, toQdrantError } from './qdrant-errors.js';
import {
  filterPayloadKey,
  type QdrantCondition,
  type QdrantFilter,
  qdrantFilterOperators,
  translateQdrantFilter,
} from './qdrant-filter.js';
import {
  fromQdrantPoint,
  isQdrantPointId,
  qdrantPointId,
  toQdrantPayload,
} from './qdrant-payload.js';

const source = 'qdrant';

/** Options of {@link createQdrantVectorStore}. */
export interface QdrantVectorStoreOptions {
  /**
   * A configured `QdrantClient` to use instead of connection settings. The store never closes
   * it. Create it with `checkCompatibility: false` to avoid its version probe on construction.
   */
  client?: QdrantClient;
  /** REST URL of the server. Default: `QDRANT_URL`, else `http://localhost:6333`. */
  url?: string;
  /** API key (Qdrant Cloud or a server with `api_key` set). Default: `QDRANT_API_KEY`. */
  apiKey?: string;
  /** Timeout of one REST request in milliseconds. Default 60,000. */
  timeoutMs?: number;
  /**
   * Run vector queries as exact (brute-force) searches instead of HNSW. Default false: Qdrant's
   * filterable HNSW with the scope payload indexes, and exact search anyway for small segments.
   */
  exactSearch?: boolean;
}

const maxBatchSize = 256;
const deletePageSize = 1000;
const scopeIndexFields = [...scopeFields, `${filterPayloadKey}.paths`];
const payloadWithoutProjection = { exclude: [filterPayloadKey] };

function chunk<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let start = 0; start < items.length; start += size)
    chunks.push(items.slice(start, start + size));
  return chunks;
}

function positiveInteger(value: number, name: string): void {
  if (!Number.isInteger(value) || value <= 0) {
    throw new InvalidArgumentError({
      source,
      message: `${name} must be a positive integer, got ${value}.`,
    });
  }
}

/** Scope and portable filter as one Qdrant filter; `false` when nothing can match. */
export function qdrantSelection(
  scope: Scope | undefined,
  filter: FilterExpression | undefined,
): QdrantFilter | undefined | false {
  const normalized = normalizeScope(scope, { source });
  const must: QdrantCondition[] = scopeFields
    .filter((field) => normalized[field] !== undefined)
    .map((field) => ({ key: field, match: { value: normalized[field]! } }));
  if (filter) {
    const translated = translateQdrantFilter(validateFilter(filter));
    if (translated === false) return false;
    if (translated !== true) must.push(translated);
  }
  return must.length === 0 ? undefined : { must };
}

/**
 * A Qdrant vector store: one collection per Engram collection (cosine distance), payload keyword
 * indexes on the scope fields, metadata stored as given next to a filterable projection.
 */
export function createQdrantVectorStore(options: QdrantVectorStoreOptions = {}): VectorStore {
  let client: QdrantClient | undefined = options.client;
  let closed = false;
  const exactSearch = options.exactSearch ?? false;
  const dimensionsByCollection = new Map<string, number>();

  const capabilities: VectorStoreCapabilities = {
    keywordSearch: false,
    filterOperators: qdrantFilterOperators,
    maxBatchSize,
    metric: 'cosine',
    atomicHistory: false,
  };

  function open(signal: AbortSignal | undefined): QdrantClient {
    if (closed)
      throw new ClosedError({ source, message: 'The store was closed; create a new one.' });
    throwIfAborted(signal, source);
    client ??= new QdrantClient({
      url: options.url ?? process.env.QDRANT_URL ?? 'http://localhost:6333',
      ...((options.apiKey ?? process.env.QDRANT_API_KEY)
        ? { apiKey: options.apiKey ?? process.env.QDRANT_API_KEY }
        : {}),
      timeout: options.timeoutMs ?? 60_000,
      checkCompatibility: false,
    });
    return client;
  }

  async function call<T>(action: string, collection: string | undefined, run: () => Promise<T>) {
    try {
      return await run();
    } catch (error) {
      throw toQdrantError(error, action, collection);
    }
  }

  async function describe(qdrant: QdrantClient, collection: string): Promise<number> {
    const info = await call('getCollection', collection, () => qdrant.getCollection(collection));
    const vectors = info.config.params.vectors as
      | { size?: unknown; distance?: unknown }
      | undefined;
    if (typeof vectors?.size !== 'number') {
      throw new InvalidArgumentError({
        source,
        message: `Collection "${collection}" uses named vectors; this store needs one unnamed vector per point.`,
      });
    }
    if (vectors.distance !== 'Cosine') {
      throw new InvalidArgumentError({
        source,
        message: `Collection "${collection}" uses ${String(vectors.distance)} distance; this store needs Cosine.`,
      });
    }
    dimensionsByCollection.set(collection, vectors.size);
    return vectors.size;
  }

  async function dimensionsOf(qdrant: QdrantClient, collection: string): Promise<number> {
    return dimensionsByCollection.get(collection) ?? describe(qdrant, collection);
  }

  function checkLength(collection: string, expected: number, vector: number[], what: string) {
    if (vector.length !== expected) {
      throw new DimensionMismatchError({
        source,
        expected,
        actual: vector.length,
        message: `${what} has ${vector.length} dimensions; collection "${collection}" holds ${expected}.`,
      });
    }
  }

  async function ensureCollection({
    collection,
    dimensions,
    abortSignal,
  }: EnsureCollectionOptions) {
    const qdrant = open(abortSignal);
    positiveInteger(dimensions, 'dimensions');
    let existing: number | undefined;
    try {
      existing = await describe(qdrant, collection);
    } catch (error) {
      if (qdrantErrorStatus((error as { cause?: unknown }).cause) !== 404) throw error;
    }
    if (existing === undefined) {
      try {
        await qdrant.createCollection(collection, {
          vectors: { size: dimensions, distance: 'Cosine' },
        });
      } catch (error) {
        // Another caller may have created it first; then its dimension decides.
        const status = qdrantErrorStatus(error);
        if (status !== 409 && status !== 400) throw toQdrantError(error, 'createCollection');
        existing = await describe(qdrant, collection);
      }
      for (const field of scopeIndexFields) {
        await call('createPayloadIndex', collection, () =>
          qdrant.createPayloadIndex(collection, {
            field_name: field,
            field_schema: 'keyword',
            wait: true,
          }),
        );
      }
      if (existing === undefined) {
        dimensionsByCollection.set(collection, dimensions);
        return;
      }
    }
    if (existing !== dimensions) {
      throw new DimensionMismatchError({
        source,
        expected: existing,
        actual: dimensions,
        message: `Collection "${collection}" holds ${existing}-dimensional vectors, not ${dimensions}. Use the embedder it was created with, or another collection.`,
      });
    }
  }

  async function upsert({ collection, records, abortSignal }: UpsertOptions) {
    const qdrant = open(abortSignal);
    if (records.length === 0) return;
    const dimensions = await dimensionsOf(qdrant, collection);
    for (const record of records) {
      if (typeof record.id !== 'string' || record.id.length === 0) {
        throw new InvalidArgumentError({
          source,
          message: 'Every record needs a non-empty string id.',
        });
      }
      checkLength(collection, dimensions, record.vector, `Record "${record.id}"`);
    }
    for (const batch of chunk(records, maxBatchSize)) {
      throwIfAborted(abortSignal, source);
      await call('upsert', collection, () =>
        qdrant.upsert(collection, {
          wait: true,
          points: batch.map((record) => ({
            id: qdrantPointId(record.id),
            vector: record.vector,
            payload: toQdrantPayload(record),
          })),
        }),
      );
    }
  }

  async function query(options: QueryOptions): Promise<VectorMatch[]> {
    const qdrant = open(options.abortSignal);
    if (!options.vector) {
      if (options.text !== undefined) {
        throw new UnsupportedFunctionalityError({
          source,
          message:
            'Qdrant has no BM25 keyword search over the REST API this store uses; query with a vector (the engine fuses keyword relevance itself).',
        });
      }
      throw new InvalidArgumentError({ source, message: 'query needs a vector.' });
    }
    const filter = qdrantSelection(options.scope, options.filter);
    const dimensions = await dimensionsOf(qdrant, options.collection);
    checkLength(options.collection, dimensions, options.vector, 'The query vector');
    if (filter === false || options.topK < 1) return [];
    const response = await call('query', options.collection, () =>
      qdrant.query(options.collection, {
        query: options.vector!,
        ...(filter ? { filter } : {}),
        limit: options.topK,
        with_payload: payloadWithoutProjection,
        with_vector: options.includeVectors ?? false,
        ...(exactSearch ? { params: { exact: true } } : {}),
      }),
    );
    return response.points.map((point) => ({
      // Cosine collections store normalized vectors and score with their dot product: the cosine.
      score: point.score,
      record: fromQdrantPoint(point.payload, point.vector, options.includeVectors),
    }));
  }

  async function get({ collection, ids, includeVectors, abortSignal }: GetOptions) {
    const qdrant = open(abortSignal);
    if (ids.length === 0) {
      await dimensionsOf(qdrant, collection);
      return [];
    }
    const byId = new Map<string, StoredRecord>();
    for (const batch of chunk([...new Set(ids)], deletePageSize)) {
      const points = await call('retrieve', collection, () =>
        qdrant.retrieve(collection, {
          ids: batch.map(qdrantPointId),
          with_payload: payloadWithoutProjection,
          with_vector: includeVectors ?? false,
        }),
      );
      for (const point of points) {
        const record = fromQdrantPoint(point.payload, point.vector, includeVectors);
        byId.set(record.id, record);
      }
    }
    return ids.filter((id) => byId.has(id)).map((id) => byId.get(id)!);
  }

  async function deleteRecords(options: DeleteOptions) {
    const qdrant = open(options.abortSignal);
    const { collection } = options;
    if (options.ids) {
      let deleted = 0;
      for (const batch of chunk([...new Set(options.ids)], deletePageSize)) {
        // Qdrant does not say how many points a delete removed, so look them up first.
        const existing = await call('retrieve', collection, () =>
          qdrant.retrieve(collection, {
            ids: batch.map(qdrantPointId),
            with_payload: ['id'],
            with_vector: false,
          }),
        );
        const found = existing.filter((point) => batch.includes(String(point.payload?.id)));
        if (found.length === 0) continue;
        await call('delete', collection, () =>
          qdrant.delete(collection, { wait: true, points: found.map((point) => point.id) }),
        );
        deleted += found.length;
      }
      if (options.ids.length === 0) await dimensionsOf(qdrant, collection);
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
    const filter = qdrantSelection(scope, options.filter);
    await dimensionsOf(qdrant, collection);
    if (filter === false) return { deleted: 0 };
    let deleted = 0;
    // Deleting the ids found page by page gives an exact count, which a delete by filter does not.
    for (;;) {
      throwIfAborted(options.abortSignal, source);
      const page = await call('scroll', collection, () =>
        qdrant.scroll(collection, {
          ...(filter ? { filter } : {}),
          limit: deletePageSize,
          with_payload: false,
          with_vector: false,
        }),
      );
      if (page.points.length === 0) return { deleted };
      await call('delete', collection, () =>
        qdrant.delete(collection, { wait: true, points: page.points.map((point) => point.id) }),
      );
      deleted += page.points.length;
    }
  }

  async function list(options: ListOptions): Promise<ListPage> {
    const qdrant = open(options.abortSignal);
    positiveInteger(options.limit, 'limit');
    const offset = decodeCursor(options.cursor, source);
    if (offset !== undefined && !isQdrantPointId(offset)) {
      throw new InvalidArgumentError({
        source,
        message: 'cursor is not valid; pass the nextCursor of a previous page unchanged.',
      });
    }
    const filter = qdrantSelection(options.scope, options.filter);
    if (filter === false) {
      await dimensionsOf(qdrant, options.collection);
      return { records: [] };
    }
    // Qdrant scrolls in point id order; next_page_offset is the first id of the next page.
    const page = await call('scroll', options.collection, () =>
      qdrant.scroll(options.collection, {
        ...(filter ? { filter } : {}),
        limit: options.limit,
        ...(offset !== undefined ? { offset } : {}),
        with_payload: payloadWithoutProjection,
        with_vector: options.includeVectors ?? false,
      }),
    );
    const next = page.next_page_offset;
    return {
      records: page.points.map((point) =>
        fromQdrantPoint(point.payload, point.vector, options.includeVectors),
      ),
      ...(typeof next === 'string' || typeof next === 'number'
        ? { nextCursor: encodeCursor(String(next)) }
        : {}),
    };
  }

  async function count(options: CountOptions) {
    const qdrant = open(options.abortSignal);
    const filter = qdrantSelection(options.scope, options.filter);
    if (filter === false) {
      await dimensionsOf(qdrant, options.collection);
      return 0;
    }
    const result = await call('count', options.collection, () =>
      qdrant.count(options.collection, { ...(filter ? { filter } : {}), exact: true }),
    );
    return result.count;
  }

  async function dropCollection({
    collection,
    abortSignal,
  }: {
    collection: string;
    abortSignal?: AbortSignal;
  }) {
    const qdrant = open(abortSignal);
    dimensionsByCollection.delete(collection);
    try {
      await qdrant.deleteCollection(collection);
    } catch (error) {
      if (qdrantErrorStatus(error) === 404) return;
      throw toQdrantError(error, 'deleteCollection');
    }
  }

  async function close() {
    closed = true;
  }

  return {
    specificationVersion: 'v1',
    provider: source,
    capabilities,
    ensureCollection,
    upsert,
    query,
    get,
    delete: deleteRecords,
    list,
    count,
    dropCollection,
    close,
    [Symbol.asyncDispose]: close,
  };
}
