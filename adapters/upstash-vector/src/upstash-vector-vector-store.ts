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
  orderedHex,
  pagedScan,
  pageOfIds,
  requireQueryVector,
} from '@engram/adapter-kit';
import {
  type FilterExpression,
  InvalidArgumentError,
  normalizeScope,
  type Scope,
  type StoredRecord,
  scopeFields,
  UnsupportedFunctionalityError,
  type VectorRecord,
  type VectorStore,
  validateFilter,
} from '@engram/core';
import { Index } from '@upstash/vector';
import { toUpstashVectorError } from './upstash-vector-errors.js';
import {
  translateUpstashVectorFilter,
  type UpstashVectorFilterFields,
  upstashVectorFilterFields,
  upstashVectorFilterOperators,
} from './upstash-vector-filter.js';

const source = 'upstash-vector';

const noKeywordSearch =
  'Upstash Vector dense indexes have no keyword search over the stored text; query with a vector (the engine fuses keyword relevance itself).';

/** Options of {@link createUpstashVectorStore}. */
export interface UpstashVectorStoreOptions {
  /** A configured `Index` client to use instead of `url` and `token`. */
  client?: Index;
  /** The index's REST URL. Default: `UPSTASH_VECTOR_REST_URL`. */
  url?: string;
  /** The index's REST token. Default: `UPSTASH_VECTOR_REST_TOKEN`. */
  token?: string;
  /** Namespace of a collection. Default: the collection name itself. */
  namespace?: (collection: string) => string;
  /** Retries of failed network calls inside the client. Default: the client's (5). */
  maxRetries?: number;
}

/** The metadata of one stored vector, as this adapter writes it. */
export interface UpstashVectorMetadata extends UpstashVectorFilterFields {
  /** The record without its vector, as exact JSON. */
  r: string;
  /** Scope ids as {@link orderedHex}, for filters. */
  userId?: string;
  agentId?: string;
  runId?: string;
  [key: string]: unknown;
}

/** Vectors per upsert request (Upstash accepts up to 1,000). */
const maxBatchSize = 500;
/** Upstash's largest `topK`. */
const maxTopK = 1000;
const rangePage = 1000;

/** The Upstash metadata of a record: the exact record JSON, scope ids and the filter projection. */
export function toUpstashVectorMetadata(record: VectorRecord): UpstashVectorMetadata {
  const { vector: _vector, keywordText: _keywordText, ...stored } = record;
  const metadata: UpstashVectorMetadata = {
    r: JSON.stringify(stored),
    ...upstashVectorFilterFields(record.metadata),
  };
  for (const field of scopeFields) {
    if (record[field] !== undefined) metadata[field] = orderedHex(record[field]);
  }
  return metadata;
}

/** Rebuilds a record from a stored vector. */
export function fromUpstashVector(
  stored: { id: string | number; vector?: number[]; metadata?: Record<string, unknown> },
  includeVectors?: boolean,
): StoredRecord {
  const json = stored.metadata?.r;
  const record = (
    typeof json === 'string' ? JSON.parse(json) : { id: String(stored.id) }
  ) as StoredRecord;
  record.metadata ??= {};
  if (includeVectors && stored.vector) record.vector = [...stored.vector];
  return record;
}

/** Scope and portable filter as one Upstash filter; `false` when nothing can match. */
export function upstashVectorSelection(
  scope: Scope | undefined,
  filter: FilterExpression | undefined,
): string | undefined | false {
  const normalized = normalizeScope(scope, { source });
  const conditions = scopeFields
    .filter((field) => normalized[field] !== undefined)
    // Hex, like every literal this adapter sends: nothing to quote or escape.
    .map((field) => `${field} = '${orderedHex(normalized[field]!)}'`);
  if (filter) {
    const translated = translateUpstashVectorFilter(validateFilter(filter));
    if (translated === false) return false;
    if (translated !== true) conditions.push(translated);
  }
  if (conditions.length === 0) return undefined;
  return conditions.length === 1 ? conditions[0] : conditions.map((c) => `(${c})`).join(' AND ');
}

type Cursor = { range: string } | { after: string };

/** Encodes a list position: the service's own page token, or the last id of a filtered page. */
export function encodeUpstashVectorCursor(cursor: Cursor): string {
  return encodeTokenCursor('range' in cursor ? { token: cursor.range } : cursor);
}

/** Decodes {@link encodeUpstashVectorCursor}; `InvalidArgumentError` for anything else. */
export function decodeUpstashVectorCursor(cursor: string | undefined): Cursor | undefined {
  const decoded = decodeTokenCursor(cursor, source);
  return decoded && 'token' in decoded ? { range: decoded.token } : decoded;
}

/**
 * An Upstash Vector store: one namespace per Engram collection inside one index (whose dimension
 * and cosine metric are fixed when the index is created in the Upstash console), the record as
 * exact JSON in the metadata beside a filterable projection of its metadata.
 */
export function createUpstashVectorStore(options: UpstashVectorStoreOptions = {}): VectorStore {
  let client: Index | undefined = options.client;
  const namespaceOf = options.namespace ?? ((collection: string) => collection);
  const setting = optionalSettingLoader(source);
  let indexInfo: { dimension: number; similarityFunction: string } | undefined;

  function index(): Index {
    if (client) return client;
    const url = setting(options.url, 'url', 'UPSTASH_VECTOR_REST_URL');
    const token = setting(options.token, 'token', 'UPSTASH_VECTOR_REST_TOKEN');
    if (!url || !token) {
      throw new InvalidArgumentError({
        source,
        message:
          'Upstash Vector needs the index REST URL and token: pass url and token, or set UPSTASH_VECTOR_REST_URL and UPSTASH_VECTOR_REST_TOKEN (or pass an Index as client).',
      });
    }
    client = new Index({
      url,
      token,
      enableTelemetry: false,
      ...(options.maxRetries === undefined
        ? {}
        : { retry: options.maxRetries === 0 ? false : { retries: options.maxRetries } }),
    });
    return client;
  }

  async function dimensions(): Promise<number> {
    if (!indexInfo) {
      const info = await index().info();
      indexInfo = {
        dimension: info.dimension,
        similarityFunction: String(info.similarityFunction),
      };
    }
    if (indexInfo.similarityFunction !== 'COSINE') {
      throw new InvalidArgumentError({
        source,
        message: `The Upstash index uses the ${indexInfo.similarityFunction} similarity; this store needs COSINE. Create the index with cosine similarity.`,
      });
    }
    return indexInfo.dimension;
  }

  /** Every id matching a filter, through a filtered query (Upstash lists by id range only). */
  async function matchingIds(namespace: string, filter: string): Promise<string[]> {
    const size = await dimensions();
    const probe = Array.from({ length: size }, (_, position) => (position === 0 ? 1 : 0));
    const matches = await index().query(
      { vector: probe, topK: maxTopK, filter, includeMetadata: false, includeVectors: false },
      { namespace },
    );
    return matches.map((match) => String(match.id));
  }

  function tooMany(action: string): never {
    throw new UnsupportedFunctionalityError({
      source,
      message: `${action} with a scope or filter matches ${maxTopK} or more records; Upstash Vector can only enumerate up to ${maxTopK - 1} filtered records exactly. Narrow the scope or filter.`,
    });
  }

  async function fetchRecords(namespace: string, ids: readonly string[], includeVectors?: boolean) {
    const byId = new Map<string, StoredRecord>();
    for (const batch of chunk([...new Set(ids)], rangePage)) {
      const found = await index().fetch(batch, {
        includeMetadata: true,
        includeVectors: includeVectors ?? false,
        namespace,
      });
      for (const stored of found) {
        if (stored) byId.set(String(stored.id), fromUpstashVector(stored, includeVectors));
      }
    }
    return byId;
  }

  return defineVectorStore({
    provider: source,
    capabilities: {
      keywordSearch: false,
      filterOperators: upstashVectorFilterOperators,
      maxBatchSize,
      metric: 'cosine',
      atomicHistory: false,
    },
    toError: (error, action) => toUpstashVectorError(error, action),
    methods: (lifecycle) => ({
      async ensureCollection({ collection, dimensions: requested }) {
        assertPositiveInteger(requested, 'dimensions', source);
        namespaceOf(collection);
        // Namespaces appear with their first vector; the dimension belongs to the whole index.
        assertCollectionDimensions({ source, collection, existing: await dimensions(), requested });
      },

      async upsert({ collection, records, abortSignal }) {
        if (records.length === 0) return;
        assertRecords(records, { source, dimensions: await dimensions(), collection });
        const namespace = namespaceOf(collection);
        for (const batch of chunk(records, maxBatchSize)) {
          lifecycle.check(abortSignal);
          await index().upsert(
            batch.map((record) => ({
              id: record.id,
              vector: record.vector,
              metadata: toUpstashVectorMetadata(record),
            })),
            { namespace },
          );
        }
      },

      async query({ collection, vector: given, text, topK, scope, filter, includeVectors }) {
        const vector = requireQueryVector({ vector: given, text }, { source, noKeywordSearch });
        const selection = upstashVectorSelection(scope, filter);
        const size = await dimensions();
        assertVectorLength(vector, size, { source, what: 'The query vector', collection });
        if (selection === false || topK < 1) return [];
        if (topK > maxTopK) {
          throw new InvalidArgumentError({
            source,
            message: `topK is at most ${maxTopK} in Upstash Vector, got ${topK}.`,
          });
        }
        const matches = await index().query(
          {
            vector,
            topK,
            ...(selection ? { filter: selection } : {}),
            includeMetadata: true,
            includeVectors: includeVectors ?? false,
          },
          { namespace: namespaceOf(collection) },
        );
        // Upstash scores cosine as (1 + cos) / 2; the store returns the cosine itself.
        return matches.map((match) => ({
          score: 2 * match.score - 1,
          record: fromUpstashVector(match, includeVectors),
        }));
      },

      async get({ collection, ids, includeVectors }) {
        if (ids.length === 0) return [];
        const byId = await fetchRecords(namespaceOf(collection), ids, includeVectors);
        return ids.filter((id) => byId.has(id)).map((id) => byId.get(id)!);
      },

      async delete({ collection, ids, scope, filter }) {
        const namespace = namespaceOf(collection);
        if (ids) {
          if (ids.length === 0) return { deleted: 0 };
          return { deleted: (await index().delete([...new Set(ids)], { namespace })).deleted };
        }
        const normalized = normalizeScope(scope, { source });
        assertDeleteSelection({ scope: normalized, filter }, source);
        const selection = upstashVectorSelection(normalized, filter);
        if (selection === false) return { deleted: 0 };
        if (selection === undefined) return { deleted: 0 };
        return { deleted: (await index().delete({ filter: selection }, { namespace })).deleted };
      },

      async list({ collection, limit, cursor: encoded, scope, filter, includeVectors }) {
        assertPositiveInteger(limit, 'limit', source);
        const cursor = decodeUpstashVectorCursor(encoded);
        const selection = upstashVectorSelection(scope, filter);
        const namespace = namespaceOf(collection);
        if (selection === false) return { records: [] };
        if (selection === undefined && (cursor === undefined || 'range' in cursor)) {
          const { items: records, next } = await pagedScan<StoredRecord, string>(
            async (range, collected) => {
              const page = await index().range(
                {
                  cursor: range ?? '0',
                  limit: Math.min(rangePage, limit - collected.length),
                  includeMetadata: true,
                  includeVectors: includeVectors ?? false,
                },
                { namespace },
              );
              return {
                items: page.vectors.map((stored) => fromUpstashVector(stored, includeVectors)),
                next: page.nextCursor,
              };
            },
            { start: cursor?.range, until: (collected) => collected.length >= limit },
          );
          return {
            records,
            ...(next ? { nextCursor: encodeUpstashVectorCursor({ range: next }) } : {}),
          };
        }
        const after = filteredCursorAfter(cursor, source);
        const all = await matchingIds(namespace, selection!);
        if (all.length >= maxTopK) tooMany('list');
        const { ids, nextAfter } = pageOfIds(all, after, limit);
        const byId = await fetchRecords(namespace, ids, includeVectors);
        return {
          records: ids.filter((id) => byId.has(id)).map((id) => byId.get(id)!),
          ...(nextAfter ? { nextCursor: encodeUpstashVectorCursor({ after: nextAfter }) } : {}),
        };
      },

      async count({ collection, scope, filter }) {
        const selection = upstashVectorSelection(scope, filter);
        const namespace = namespaceOf(collection);
        if (selection === false) return 0;
        if (selection === undefined) {
          const summary = (await index().info()).namespaces[namespace];
          return (summary?.vectorCount ?? 0) + (summary?.pendingVectorCount ?? 0);
        }
        const ids = await matchingIds(namespace, selection);
        if (ids.length >= maxTopK) tooMany('count');
        return ids.length;
      },

      async dropCollection({ collection }) {
        const namespace = namespaceOf(collection);
        // The default namespace cannot be deleted, only emptied.
        if (namespace === '') await index().reset({ namespace });
        else {
          const namespaces = await index().listNamespaces();
          if (namespaces.includes(namespace)) await index().deleteNamespace(namespace);
        }
      },
    }),
  });
}
