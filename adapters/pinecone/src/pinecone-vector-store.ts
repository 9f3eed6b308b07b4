import {
  ClosedError,
  type CountOptions,
  type DeleteOptions,
  DimensionMismatchError,
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
  let closed = false;
  const handles = new Map<string, IndexHandle>();
  const indexNameOf = options.indexName ?? defaultPineconeIndexName;
  const url = options.url ?? process.env.PINECONE_URL;
  const namespace = options.namespace ?? '';

  const capabilities: VectorStoreCapabilities = {
    keywordSearch: false,
    filterOperators: pineconeFilterOperators,
    maxBatchSize,
    metric: 'cosine',
    atomicHistory: false,
  };

  function open(signal: AbortSignal | undefined): Pinecone {
    if (closed)
      throw new ClosedError({ source, message: 'The store was closed; create a new one.' });
    throwIfAborted(signal, source);
    if (!client) {
      const apiKey =
        options.apiKey ?? process.env.PINECONE_API_KEY ?? (url ? 'pinecone-local' : undefined);
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
    }
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

  async function call<T>(action: string, collection: string | undefined, run: () => Promise<T>) {
    try {
      return await run();
    } catch (error) {
      throw toPineconeError(error, action, collection);
    }
  }

  /** The index model, or undefined when it does not exist or is being deleted. */
  async function describe(pinecone: Pinecone, collection: string) {
    const name = indexNameFor(collection);
    try {
      const model = await pinecone.describeIndex(name);
      return model.status?.state === 'Terminating' ? undefined : model;
    } catch (error) {
      if (pineconeErrorStatus(error) === 404) return undefined;
      throw toPineconeError(error, 'describeIndex');
    }
  }

  async function handleOf(pinecone: Pinecone, collection: string): Promise<IndexHandle> {
    const cached = handles.get(collection);
    if (cached) return cached;
    const model = await describe(pinecone, collection);
    if (!model) {
      throw new NotFoundError({
        source,
        message: `Collection "${collection}" (a Pinecone index) does not exist; call ensureCollection first.`,
      });
    }
    const name = indexNameFor(collection);
    const handle: IndexHandle = {
      index: pinecone.index<RecordMetadata>({
        name,
        host: hostUrl(model.host, name),
        ...(namespace ? { namespace } : {}),
      }),
      dimensions: model.dimension ?? 0,
    };
    handles.set(collection, handle);
    return handle;
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
    const pinecone = open(abortSignal);
    positiveInteger(dimensions, 'dimensions');
    const name = indexNameFor(collection);
    const timeoutSeconds = options.indexReadyTimeoutSeconds ?? 300;
    const deadline = Date.now() + timeoutSeconds * 1000;
    let model = await describe(pinecone, collection);
    while (!model) {
      try {
        await pinecone.createIndex({
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
        if (pineconeErrorStatus(error) !== 409 || Date.now() > deadline) {
          throw toPineconeError(error, 'createIndex');
        }
        throwIfAborted(abortSignal, source);
        await sleep(1000);
      }
      model = await describe(pinecone, collection);
    }
    if (model.metric !== 'cosine') {
      throw new InvalidArgumentError({
        source,
        message: `Index "${name}" uses the ${model.metric} metric; this store needs cosine.`,
      });
    }
    if (model.dimension !== dimensions) {
      throw new DimensionMismatchError({
        source,
        expected: model.dimension ?? 0,
        actual: dimensions,
        message: `Collection "${collection}" holds ${model.dimension}-dimensional vectors, not ${dimensions}. Use the embedder it was created with, or another collection.`,
      });
    }
    handles.delete(collection);
  }

  async function upsert({ collection, records, abortSignal }: UpsertOptions) {
    const pinecone = open(abortSignal);
    if (records.length === 0) return;
    const { index, dimensions } = await handleOf(pinecone, collection);
    const prepared = records.map((record) => {
      if (typeof record.id !== 'string' || record.id.length === 0) {
        throw new InvalidArgumentError({
          source,
          message: 'Every record needs a non-empty string id.',
        });
      }
      checkLength(collection, dimensions, record.vector, `Record "${record.id}"`);
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
      throwIfAborted(abortSignal, source);
      await call('upsert', collection, () => index.upsert({ records: batch }));
    }
  }

  async function fetchRecords(
    index: Index<RecordMetadata>,
    collection: string,
    ids: readonly string[],
    includeVectors: boolean | undefined,
  ): Promise<Map<string, StoredRecord>> {
    const byId = new Map<string, StoredRecord>();
    for (const batch of chunk([...new Set(ids)], fetchBatchSize)) {
      const response = await call('fetch', collection, () => index.fetch({ ids: batch }));
      for (const stored of Object.values(response.records ?? {})) {
        byId.set(stored.id, fromPineconeRecord(stored, includeVectors));
      }
    }
    return byId;
  }

  /** Every id matching a filter, through a filtered query (Pinecone has no filtered listing). */
  async function matchingIds(
    index: Index<RecordMetadata>,
    collection: string,
    dimensions: number,
    filter: PineconeFilter,
  ): Promise<string[]> {
    const probe = Array.from({ length: dimensions }, (_, position) => (position === 0 ? 1 : 0));
    const response = await call('query', collection, () =>
      index.query({
        vector: probe,
        topK: maxTopK,
        filter,
        includeMetadata: false,
        includeValues: false,
      }),
    );
    return response.matches.map((match) => match.id);
  }

  function tooMany(action: string): never {
    throw new UnsupportedFunctionalityError({
      source,
      message: `${action} with a scope or filter matches ${maxTopK} or more records; Pinecone can only enumerate up to ${maxTopK - 1} filtered records exactly. Narrow the scope or filter.`,
    });
  }

  async function query(options: QueryOptions): Promise<VectorMatch[]> {
    const pinecone = open(options.abortSignal);
    if (!options.vector) {
      if (options.text !== undefined) {
        throw new UnsupportedFunctionalityError({
          source,
          message:
            'Pinecone indexes of dense vectors have no keyword search over the stored text; query with a vector (the engine fuses keyword relevance itself).',
        });
      }
      throw new InvalidArgumentError({ source, message: 'query needs a vector.' });
    }
    const filter = pineconeSelection(options.scope, options.filter);
    const { index, dimensions } = await handleOf(pinecone, options.collection);
    checkLength(options.collection, dimensions, options.vector, 'The query vector');
    if (filter === false || options.topK < 1) return [];
    if (options.topK > maxTopK) {
      throw new InvalidArgumentError({
        source,
        message: `topK is at most ${maxTopK} in Pinecone, got ${options.topK}.`,
      });
    }
    const vector = options.vector;
    if (options.topK <= maxTopKWithMetadata) {
      const response = await call('query', options.collection, () =>
        index.query({
          vector,
          topK: options.topK,
          ...(filter ? { filter } : {}),
          includeMetadata: true,
          includeValues: options.includeVectors ?? false,
        }),
      );
      return response.matches.map((match) => ({
        // Pinecone's cosine metric scores with the cosine similarity itself.
        score: match.score ?? 0,
        record: fromPineconeRecord(match, options.includeVectors),
      }));
    }
    // Above 1,000 Pinecone returns ids and scores only; the records are fetched after.
    const response = await call('query', options.collection, () =>
      index.query({
        vector,
        topK: options.topK,
        ...(filter ? { filter } : {}),
        includeMetadata: false,
        includeValues: false,
      }),
    );
    const records = await fetchRecords(
      index,
      options.collection,
      response.matches.map((match) => match.id),
      options.includeVectors,
    );
    return response.matches
      .filter((match) => records.has(match.id))
      .map((match) => ({ score: match.score ?? 0, record: records.get(match.id)! }));
  }

  async function get({ collection, ids, includeVectors, abortSignal }: GetOptions) {
    const pinecone = open(abortSignal);
    const { index } = await handleOf(pinecone, collection);
    if (ids.length === 0) return [];
    const byId = await fetchRecords(index, collection, ids, includeVectors);
    return ids.filter((id) => byId.has(id)).map((id) => byId.get(id)!);
  }

  async function deleteRecords(options: DeleteOptions) {
    const pinecone = open(options.abortSignal);
    const { collection } = options;
    if (options.ids) {
      const { index } = await handleOf(pinecone, collection);
      // Pinecone does not say how many records a delete removed, so fetch them first.
      const existing = [...(await fetchRecords(index, collection, options.ids, false)).keys()];
      for (const batch of chunk(existing, deleteBatchSize)) {
        await call('deleteMany', collection, () => index.deleteMany({ ids: batch }));
      }
      return { deleted: existing.length };
    }
    const scope = normalizeScope(options.scope, { source });
    if (!options.filter && Object.keys(scope).length === 0) {
      throw new InvalidArgumentError({
        source,
        message:
          'delete needs ids, a non-empty scope or a filter; use dropCollection to empty a collection.',
      });
    }
    const filter = pineconeSelection(scope, options.filter);
    const { index, dimensions } = await handleOf(pinecone, collection);
    if (filter === false) return { deleted: 0 };
    let deleted = 0;
    for (;;) {
      throwIfAborted(options.abortSignal, source);
      const ids = await matchingIds(index, collection, dimensions, filter ?? {});
      for (const batch of chunk(ids, deleteBatchSize)) {
        await call('deleteMany', collection, () => index.deleteMany({ ids: batch }));
      }
      deleted += ids.length;
      if (ids.length < maxTopK) return { deleted };
    }
  }

  async function list(options: ListOptions): Promise<ListPage> {
    const pinecone = open(options.abortSignal);
    positiveInteger(options.limit, 'limit');
    const cursor = decodePineconeCursor(options.cursor);
    const filter = pineconeSelection(options.scope, options.filter);
    const { index, dimensions } = await handleOf(pinecone, options.collection);
    if (filter === false) return { records: [] };
    if (filter === undefined && (cursor === undefined || 'token' in cursor)) {
      // Unfiltered: Pinecone's id listing with its own pagination token.
      const ids: string[] = [];
      let token = cursor?.token;
      do {
        const page = await call('listPaginated', options.collection, () =>
          index.listPaginated({
            limit: Math.min(100, options.limit - ids.length),
            ...(token ? { paginationToken: token } : {}),
          }),
        );
        ids.push(...(page.vectors ?? []).flatMap((item) => (item.id ? [item.id] : [])));
        token = page.pagination?.next;
      } while (token && ids.length < options.limit);
      const records = await fetchRecords(index, options.collection, ids, options.includeVectors);
      return {
        records: ids.filter((id) => records.has(id)).map((id) => records.get(id)!),
        ...(token ? { nextCursor: encodePineconeCursor({ token }) } : {}),
      };
    }
    if (cursor && 'token' in cursor) {
      throw new InvalidArgumentError({
        source,
        message: 'cursor belongs to an unfiltered listing; pass it with the same scope and filter.',
      });
    }
    // Filtered: every matching id (a filtered query), in id order, after the cursor.
    const all = await matchingIds(index, options.collection, dimensions, filter ?? {});
    if (all.length >= maxTopK) tooMany('list');
    const after = cursor?.after;
    const remaining = all.sort().filter((id) => after === undefined || id > after);
    const ids = remaining.slice(0, options.limit);
    const records = await fetchRecords(index, options.collection, ids, options.includeVectors);
    return {
      records: ids.filter((id) => records.has(id)).map((id) => records.get(id)!),
      ...(remaining.length > options.limit
        ? { nextCursor: encodePineconeCursor({ after: ids.at(-1)! }) }
        : {}),
    };
  }

  async function count(options: CountOptions) {
    const pinecone = open(options.abortSignal);
    const filter = pineconeSelection(options.scope, options.filter);
    const { index, dimensions } = await handleOf(pinecone, options.collection);
    if (filter === false) return 0;
    if (filter === undefined) {
      const stats = await call('describeIndexStats', options.collection, () =>
        index.describeIndexStats(),
      );
      const namespaces = stats.namespaces ?? {};
      const summary =
        namespaces[namespace] ?? (namespace === '' ? namespaces.__default__ : undefined);
      return summary?.recordCount ?? 0;
    }
    const ids = await matchingIds(index, options.collection, dimensions, filter);
    if (ids.length >= maxTopK) tooMany('count');
    return ids.length;
  }

  async function dropCollection({
    collection,
    abortSignal,
  }: {
    collection: string;
    abortSignal?: AbortSignal;
  }) {
    const pinecone = open(abortSignal);
    handles.delete(collection);
    try {
      await pinecone.deleteIndex(indexNameFor(collection));
    } catch (error) {
      if (pineconeErrorStatus(error) === 404) return;
      throw toPineconeError(error, 'deleteIndex');
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
