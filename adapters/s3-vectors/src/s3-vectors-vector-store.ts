import {
  CreateIndexCommand,
  DeleteIndexCommand,
  DeleteVectorsCommand,
  GetIndexCommand,
  GetVectorsCommand,
  ListVectorsCommand,
  PutVectorsCommand,
  QueryVectorsCommand,
  S3VectorsClient,
} from '@aws-sdk/client-s3vectors';
import {
  assertCollectionDimensions,
  assertDeleteSelection,
  assertPositiveInteger,
  assertRecords,
  assertVectorLength,
  chunk,
  decodeTokenCursor,
  defineVectorStore,
  encodeTokenCursor,
  filteredCursorAfter,
  optionalSettingLoader,
  pagedScan,
  pageOfIds,
  requiredSetting,
  requireQueryVector,
  type TokenCursor,
} from '@engram/adapter-kit';
import {
  type FilterExpression,
  InvalidArgumentError,
  NotFoundError,
  normalizeScope,
  type Scope,
  type StoredRecord,
  scopeFields,
  type VectorRecord,
  type VectorStore,
  validateFilter,
} from '@engram/core';
import { s3VectorsErrorStatus, toS3VectorsError } from './s3-vectors-errors.js';
import {
  type S3VectorsFilter,
  s3VectorsFilterFields,
  s3VectorsFilterOperators,
  translateS3VectorsFilter,
} from './s3-vectors-filter.js';

const source = 's3-vectors';

const noKeywordSearch =
  'S3 Vectors has no keyword search over the stored text; query with a vector (the engine fuses keyword relevance itself).';

/** Options of {@link createS3VectorsStore}. */
export interface S3VectorsStoreOptions {
  /** A configured `S3VectorsClient` to use instead of `region`, `endpoint` and the default credentials. */
  client?: S3VectorsClient;
  /** The vector bucket holding the indexes. Default: `S3_VECTORS_BUCKET_NAME`. */
  vectorBucketName?: string;
  /** AWS region. Default: the SDK's (`AWS_REGION`, profile). */
  region?: string;
  /** Endpoint override (a proxy or test double). Default: `S3_VECTORS_ENDPOINT`, else AWS's. */
  endpoint?: string;
  /** Index name of a collection. Default: lowercased, `_` turned into `-` (S3 naming rules). */
  indexName?: (collection: string) => string;
  /** Attempts per call inside the SDK (throttling, 5xx, lost connections). Default: the SDK's (3). */
  maxAttempts?: number;
}

/** Vectors per PutVectors / DeleteVectors request (S3 Vectors' limit). */
const maxBatchSize = 500;
/** Keys per GetVectors request. */
const getBatchSize = 100;
/** Largest topK of one QueryVectors request. */
const maxTopK = 100;
const listPage = 1000;
/** S3 Vectors' limit of filterable metadata per vector. */
const maxFilterableBytes = 2048;
const recordKey = 'r';
const indexNamePattern = /^[a-z0-9](?:[a-z0-9.-]{1,61})[a-z0-9]$/;

/** The index name of a collection by default. */
export function defaultS3VectorsIndexName(collection: string): string {
  return collection.toLowerCase().replaceAll('_', '-');
}

/** The metadata of a record: the record JSON (not filterable), scope ids and the filter keys. */
export function toS3VectorsMetadata(record: VectorRecord): Record<string, unknown> {
  const { vector: _vector, keywordText: _keywordText, ...stored } = record;
  const filterable: Record<string, unknown> = { ...s3VectorsFilterFields(record.metadata) };
  for (const field of scopeFields) {
    if (record[field] !== undefined) filterable[field] = record[field];
  }
  const size = Buffer.byteLength(JSON.stringify(filterable), 'utf8');
  if (size > maxFilterableBytes) {
    throw new InvalidArgumentError({
      source,
      message: `Record "${record.id}" needs ${size} bytes of filterable metadata (scope ids and the filter keys of its metadata); S3 Vectors allows ${maxFilterableBytes}. Use fewer or shorter metadata fields.`,
    });
  }
  return { [recordKey]: JSON.stringify(stored), ...filterable };
}

/** Rebuilds a record from a returned vector. */
export function fromS3Vector(
  stored: { key?: string; data?: { float32?: number[] }; metadata?: unknown },
  includeVectors?: boolean,
): StoredRecord {
  const json = (stored.metadata as Record<string, unknown> | undefined)?.[recordKey];
  const record = (
    typeof json === 'string' ? JSON.parse(json) : { id: stored.key ?? '', text: '', metadata: {} }
  ) as StoredRecord;
  if (includeVectors && stored.data?.float32) record.vector = [...stored.data.float32];
  return record;
}

/** Scope and portable filter as one S3 Vectors filter; `false` when nothing can match. */
export function s3VectorsSelection(
  scope: Scope | undefined,
  filter: FilterExpression | undefined,
): S3VectorsFilter | undefined | false {
  const normalized = normalizeScope(scope, { source });
  const conditions: S3VectorsFilter[] = scopeFields
    .filter((field) => normalized[field] !== undefined)
    .map((field) => ({ [field]: { $eq: normalized[field] } }));
  if (filter) {
    const translated = translateS3VectorsFilter(validateFilter(filter));
    if (translated === false) return false;
    if (translated !== true) conditions.push(translated);
  }
  if (conditions.length === 0) return undefined;
  return conditions.length === 1 ? conditions[0] : { $and: conditions };
}

/** Encodes a list position: the service's own page token, or the last id of a filtered page. */
export function encodeS3VectorsCursor(cursor: TokenCursor): string {
  return encodeTokenCursor(cursor);
}

/** Decodes {@link encodeS3VectorsCursor}; `InvalidArgumentError` for anything else. */
export function decodeS3VectorsCursor(cursor: string | undefined): TokenCursor | undefined {
  return decodeTokenCursor(cursor, source);
}

/**
 * An Amazon S3 Vectors store: one vector index per Engram collection in one vector bucket
 * (cosine, float32), the record as non-filterable JSON metadata beside flat filter keys.
 */
export function createS3VectorsStore(options: S3VectorsStoreOptions = {}): VectorStore {
  let client: S3VectorsClient | undefined = options.client;
  const ownClient = !options.client;
  const dimensionsByCollection = new Map<string, number>();
  const indexNameOf = options.indexName ?? defaultS3VectorsIndexName;
  const setting = optionalSettingLoader(source);

  function s3(): S3VectorsClient {
    if (client) return client;
    const endpoint = setting(options.endpoint, 'endpoint', 'S3_VECTORS_ENDPOINT');
    client = new S3VectorsClient({
      ...(options.region ? { region: options.region } : {}),
      ...(endpoint ? { endpoint } : {}),
      ...(options.maxAttempts === undefined ? {} : { maxAttempts: options.maxAttempts }),
    });
    return client;
  }

  const bucket = () =>
    requiredSetting(
      setting(options.vectorBucketName, 'vectorBucketName', 'S3_VECTORS_BUCKET_NAME'),
      source,
      'S3 Vectors needs a vector bucket: pass vectorBucketName or set S3_VECTORS_BUCKET_NAME.',
    );

  function target(collection: string) {
    const indexName = indexNameOf(collection);
    if (!indexNamePattern.test(indexName)) {
      throw new InvalidArgumentError({
        source,
        message: `Collection "${collection}" maps to the index name "${indexName}", which is not 3-63 lowercase letters, digits, "-" or "." starting and ending with a letter or digit; pass indexName to map it.`,
      });
    }
    return { vectorBucketName: bucket(), indexName };
  }

  async function describe(collection: string) {
    try {
      return (await s3().send(new GetIndexCommand(target(collection)))).index;
    } catch (error) {
      if (s3VectorsErrorStatus(error) === 404) return undefined;
      throw error;
    }
  }

  async function dimensionsOf(collection: string): Promise<number> {
    const cached = dimensionsByCollection.get(collection);
    if (cached !== undefined) return cached;
    const index = await describe(collection);
    if (!index) {
      throw new NotFoundError({
        source,
        message: `Collection "${collection}" (an S3 Vectors index) does not exist; call ensureCollection first.`,
      });
    }
    dimensionsByCollection.set(collection, index.dimension ?? 0);
    return index.dimension ?? 0;
  }

  async function fetchRecords(
    collection: string,
    keys: readonly string[],
    includeVectors?: boolean,
  ) {
    const byKey = new Map<string, StoredRecord>();
    for (const batch of chunk([...new Set(keys)], getBatchSize)) {
      const response = await s3().send(
        new GetVectorsCommand({
          ...target(collection),
          keys: batch,
          returnData: includeVectors ?? false,
          returnMetadata: true,
        }),
      );
      for (const stored of response.vectors ?? []) {
        if (stored.key) byKey.set(stored.key, fromS3Vector(stored, includeVectors));
      }
    }
    return byKey;
  }

  /** Every key of the index, or every key matching `filter` (through filtered query pages). */
  async function matchingKeys(collection: string, filter: S3VectorsFilter | undefined) {
    const keysOf = (page: { vectors?: { key?: string | undefined }[] | undefined }) =>
      (page.vectors ?? []).flatMap((item) => (item.key ? [item.key] : []));
    if (!filter) {
      const { items } = await pagedScan(async (nextToken: string | undefined) => {
        const page = await s3().send(
          new ListVectorsCommand({
            ...target(collection),
            maxResults: listPage,
            ...(nextToken ? { nextToken } : {}),
          }),
        );
        return { items: keysOf(page), next: page.nextToken };
      });
      return items;
    }
    const size = await dimensionsOf(collection);
    const probe = Array.from({ length: size }, (_, position) => (position === 0 ? 1 : 0));
    const { items } = await pagedScan(async (nextToken: string | undefined) => {
      const page = await s3().send(
        new QueryVectorsCommand({
          ...target(collection),
          topK: maxTopK,
          queryVector: { float32: probe },
          filter: filter as never,
          returnMetadata: false,
          returnDistance: false,
          ...(nextToken ? { nextToken } : {}),
        }),
      );
      return { items: keysOf(page), next: page.nextToken };
    });
    return [...new Set(items)];
  }

  return defineVectorStore({
    provider: source,
    capabilities: {
      keywordSearch: false,
      filterOperators: s3VectorsFilterOperators,
      maxBatchSize,
      metric: 'cosine',
      atomicHistory: false,
    },
    toError: (error, action) => toS3VectorsError(error, action),
    onClose: () => {
      if (ownClient) client?.destroy();
    },
    methods: (lifecycle) => ({
      async ensureCollection({ collection, dimensions }) {
        assertPositiveInteger(dimensions, 'dimensions', source);
        let index = await describe(collection);
        if (!index) {
          try {
            await s3().send(
              new CreateIndexCommand({
                ...target(collection),
                dataType: 'float32',
                dimension: dimensions,
                distanceMetric: 'cosine',
                metadataConfiguration: { nonFilterableMetadataKeys: [recordKey] },
              }),
            );
          } catch (error) {
            // Created concurrently by another caller: use theirs.
            if (s3VectorsErrorStatus(error) !== 409) throw error;
          }
          index = await describe(collection);
        }
        if (index?.distanceMetric && index.distanceMetric !== 'cosine') {
          throw new InvalidArgumentError({
            source,
            message: `Index "${index.indexName}" uses the ${index.distanceMetric} metric; this store needs cosine.`,
          });
        }
        const existing = index?.dimension ?? dimensions;
        assertCollectionDimensions({ source, collection, existing, requested: dimensions });
        dimensionsByCollection.set(collection, existing);
      },

      async upsert({ collection, records, abortSignal }) {
        if (records.length === 0) return;
        assertRecords(records, { source, dimensions: await dimensionsOf(collection), collection });
        const vectors = records.map((record) => ({
          key: record.id,
          data: { float32: record.vector },
          metadata: toS3VectorsMetadata(record) as never,
        }));
        for (const batch of chunk(vectors, maxBatchSize)) {
          lifecycle.check(abortSignal);
          await s3().send(new PutVectorsCommand({ ...target(collection), vectors: batch }));
        }
      },

      async query({ collection, vector: given, text, topK, scope, filter, includeVectors }) {
        const vector = requireQueryVector({ vector: given, text }, { source, noKeywordSearch });
        const selection = s3VectorsSelection(scope, filter);
        const size = await dimensionsOf(collection);
        assertVectorLength(vector, size, { source, what: 'The query vector', collection });
        if (selection === false || topK < 1) return [];
        const { items: matches } = await pagedScan<
          { key: string; distance: number; metadata: unknown },
          string
        >(
          async (nextToken, collected) => {
            const page = await s3().send(
              new QueryVectorsCommand({
                ...target(collection),
                topK: Math.min(maxTopK, topK - collected.length),
                queryVector: { float32: vector },
                ...(selection ? { filter: selection as never } : {}),
                returnMetadata: true,
                returnDistance: true,
                ...(nextToken ? { nextToken } : {}),
              }),
            );
            return {
              items: (page.vectors ?? []).flatMap((item) =>
                item.key
                  ? [{ key: item.key, distance: item.distance ?? 1, metadata: item.metadata }]
                  : [],
              ),
              next: page.nextToken,
            };
          },
          { until: (collected) => collected.length >= topK },
        );
        const vectors = includeVectors
          ? await fetchRecords(
              collection,
              matches.map((match) => match.key),
              true,
            )
          : undefined;
        // Cosine distance is 1 - cosine similarity.
        return matches.slice(0, topK).map((match) => ({
          score: 1 - match.distance,
          record:
            vectors?.get(match.key) ?? fromS3Vector({ key: match.key, metadata: match.metadata }),
        }));
      },

      async get({ collection, ids, includeVectors }) {
        if (ids.length === 0) return [];
        const byKey = await fetchRecords(collection, ids, includeVectors);
        return ids.filter((id) => byKey.has(id)).map((id) => byKey.get(id)!);
      },

      async delete({ collection, ids, scope, filter, abortSignal }) {
        let keys: string[];
        if (ids) {
          // DeleteVectors does not say what it removed, so count what exists first.
          keys = [...(await fetchRecords(collection, ids, false)).keys()];
        } else {
          const normalized = normalizeScope(scope, { source });
          assertDeleteSelection({ scope: normalized, filter }, source);
          const selection = s3VectorsSelection(normalized, filter);
          if (selection === false) return { deleted: 0 };
          keys = await matchingKeys(collection, selection);
        }
        for (const batch of chunk(keys, maxBatchSize)) {
          lifecycle.check(abortSignal);
          await s3().send(new DeleteVectorsCommand({ ...target(collection), keys: batch }));
        }
        return { deleted: keys.length };
      },

      async list({ collection, limit, cursor: encoded, scope, filter, includeVectors }) {
        assertPositiveInteger(limit, 'limit', source);
        const cursor = decodeS3VectorsCursor(encoded);
        const selection = s3VectorsSelection(scope, filter);
        if (selection === false) return { records: [] };
        if (selection === undefined && (cursor === undefined || 'token' in cursor)) {
          const { items: records, next } = await pagedScan<StoredRecord, string>(
            async (nextToken, collected) => {
              const page = await s3().send(
                new ListVectorsCommand({
                  ...target(collection),
                  maxResults: Math.min(listPage, limit - collected.length),
                  returnMetadata: true,
                  returnData: includeVectors ?? false,
                  ...(nextToken ? { nextToken } : {}),
                }),
              );
              return {
                items: (page.vectors ?? []).map((stored) => fromS3Vector(stored, includeVectors)),
                next: page.nextToken,
              };
            },
            { start: cursor?.token, until: (collected) => collected.length >= limit },
          );
          return {
            records,
            ...(next ? { nextCursor: encodeS3VectorsCursor({ token: next }) } : {}),
          };
        }
        const after = filteredCursorAfter(cursor, source);
        const { ids: keys, nextAfter } = pageOfIds(
          await matchingKeys(collection, selection),
          after,
          limit,
        );
        const byKey = await fetchRecords(collection, keys, includeVectors);
        return {
          records: keys.filter((key) => byKey.has(key)).map((key) => byKey.get(key)!),
          ...(nextAfter ? { nextCursor: encodeS3VectorsCursor({ after: nextAfter }) } : {}),
        };
      },

      async count({ collection, scope, filter }) {
        const selection = s3VectorsSelection(scope, filter);
        if (selection === false) return 0;
        // S3 Vectors has no count: the keys are enumerated (listed, or queried with the filter).
        return (await matchingKeys(collection, selection)).length;
      },

      async dropCollection({ collection }) {
        dimensionsByCollection.delete(collection);
        try {
          await s3().send(new DeleteIndexCommand(target(collection)));
        } catch (error) {
          if (s3VectorsErrorStatus(error) !== 404) throw error;
        }
      },
    }),
  });
}
