import {
  assertCollectionDimensions,
  assertDeleteSelection,
  assertPositiveInteger,
  assertRecords,
  assertVectorLength,
  chunk,
  defineVectorStore,
  filteredCursorAfter,
  optionalSettingLoader,
  pagedScan,
  pageOfIds,
  requireQueryVector,
} from '@engram/adapter-kit';
import {
  type FilterExpression,
  InvalidArgumentError,
  type JsonValue,
  NotFoundError,
  normalizeScope,
  type Scope,
  type StoredRecord,
  scopeFields,
  UnsupportedFunctionalityError,
  type VectorRecord,
  type VectorStore,
  validateFilter,
} from '@engram/core';
import {
  type CreateIndexSpec,
  type Index,
  Pinecone,
  type PineconeRecord,
  type RecordMetadata,
} from '@pinecone-database/pinecone';
import { pineconeErrorStatus, toPineconeError } from './pinecone-errors.js';
import {
  type PineconeFilter,
  pineconeFilterFields,
  pineconeFilterOperators,
  translatePineconeFilter,
} from './pinecone-filter.js';

const source = 'pinecone';

const noKeywordSearch =
  'Pinecone indexes of dense vectors have no keyword search over the stored text; query with a vector (the engine fuses keyword relevance itself).';

/** Options of {@link createPineconeVectorStore}. */
export interface PineconeVectorStoreOptions {
  /** A configured `Pinecone` client to use instead of `apiKey` and `url`. */
  client?: Pinecone;
  /** API key. Default: `PINECONE_API_KEY`; Pinecone Local ignores keys, so any value works there. */
  apiKey?: string;
  /**
   * Control plane URL, for Pinecone Local (`http://localhost:5080`) or a proxy. Default:
   * `PINECONE_URL`, else Pinecone's cloud API.
   */
  url?: string;
  /**
   * Where an index's data plane is reached, given the host `describeIndex` reports. Default: the
   * host itself, over `http://` when `url` is an `http://` URL (Pinecone Local), else `https://`.
   * Containers with remapped ports need a mapping here.
   */
  indexHost?: (host: string, indexName: string) => string;
  /** Index name of a collection. Default: lowercased, with `_` turned into `-` (Pinecone's naming rules). */
  indexName?: (collection: string) => string;
  /** Namespace inside every index. Default: the default namespace. */
  namespace?: string;
  /** Deployment of the indexes `ensureCollection` creates. Default: serverless on `aws`/`us-east-1`. */
  spec?: CreateIndexSpec;
  /** How long `ensureCollection` waits for a new index to become ready, in seconds. Default 300. */
  indexReadyTimeoutSeconds?: number;
  /** Retries of 5xx answers inside the Pinecone client. Default: the client's (3). */
  maxRetries?: number;
}

/** Most records in one upsert request (Pinecone accepts up to 1,000 or 2 MB). */
const maxBatchSize = 100;
/** Pinecone's largest `topK`, and its largest with metadata or values included. */
const maxTopK = 10_000;
const maxTopKWithMetadata = 1_000;
/** Ids per fetch (a GET with the ids in the URL) and per delete. */
const fetchBatchSize = 100;
const deleteBatchSize = 1_000;
/** Pinecone's metadata limit per record. */
const maxMetadataBytes = 40 * 1024;
const metadataKey = '_metadata';
const indexNamePattern = /^[a-z0-9]([a-z0-9-]{0,43}[a-z0-9])?$/;

/** The index name of a collection by default. */
export function defaultPineconeIndexName(collection: string): string {
  return collection.toLowerCase().replaceAll('_', '-');
}

/** The Pinecone metadata of a record: its fields, the exact metadata JSON, and the flat filter keys. */
export function toPineconeMetadata(record: VectorRecord): RecordMetadata {
  const metadata: RecordMetadata = {
    text: record.text,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    [metadataKey]: JSON.stringify(record.metadata),
    ...pineconeFilterFields(record.metadata),
  };
  if (record.hash !== undefined) metadata.hash = record.hash;
  for (const field of scopeFields) {
    if (record[field] !== undefined) metadata[field] = record[field]!;
  }
  return metadata;
}

/** Rebuilds a record from a Pinecone record. */
export function fromPineconeRecord(
  stored: PineconeRecord<RecordMetadata>,
  includeVectors?: boolean,
): StoredRecord {
  const metadata = stored.metadata ?? {};
  const json = metadata[metadataKey];
  const record: StoredRecord = {
    id: stored.id,
    text: typeof metadata.text === 'string' ? metadata.text : '',
    metadata: typeof json === 'string' ? (JSON.parse(json) as Record<string, JsonValue>) : {},
    createdAt: String(metadata.createdAt ?? ''),
    updatedAt: String(metadata.updatedAt ?? ''),
  };
  if (typeof metadata.hash === 'string') record.hash = metadata.hash;
  for (const field of scopeFields) {
    const value = metadata[field];
    if (typeof value === 'string') record[field] = value;
  }
  if (includeVectors && stored.values) record.vector = [...stored.values];
  return record;
}

/** Scope and portable filter as one Pinecone filter; `false` when nothing can match. */
export function pineconeSelection(
  scope: Scope | undefined,
  filter: FilterExpression | undefined,
): PineconeFilter | undefined | false {
  const normalized = normalizeScope(scope, { source });
  const conditions: PineconeFilter[] = scopeFields
    .filter((field) => normalized[field] !== undefined)
    .map((field) => ({ [field]: { $eq: normalized[field] } }));
  if (filter) {
    const translated = translatePineconeFilter(validateFilter(filter));
    if (translated === false) return false;
    if (translated !== true) conditions.push(translated);
  }
  if (conditions.length === 0) return undefined;
  return conditions.length === 1 ? conditions[0] : { $and: conditions };
}

type Cursor = { token: string } | { after: string };

/** Encodes a list position: Pinecone's pagination token, or the last id of a filtered page. */
export function encodePineconeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor), 'utf8').toString('base64url');
}

/** Decodes {@link encodePineconeCursor}; `InvalidArgumentError` for anything else. */
export function decodePineconeCursor(cursor: string | undefined): Cursor | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Record<
      string,
      unknown
    >;
    if (typeof parsed.token === 'string') return { token: parsed.token };
    if (typeof parsed.after === 'string') return { after: parsed.after };
  } catch {
    // reported below
  }
  throw new InvalidArgumentError({
    source,
    message: 'cursor is not valid; pass the nextCursor of a previous page unchanged.',
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface IndexHandle {
  index: Index<RecordMetadata>;
  dimensions: number;
}

/**
 * A Pinecone vector store: one index per Engram collection (dimension and cosine metric per
 * index), scope ids and flattened metadata as filterable metadata, the metadata JSON stored
 * exactly beside them.
 */
export function createPineconeVectorStore(options: PineconeVectorStoreOptions = {}): VectorStore {
  let client: Pinecone | undefined = options.client;
  const handles = new Map<string, IndexHandle>();
  const indexNameOf = options.indexName ?? defaultPineconeIndexName;
  const setting = optionalSettingLoader(source);
  const url = setting(options.url, 'url', 'PINECONE_URL');
  const namespace = options.namespace ?? '';

  function pinecone(): Pinecone {
    if (client) return client;
    const apiKey =
      setting(options.apiKey, 'apiKey', 'PINECONE_API_KEY') ?? (url ? 'pinecone-local' : undefined);
    if (!apiKey) {
      throw new InvalidArgumentError({
        source,
        message:
          'Pinecone needs an API key: pass apiKey or set PINECONE_API_KEY (or url for Pinecone Local).',
      });
    }
    client = new Pinecone({
      apiKey,
      ...(url ? { controllerHostUrl: url } : {}),
      ...(options.maxRetries === undefined ? {} : { maxRetries: options.maxRetries }),
    });
    return client;
  }

  function indexNameFor(collection: string): string {
    const name = indexNameOf(collection);
    if (!indexNamePattern.test(name)) {
      throw new InvalidArgumentError({
        source,
        message: `Collection "${collection}" maps to the Pinecone index name "${name}", which is not 1-45 lowercase letters, digits or "-" starting and ending with a letter or digit; pass indexName to map it.`,
      });
    }
    return name;
  }

  function hostUrl(host: string, name: string): string {
    if (options.indexHost) return options.indexHost(host, name);
    if (/^https?:\/\//.test(host)) return host;
    return `${url?.startsWith('http://') ? 'http' : 'https'}://${host}`;
  }

  /** The index model, or undefined when it does not exist or is being deleted. */
  async function describe(collection: string) {
    const model = await pinecone()
      .describeIndex(indexNameFor(collection))
      .catch((error: unknown) => {
        if (pineconeErrorStatus(error) === 404) return undefined;
        throw error;
      });
    return model?.status?.state === 'Terminating' ? undefined : model;
  }

  async function handleOf(collection: string): Promise<IndexHandle> {
    const cached = handles.get(collection);
    if (cached) return cached;
    const model = await describe(collection);
    if (!model) {
      throw new NotFoundError({
        source,
        message: `Collection "${collection}" (a Pinecone index) does not exist; call ensureCollection first.`,
      });
    }
    const name = indexNameFor(collection);
    const handle: IndexHandle = {
      index: pinecone().index<RecordMetadata>({
        name,
        host: hostUrl(model.host, name),
        ...(namespace ? { namespace } : {}),
      }),
      dimensions: model.dimension ?? 0,
    };
    handles.set(collection, handle);
    return handle;
  }

  async function fetchRecords(
    index: Index<RecordMetadata>,
    ids: readonly string[],
    includeVectors: boolean | undefined,
  ): Promise<Map<string, StoredRecord>> {
    const byId = new Map<string, StoredRecord>();
    for (const batch of chunk([...new Set(ids)], fetchBatchSize)) {
      const response = await index.fetch({ ids: batch });
      for (const stored of Object.values(response.records ?? {})) {
        byId.set(stored.id, fromPineconeRecord(stored, includeVectors));
      }
    }
    return byId;
  }

  /** The records of `ids` that exist, in the order of `ids`. */
  async function recordsOf(
    index: Index<RecordMetadata>,
    ids: readonly string[],
    includeVectors: boolean | undefined,
  ): Promise<StoredRecord[]> {
    const byId = await fetchRecords(index, ids, includeVectors);
    return ids.filter((id) => byId.has(id)).map((id) => byId.get(id)!);
  }

  /** Every id matching a filter, through a filtered query (Pinecone has no filtered listing). */
  async function matchingIds(
    { index, dimensions }: IndexHandle,
    filter: PineconeFilter,
  ): Promise<string[]> {
    const probe = Array.from({ length: dimensions }, (_, position) => (position === 0 ? 1 : 0));
    const response = await index.query({
      vector: probe,
      topK: maxTopK,
      filter,
      includeMetadata: false,
      includeValues: false,
    });
    return response.matches.map((match) => match.id);
  }

  function tooMany(action: string): never {
    throw new UnsupportedFunctionalityError({
      source,
      message: `${action} with a scope or filter matches ${maxTopK} or more records; Pinecone can only enumerate up to ${maxTopK - 1} filtered records exactly. Narrow the scope or filter.`,
    });
  }

  async function deleteIds(index: Index<RecordMetadata>, ids: readonly string[]) {
    for (const batch of chunk(ids, deleteBatchSize)) await index.deleteMany({ ids: batch });
  }

  return defineVectorStore({
    provider: source,
    capabilities: {
      keywordSearch: false,
      filterOperators: pineconeFilterOperators,
      maxBatchSize,
      metric: 'cosine',
      atomicHistory: false,
    },
    toError: (error, action) => toPineconeError(error, action),
    methods: (lifecycle) => ({
      async ensureCollection({ collection, dimensions, abortSignal }) {
        assertPositiveInteger(dimensions, 'dimensions', source);
        const name = indexNameFor(collection);
        const timeoutSeconds = options.indexReadyTimeoutSeconds ?? 300;
        const deadline = Date.now() + timeoutSeconds * 1000;
        let model = await describe(collection);
        while (!model) {
          try {
            await pinecone().createIndex({
              name,
              dimension: dimensions,
              metric: 'cosine',
              spec: options.spec ?? { serverless: { cloud: 'aws', region: 'us-east-1' } },
              waitUntilReady: true,
              suppressConflicts: true,
              timeout: timeoutSeconds,
            });
          } catch (error) {
            // 409 right after a drop: the old index is still being deleted; wait for it to go.
            if (pineconeErrorStatus(error) !== 409 || Date.now() > deadline) throw error;
            lifecycle.check(abortSignal);
            await sleep(1000);
          }
          model = await describe(collection);
        }
        if (model.metric !== 'cosine') {
          throw new InvalidArgumentError({
            source,
            message: `Index "${name}" uses the ${model.metric} metric; this store needs cosine.`,
          });
        }
        const existing = model.dimension ?? 0;
        assertCollectionDimensions({ source, collection, existing, requested: dimensions });
        handles.delete(collection);
      },

      async upsert({ collection, records, abortSignal }) {
        if (records.length === 0) return;
        const { index, dimensions } = await handleOf(collection);
        assertRecords(records, { source, dimensions, collection });
        const prepared = records.map((record) => {
          const metadata = toPineconeMetadata(record);
          const size = Buffer.byteLength(JSON.stringify(metadata), 'utf8');
          if (size > maxMetadataBytes) {
            throw new InvalidArgumentError({
              source,
              message: `Record "${record.id}" needs ${size} bytes of Pinecone metadata (text, metadata JSON and filter keys); Pinecone allows ${maxMetadataBytes}.`,
            });
          }
          return { id: record.id, values: record.vector, metadata };
        });
        for (const batch of chunk(prepared, maxBatchSize)) {
          lifecycle.check(abortSignal);
          await index.upsert({ records: batch });
        }
      },

      async query({ collection, vector: given, text, topK, scope, filter, includeVectors }) {
        const vector = requireQueryVector({ vector: given, text }, { source, noKeywordSearch });
        const selection = pineconeSelection(scope, filter);
        const { index, dimensions } = await handleOf(collection);
        const what = 'The query vector';
        assertVectorLength(vector, dimensions, { source, what, collection });
        if (selection === false || topK < 1) return [];
        if (topK > maxTopK) {
          throw new InvalidArgumentError({
            source,
            message: `topK is at most ${maxTopK} in Pinecone, got ${topK}.`,
          });
        }
        // Above 1,000 Pinecone returns ids and scores only; the records are fetched after.
        const withMetadata = topK <= maxTopKWithMetadata;
        const response = await index.query({
          vector,
          topK,
          ...(selection ? { filter: selection } : {}),
          includeMetadata: withMetadata,
          includeValues: withMetadata && (includeVectors ?? false),
        });
        const records = withMetadata
          ? undefined
          : await fetchRecords(
              index,
              response.matches.map((match) => match.id),
              includeVectors,
            );
        return response.matches.flatMap((match) => {
          const record = records
            ? records.get(match.id)
            : fromPineconeRecord(match, includeVectors);
          // Pinecone's cosine metric scores with the cosine similarity itself.
          return record ? [{ score: match.score ?? 0, record }] : [];
        });
      },

      async get({ collection, ids, includeVectors }) {
        const { index } = await handleOf(collection);
        return ids.length === 0 ? [] : recordsOf(index, ids, includeVectors);
      },

      async delete({ collection, ids, scope, filter, abortSignal }) {
        if (ids) {
          const { index } = await handleOf(collection);
          // Pinecone does not say how many records a delete removed, so fetch them first.
          const existing = [...(await fetchRecords(index, ids, false)).keys()];
          await deleteIds(index, existing);
          return { deleted: existing.length };
        }
        const normalized = normalizeScope(scope, { source });
        assertDeleteSelection({ scope: normalized, filter }, source);
        const selection = pineconeSelection(normalized, filter);
        const handle = await handleOf(collection);
        if (selection === false) return { deleted: 0 };
        let deleted = 0;
        for (;;) {
          lifecycle.check(abortSignal);
          const matching = await matchingIds(handle, selection ?? {});
          await deleteIds(handle.index, matching);
          deleted += matching.length;
          if (matching.length < maxTopK) return { deleted };
        }
      },

      async list({ collection, limit, cursor: encoded, scope, filter, includeVectors }) {
        assertPositiveInteger(limit, 'limit', source);
        const cursor = decodePineconeCursor(encoded);
        const selection = pineconeSelection(scope, filter);
        const handle = await handleOf(collection);
        if (selection === false) return { records: [] };
        if (selection === undefined && (cursor === undefined || 'token' in cursor)) {
          // Unfiltered: Pinecone's id listing with its own pagination token.
          const { items: ids, next: token } = await pagedScan<string, string>(
            async (paginationToken, collected) => {
              const page = await handle.index.listPaginated({
                limit: Math.min(100, limit - collected.length),
                ...(paginationToken ? { paginationToken } : {}),
              });
              return {
                items: (page.vectors ?? []).flatMap((item) => (item.id ? [item.id] : [])),
                next: page.pagination?.next,
              };
            },
            { start: cursor?.token, until: (collected) => collected.length >= limit },
          );
          return {
            records: await recordsOf(handle.index, ids, includeVectors),
            ...(token ? { nextCursor: encodePineconeCursor({ token }) } : {}),
          };
        }
        const after = filteredCursorAfter(cursor, source);
        // Filtered: every matching id (a filtered query), in id order, after the cursor.
        const all = await matchingIds(handle, selection ?? {});
        if (all.length >= maxTopK) tooMany('list');
        const { ids, nextAfter } = pageOfIds(all, after, limit);
        return {
          records: await recordsOf(handle.index, ids, includeVectors),
          ...(nextAfter ? { nextCursor: encodePineconeCursor({ after: nextAfter }) } : {}),
        };
      },

      async count({ collection, scope, filter }) {
        const selection = pineconeSelection(scope, filter);
        const handle = await handleOf(collection);
        if (selection === false) return 0;
        if (selection === undefined) {
          const namespaces = (await handle.index.describeIndexStats()).namespaces ?? {};
          const summary =
            namespaces[namespace] ?? (namespace === '' ? namespaces.__default__ : undefined);
          return summary?.recordCount ?? 0;
        }
        const ids = await matchingIds(handle, selection);
        if (ids.length >= maxTopK) tooMany('count');
        return ids.length;
      },

      async dropCollection({ collection }) {
        handles.delete(collection);
        await pinecone()
          .deleteIndex(indexNameFor(collection))
          .catch((error: unknown) => {
            if (pineconeErrorStatus(error) !== 404) throw error;
          });
      },
    }),
  });
}
