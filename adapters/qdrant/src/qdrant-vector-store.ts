import {
  assertCollectionDimensions,
  assertDeleteSelection,
  assertPositiveInteger,
  assertRecords,
  assertVectorLength,
  chunk,
  defineVectorStore,
  optionalSettingLoader,
  requireQueryVector,
} from '@engram/adapter-kit';
import type { FilterExpression, Scope, StoredRecord, VectorStore } from '@engram/core';
import {
  decodeCursor,
  encodeCursor,
  InvalidArgumentError,
  NotFoundError,
  normalizeScope,
  scopeFields,
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

const noKeywordSearch =
  'Qdrant has no BM25 keyword search over the REST API this store uses; query with a vector (the engine fuses keyword relevance itself).';

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
  const exactSearch = options.exactSearch ?? false;
  const dimensionsByCollection = new Map<string, number>();
  const setting = optionalSettingLoader(source);

  function qdrant(): QdrantClient {
    if (client) return client;
    const apiKey = setting(options.apiKey, 'apiKey', 'QDRANT_API_KEY');
    client = new QdrantClient({
      url: setting(options.url, 'url', 'QDRANT_URL') ?? 'http://localhost:6333',
      ...(apiKey ? { apiKey } : {}),
      timeout: options.timeoutMs ?? 60_000,
      checkCompatibility: false,
    });
    return client;
  }

  /** The collection's vector length, read from the server; `undefined` when it does not exist. */
  async function describe(collection: string): Promise<number | undefined> {
    const info = await qdrant()
      .getCollection(collection)
      .catch((error: unknown) => {
        if (qdrantErrorStatus(error) === 404) return undefined;
        throw error;
      });
    if (!info) return undefined;
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

  async function dimensionsOf(collection: string): Promise<number> {
    const dimensions = dimensionsByCollection.get(collection) ?? (await describe(collection));
    if (dimensions !== undefined) return dimensions;
    throw new NotFoundError({
      source,
      message: `Collection "${collection}" does not exist; call ensureCollection first.`,
    });
  }

  return defineVectorStore({
    provider: source,
    capabilities: {
      keywordSearch: false,
      filterOperators: qdrantFilterOperators,
      maxBatchSize,
      metric: 'cosine',
      atomicHistory: false,
    },
    toError: (error, action) => toQdrantError(error, action),
    methods: (lifecycle) => ({
      async ensureCollection({ collection, dimensions }) {
        assertPositiveInteger(dimensions, 'dimensions', source);
        let existing = await describe(collection);
        if (existing === undefined) {
          try {
            await qdrant().createCollection(collection, {
              vectors: { size: dimensions, distance: 'Cosine' },
            });
          } catch (error) {
            // Another caller may have created it first; then its dimension decides.
            const status = qdrantErrorStatus(error);
            if (status !== 409 && status !== 400) throw error;
            existing = await dimensionsOf(collection);
          }
          for (const field of scopeIndexFields) {
            await qdrant().createPayloadIndex(collection, {
              field_name: field,
              field_schema: 'keyword',
              wait: true,
            });
          }
          if (existing === undefined) {
            dimensionsByCollection.set(collection, dimensions);
            return;
          }
        }
        assertCollectionDimensions({ source, collection, existing, requested: dimensions });
      },

      async upsert({ collection, records, abortSignal }) {
        if (records.length === 0) return;
        assertRecords(records, { source, dimensions: await dimensionsOf(collection), collection });
        for (const batch of chunk(records, maxBatchSize)) {
          lifecycle.check(abortSignal);
          const points = batch.map((record) => ({
            id: qdrantPointId(record.id),
            vector: record.vector,
            payload: toQdrantPayload(record),
          }));
          await qdrant().upsert(collection, { wait: true, points });
        }
      },

      async query({ collection, vector: given, text, topK, scope, filter, includeVectors }) {
        const vector = requireQueryVector({ vector: given, text }, { source, noKeywordSearch });
        const selection = qdrantSelection(scope, filter);
        const what = 'The query vector';
        assertVectorLength(vector, await dimensionsOf(collection), { source, what, collection });
        if (selection === false || topK < 1) return [];
        const response = await qdrant().query(collection, {
          query: vector,
          ...(selection ? { filter: selection } : {}),
          limit: topK,
          with_payload: payloadWithoutProjection,
          with_vector: includeVectors ?? false,
          ...(exactSearch ? { params: { exact: true } } : {}),
        });
        return response.points.map((point) => ({
          // Cosine collections store normalized vectors and score with their dot product: the cosine.
          score: point.score,
          record: fromQdrantPoint(point.payload, point.vector, includeVectors),
        }));
      },

      async get({ collection, ids, includeVectors }) {
        if (ids.length === 0) {
          await dimensionsOf(collection);
          return [];
        }
        const byId = new Map<string, StoredRecord>();
        for (const batch of chunk([...new Set(ids)], deletePageSize)) {
          const points = await qdrant().retrieve(collection, {
            ids: batch.map(qdrantPointId),
            with_payload: payloadWithoutProjection,
            with_vector: includeVectors ?? false,
          });
          for (const point of points) {
            const record = fromQdrantPoint(point.payload, point.vector, includeVectors);
            byId.set(record.id, record);
          }
        }
        return ids.filter((id) => byId.has(id)).map((id) => byId.get(id)!);
      },

      async delete({ collection, ids, scope, filter, abortSignal }) {
        if (ids) {
          if (ids.length === 0) await dimensionsOf(collection);
          let deleted = 0;
          for (const batch of chunk([...new Set(ids)], deletePageSize)) {
            // Qdrant does not say how many points a delete removed, so look them up first.
            const existing = await qdrant().retrieve(collection, {
              ids: batch.map(qdrantPointId),
              with_payload: ['id'],
              with_vector: false,
            });
            const found = existing.filter((point) => batch.includes(String(point.payload?.id)));
            if (found.length === 0) continue;
            const points = found.map((point) => point.id);
            await qdrant().delete(collection, { wait: true, points });
            deleted += found.length;
          }
          return { deleted };
        }
        const normalized = normalizeScope(scope, { source });
        assertDeleteSelection({ scope: normalized, filter }, source);
        const selection = qdrantSelection(normalized, filter);
        await dimensionsOf(collection);
        if (selection === false) return { deleted: 0 };
        let deleted = 0;
        // Deleting the ids found page by page gives an exact count, which a delete by filter does not.
        for (;;) {
          lifecycle.check(abortSignal);
          const page = await qdrant().scroll(collection, {
            ...(selection ? { filter: selection } : {}),
            limit: deletePageSize,
            with_payload: false,
            with_vector: false,
          });
          if (page.points.length === 0) return { deleted };
          const points = page.points.map((point) => point.id);
          await qdrant().delete(collection, { wait: true, points });
          deleted += page.points.length;
        }
      },

      async list({ collection, limit, cursor, scope, filter, includeVectors }) {
        assertPositiveInteger(limit, 'limit', source);
        const offset = decodeCursor(cursor, source);
        if (offset !== undefined && !isQdrantPointId(offset)) {
          throw new InvalidArgumentError({
            source,
            message: 'cursor is not valid; pass the nextCursor of a previous page unchanged.',
          });
        }
        const selection = qdrantSelection(scope, filter);
        if (selection === false) {
          await dimensionsOf(collection);
          return { records: [] };
        }
        // Qdrant scrolls in point id order; next_page_offset is the first id of the next page.
        const page = await qdrant().scroll(collection, {
          ...(selection ? { filter: selection } : {}),
          limit,
          ...(offset !== undefined ? { offset } : {}),
          with_payload: payloadWithoutProjection,
          with_vector: includeVectors ?? false,
        });
        const next = page.next_page_offset;
        return {
          records: page.points.map((point) =>
            fromQdrantPoint(point.payload, point.vector, includeVectors),
          ),
          ...(typeof next === 'string' || typeof next === 'number'
            ? { nextCursor: encodeCursor(String(next)) }
            : {}),
        };
      },

      async count({ collection, scope, filter }) {
        const selection = qdrantSelection(scope, filter);
        if (selection === false) {
          await dimensionsOf(collection);
          return 0;
        }
        const filterPart = selection ? { filter: selection } : {};
        return (await qdrant().count(collection, { ...filterPart, exact: true })).count;
      },

      async stats({ collection }) {
        await dimensionsOf(collection);
        // Qdrant reports no size per collection; an exact count, as collection info's is estimated.
        return { vectors: (await qdrant().count(collection, { exact: true })).count };
      },

      async dropCollection({ collection }) {
        dimensionsByCollection.delete(collection);
        await qdrant()
          .deleteCollection(collection)
          .catch((error: unknown) => {
            if (qdrantErrorStatus(error) !== 404) throw error;
          });
      },
    }),
  });
}
