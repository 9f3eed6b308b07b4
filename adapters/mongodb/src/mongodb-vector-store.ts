import { randomUUID } from 'node:crypto';
import {
  AdapterCallError,
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
  type UpsertOptions,
  type VectorMatch,
  type VectorRecord,
  type VectorStore,
  type VectorStoreCapabilities,
  validateFilter,
} from '@engram/core';
import { type Collection, type Db, type Document, MongoClient } from 'mongodb';
import { mongoDBErrorCode, toMongoDBError } from './mongodb-errors.js';
import {
  filterField,
  mongoDBFilterFields,
  mongoDBFilterOperators,
  translateMongoDBFilter,
} from './mongodb-filter.js';

const source = 'mongodb';

/** Options of {@link createMongoDBVectorStore}. */
export interface MongoDBVectorStoreOptions {
  /** A connected (or connectable) `MongoClient` to use instead of `url`; the store never closes it. */
  client?: MongoClient;
  /**
   * Connection string of an Atlas cluster or an Atlas Local deployment (search needs `mongot`).
   * Default: `MONGODB_URL`, else `MONGODB_URI`, else
   * `mongodb://localhost:27017/?directConnection=true`.
   */
  url?: string;
  /** Database holding the collections. Default: `MONGODB_DATABASE`, else `engram`. */
  database?: string;
  /**
   * Candidates the approximate `$vectorSearch` considers per requested match (`numCandidates =
   * topK * factor`, at most 10,000). Default 20, the ratio MongoDB recommends as a start.
   */
  numCandidatesFactor?: number;
  /** Run unfiltered vector queries as exact (ENN) `$vectorSearch` instead of HNSW. Default false. */
  exactSearch?: boolean;
  /**
   * After each upsert, wait until both search indexes have applied it, so that the next query
   * sees it (Atlas Search indexes follow the collection asynchronously, usually within a second).
   * Default true; turn off for bulk loads that tolerate a short lag.
   */
  waitForIndexing?: boolean;
  /**
   * How long `ensureCollection` waits for new search indexes to become queryable, and an upsert
   * for its writes to be indexed, in ms. Default 120,000.
   */
  indexTimeoutMs?: number;
}

/** Name of the Atlas Vector Search index the store creates on each collection. */
export const vectorIndexName = 'engram_vector';
/** Name of the Atlas Search (BM25) index the store creates on each collection. */
export const textIndexName = 'engram_text';

const writeField = '_write';
const normField = '_norm';
const maxBatchSize = 1000;
const maxVectorSearchLimit = 10_000;
const hiddenFields = { [filterField]: 0, [writeField]: 0, [normField]: 0 };

/** The Atlas Vector Search index: the cosine vector plus the scope fields as pre-filters. */
export function vectorIndexDefinition(dimensions: number): Document {
  return {
    name: vectorIndexName,
    type: 'vectorSearch',
    definition: {
      fields: [
        { type: 'vector', path: 'vector', numDimensions: dimensions, similarity: 'cosine' },
        ...scopeFields.map((field) => ({ type: 'filter', path: field })),
        { type: 'filter', path: writeField },
      ],
    },
  };
}

/** The Atlas Search index: BM25 over the text, scope ids as exact tokens. */
export function textIndexDefinition(): Document {
  return {
    name: textIndexName,
    type: 'search',
    definition: {
      mappings: {
        dynamic: false,
        fields: {
          text: { type: 'string', analyzer: 'lucene.standard' },
          ...Object.fromEntries(scopeFields.map((field) => [field, { type: 'token' }])),
          [writeField]: { type: 'token' },
        },
      },
    },
  };
}

/** The stored document of a record. */
export function toMongoDBDocument(record: VectorRecord, writeToken: string): Document {
  const document: Document = {
    _id: record.id,
    text: record.text,
    metadata: record.metadata,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    vector: record.vector,
    [normField]: Math.hypot(...record.vector),
    [filterField]: mongoDBFilterFields(record.metadata),
    [writeField]: writeToken,
  };
  if (record.hash !== undefined) document.hash = record.hash;
  for (const field of scopeFields) if (record[field] !== undefined) document[field] = record[field];
  return document;
}

/** Rebuilds a record from a stored document. */
export function fromMongoDBDocument(document: Document, includeVectors?: boolean): StoredRecord {
  const record: StoredRecord = {
    id: String(document._id),
    text: typeof document.text === 'string' ? document.text : '',
    metadata: (document.metadata ?? {}) as Record<string, JsonValue>,
    createdAt: String(document.createdAt ?? ''),
    updatedAt: String(document.updatedAt ?? ''),
  };
  if (typeof document.hash === 'string') record.hash = document.hash;
  for (const field of scopeFields) {
    if (typeof document[field] === 'string') record[field] = document[field];
  }
  if (includeVectors && Array.isArray(document.vector)) record.vector = document.vector;
  return record;
}

/** Atlas Vector Search reports cosine as `(1 + cosine) / 2`; this turns it back into the cosine. */
export function cosineFromVectorSearchScore(score: number): number {
  return score * 2 - 1;
}

/** The exact cosine of the stored vector and `vector`, as an aggregation expression. */
export function cosineExpression(vector: readonly number[]): Document {
  const norm = Math.hypot(...vector);
  const dot = {
    $reduce: {
      input: { $zip: { inputs: ['$vector', { $literal: vector }] } },
      initialValue: 0,
      in: {
        $add: [
          '$$value',
          { $multiply: [{ $arrayElemAt: ['$$this', 0] }, { $arrayElemAt: ['$$this', 1] }] },
        ],
      },
    },
  };
  if (norm === 0) return { $literal: 0 };
  return {
    $cond: [
      { $gt: [`$${normField}`, 0] },
      { $divide: [dot, { $multiply: [`$${normField}`, norm] }] },
      0,
    ],
  };
}

/** Scope fields as equality conditions (valid both in MQL and in `$vectorSearch.filter`). */
function scopeConditions(scope: Scope): Document[] {
  return scopeFields
    .filter((field) => scope[field] !== undefined)
    .map((field) => ({ [field]: { $eq: scope[field] } }));
}

function allOf(conditions: Document[]): Document {
  if (conditions.length === 0) return {};
  return conditions.length === 1 ? conditions[0]! : { $and: conditions };
}

/** Scope and portable filter as one MQL query; `false` when nothing can match. */
export function mongoDBSelection(
  scope: Scope | undefined,
  filter: FilterExpression | undefined,
): { query: Document; scope: Scope; filtered: boolean } | false {
  const normalized = normalizeScope(scope, { source });
  const conditions = scopeConditions(normalized);
  let filtered = false;
  if (filter) {
    const translated = translateMongoDBFilter(validateFilter(filter));
    if (translated === false) return false;
    if (translated !== true) {
      conditions.push(translated);
      filtered = true;
    }
  }
  return { query: allOf(conditions), scope: normalized, filtered };
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

interface SearchIndexInfo {
  name?: string;
  status?: string;
  queryable?: boolean;
  latestDefinition?: Document;
  definition?: Document;
}

function vectorDimensions(index: SearchIndexInfo | undefined): number | undefined {
  const definition = index?.latestDefinition ?? index?.definition;
  const fields = (definition?.fields ?? []) as Document[];
  const vector = fields.find((field) => field.type === 'vector');
  return typeof vector?.numDimensions === 'number' ? vector.numDimensions : undefined;
}

/**
 * A MongoDB Atlas vector store: one collection per Engram collection, `$vectorSearch` (cosine)
 * for similarity, `$search` (BM25) for keywords, plain MQL for list, count and delete.
 */
export function createMongoDBVectorStore(options: MongoDBVectorStoreOptions = {}): VectorStore {
  let client: MongoClient | undefined = options.client;
  const ownsClient = options.client === undefined;
  let closed = false;
  const dimensionsByCollection = new Map<string, number>();
  const numCandidatesFactor = options.numCandidatesFactor ?? 20;
  const indexTimeoutMs = options.indexTimeoutMs ?? 120_000;
  const waitForIndexing = options.waitForIndexing ?? true;
  const exactSearch = options.exactSearch ?? false;

  const capabilities: VectorStoreCapabilities = {
    keywordSearch: true,
    filterOperators: mongoDBFilterOperators,
    maxBatchSize,
    metric: 'cosine',
    atomicHistory: false,
  };

  function open(signal: AbortSignal | undefined): Db {
    if (closed)
      throw new ClosedError({ source, message: 'The store was closed; create a new one.' });
    throwIfAborted(signal, source);
    client ??= new MongoClient(
      options.url ??
        process.env.MONGODB_URL ??
        process.env.MONGODB_URI ??
        'mongodb://localhost:27017/?directConnection=true',
    );
    return client.db(options.database ?? process.env.MONGODB_DATABASE ?? 'engram');
  }

  async function call<T>(action: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw toMongoDBError(error, action);
    }
  }

  function notFound(collection: string, cause?: unknown): NotFoundError {
    return new NotFoundError({
      source,
      message: `Collection "${collection}" does not exist; call ensureCollection first.`,
      ...(cause === undefined ? {} : { cause }),
    });
  }

  async function searchIndexes(collection: Collection): Promise<SearchIndexInfo[]> {
    try {
      return (await collection.listSearchIndexes().toArray()) as SearchIndexInfo[];
    } catch (error) {
      if (mongoDBErrorCode(error) === 26) return [];
      throw toMongoDBError(error, 'listSearchIndexes');
    }
  }

  /** The collection's vector length; `NotFoundError` unless ensureCollection prepared it. */
  async function prepared(db: Db, name: string): Promise<number> {
    const cached = dimensionsByCollection.get(name);
    if (cached !== undefined) return cached;
    const dimensions = vectorDimensions(
      (await searchIndexes(db.collection(name))).find((index) => index.name === vectorIndexName),
    );
    if (dimensions === undefined) throw notFound(name);
    dimensionsByCollection.set(name, dimensions);
    return dimensions;
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
    collection: name,
    dimensions,
    abortSignal,
  }: EnsureCollectionOptions) {
    const db = open(abortSignal);
    positiveInteger(dimensions, 'dimensions');
    try {
      await db.createCollection(name);
    } catch (error) {
      if (mongoDBErrorCode(error) !== 48) throw toMongoDBError(error, 'createCollection');
    }
    const collection = db.collection(name);
    await call('createIndexes', () =>
      collection.createIndexes(
        scopeFields.map((field) => ({ key: { [field]: 1 }, name: `engram_${field}` })),
      ),
    );
    const deadline = Date.now() + indexTimeoutMs;
    for (;;) {
      let indexes: SearchIndexInfo[];
      try {
        indexes = await searchIndexes(collection);
      } catch (error) {
        // 31082/115: a server without Atlas Search (plain mongod) will never get there.
        const code = mongoDBErrorCode((error as { cause?: unknown }).cause);
        if (code === 31082 || code === 115 || Date.now() > deadline) throw error;
        await sleep(500);
        continue;
      }
      const vector = indexes.find((index) => index.name === vectorIndexName);
      const text = indexes.find((index) => index.name === textIndexName);
      const existing = vectorDimensions(vector);
      if (existing !== undefined && existing !== dimensions) {
        throw new DimensionMismatchError({
          source,
          expected: existing,
          actual: dimensions,
          message: `Collection "${name}" holds ${existing}-dimensional vectors, not ${dimensions}. Use the embedder it was created with, or another collection.`,
        });
      }
      const failed = [vector, text].find((index) => index?.status === 'FAILED');
      if (failed) {
        throw new AdapterCallError({
          source,
          message: `Search index "${failed.name}" of collection "${name}" failed to build; drop and recreate the collection.`,
        });
      }
      if (vector?.queryable === true && text?.queryable === true) {
        dimensionsByCollection.set(name, dimensions);
        return;
      }
      const missing = [
        ...(vector ? [] : [vectorIndexDefinition(dimensions)]),
        ...(text ? [] : [textIndexDefinition()]),
      ];
      if (missing.length > 0) {
        try {
          await collection.createSearchIndexes(missing as never);
        } catch (error) {
          // 68: another caller created it first. Anything else right after start-up is usually
          // mongot not accepting commands yet; both are retried until the deadline.
          if (Date.now() > deadline) throw toMongoDBError(error, 'createSearchIndexes');
        }
      }
      if (Date.now() > deadline) {
        throw new AdapterCallError({
          source,
          message: `The search indexes of collection "${name}" did not become queryable within ${indexTimeoutMs} ms.`,
          isRetryable: true,
        });
      }
      throwIfAborted(abortSignal, source);
      await sleep(500);
    }
  }

  /** Waits until both search indexes hold every document written with `token`. */
  async function waitUntilIndexed(
    collection: Collection,
    dimensions: number,
    token: string,
    expected: number,
    signal: AbortSignal | undefined,
  ) {
    const probe = Array.from({ length: dimensions }, (_, index) => (index === 0 ? 1 : 0));
    const deadline = Date.now() + indexTimeoutMs;
    let delay = 50;
    for (;;) {
      const [vectorHits, textHits] = await Promise.all([
        call('$vectorSearch', () =>
          collection
            .aggregate([
              {
                $vectorSearch: {
                  index: vectorIndexName,
                  path: 'vector',
                  queryVector: probe,
                  filter: { [writeField]: { $eq: token } },
                  exact: true,
                  limit: expected,
                },
              },
              { $count: 'count' },
            ])
            .toArray(),
        ),
        call('$search', () =>
          collection
            .aggregate([
              { $search: { index: textIndexName, equals: { path: writeField, value: token } } },
              { $count: 'count' },
            ])
            .toArray(),
        ),
      ]);
      if ((vectorHits[0]?.count ?? 0) >= expected && (textHits[0]?.count ?? 0) >= expected) return;
      if (Date.now() > deadline) {
        throw new AdapterCallError({
          source,
          message: `The records were written but not indexed for search within ${indexTimeoutMs} ms; queries may miss them for a while.`,
          isRetryable: true,
        });
      }
      throwIfAborted(signal, source);
      await sleep(delay);
      delay = Math.min(delay * 2, 500);
    }
  }

  async function upsert({ collection: name, records, abortSignal }: UpsertOptions) {
    const db = open(abortSignal);
    if (records.length === 0) return;
    const dimensions = await prepared(db, name);
    for (const record of records) {
      if (typeof record.id !== 'string' || record.id.length === 0) {
        throw new InvalidArgumentError({
          source,
          message: 'Every record needs a non-empty string id.',
        });
      }
      checkLength(name, dimensions, record.vector, `Record "${record.id}"`);
    }
    const collection = db.collection(name);
    const token = randomUUID();
    for (const batch of chunk(records, maxBatchSize)) {
      throwIfAborted(abortSignal, source);
      await call('bulkWrite', () =>
        collection.bulkWrite(
          batch.map((record) => ({
            replaceOne: {
              filter: { _id: record.id as never },
              replacement: toMongoDBDocument(record, token),
              upsert: true,
            },
          })),
          { ordered: false },
        ),
      );
    }
    if (waitForIndexing) {
      const written = new Set(records.map((record) => record.id)).size;
      await waitUntilIndexed(collection, dimensions, token, written, abortSignal);
    }
  }

  function projection(includeVectors: boolean | undefined): Document {
    return includeVectors ? hiddenFields : { ...hiddenFields, vector: 0 };
  }

  async function aggregateMatches(
    collection: Collection,
    pipeline: Document[],
    includeVectors?: boolean,
  ) {
    const documents = await call('aggregate', () => collection.aggregate(pipeline).toArray());
    return documents.map((document) => ({
      score: Number(document._score),
      record: fromMongoDBDocument(document, includeVectors),
    }));
  }

  async function query(options: QueryOptions): Promise<VectorMatch[]> {
    const db = open(options.abortSignal);
    const selection = mongoDBSelection(options.scope, options.filter);
    const dimensions = await prepared(db, options.collection);
    const collection = db.collection(options.collection);
    const finish = [{ $project: { ...projection(options.includeVectors), _score: 1 } }];
    if (!options.vector) {
      if (options.text === undefined) {
        throw new InvalidArgumentError({ source, message: 'query needs a vector or a text.' });
      }
      if (selection === false || options.topK < 1 || options.text.trim() === '') return [];
      const equals = scopeConditions(selection.scope).map((condition) => {
        const [path, value] = Object.entries(condition)[0]!;
        return { equals: { path, value: (value as { $eq: string }).$eq } };
      });
      // $search streams every hit best first, so the exact $match still runs before $limit.
      return aggregateMatches(
        collection,
        [
          {
            $search: {
              index: textIndexName,
              compound: {
                must: [{ text: { query: options.text, path: 'text' } }],
                ...(equals.length > 0 ? { filter: equals } : {}),
              },
            },
          },
          ...(Object.keys(selection.query).length > 0 ? [{ $match: selection.query }] : []),
          { $limit: options.topK },
          { $addFields: { _score: { $meta: 'searchScore' } } },
          ...finish,
        ],
        options.includeVectors,
      );
    }
    checkLength(options.collection, dimensions, options.vector, 'The query vector');
    if (selection === false || options.topK < 1) return [];
    if (selection.filtered || options.topK > maxVectorSearchLimit) {
      // Metadata keys are free-form, so they cannot all be `filter` fields of the vector index:
      // filtered queries score exactly over the documents the MQL filter selects (through the
      // scope indexes), which keeps the filter before topK.
      return aggregateMatches(
        collection,
        [
          ...(Object.keys(selection.query).length > 0 ? [{ $match: selection.query }] : []),
          { $addFields: { _score: cosineExpression(options.vector) } },
          { $sort: { _score: -1, _id: 1 } },
          { $limit: options.topK },
          ...finish,
        ],
        options.includeVectors,
      );
    }
    const matches = await aggregateMatches(
      collection,
      [
        {
          $vectorSearch: {
            index: vectorIndexName,
            path: 'vector',
            queryVector: options.vector,
            limit: options.topK,
            ...(exactSearch
              ? { exact: true }
              : {
                  numCandidates: Math.min(
                    maxVectorSearchLimit,
                    Math.max(options.topK * numCandidatesFactor, options.topK),
                  ),
                }),
            ...(Object.keys(selection.query).length > 0 ? { filter: selection.query } : {}),
          },
        },
        { $addFields: { _score: { $meta: 'vectorSearchScore' } } },
        // The index follows writes asynchronously; re-checking the scope on the stored document
        // keeps a record that just moved to another scope out.
        ...(Object.keys(selection.query).length > 0 ? [{ $match: selection.query }] : []),
        ...finish,
      ],
      options.includeVectors,
    );
    return matches.map((match) => ({ ...match, score: cosineFromVectorSearchScore(match.score) }));
  }

  async function get({ collection: name, ids, includeVectors, abortSignal }: GetOptions) {
    const db = open(abortSignal);
    await prepared(db, name);
    if (ids.length === 0) return [];
    const byId = new Map<string, StoredRecord>();
    for (const batch of chunk([...new Set(ids)], maxBatchSize)) {
      const documents = await call('find', () =>
        db
          .collection(name)
          .find({ _id: { $in: batch as never[] } }, { projection: projection(includeVectors) })
          .toArray(),
      );
      for (const document of documents) {
        const record = fromMongoDBDocument(document, includeVectors);
        byId.set(record.id, record);
      }
    }
    return ids.filter((id) => byId.has(id)).map((id) => byId.get(id)!);
  }

  async function deleteRecords(options: DeleteOptions) {
    const db = open(options.abortSignal);
    const collection = db.collection(options.collection);
    if (options.ids) {
      await prepared(db, options.collection);
      let deleted = 0;
      for (const batch of chunk([...new Set(options.ids)], maxBatchSize)) {
        const result = await call('deleteMany', () =>
          collection.deleteMany({ _id: { $in: batch as never[] } }),
        );
        deleted += result.deletedCount;
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
    const selection = mongoDBSelection(scope, options.filter);
    await prepared(db, options.collection);
    if (selection === false) return { deleted: 0 };
    const result = await call('deleteMany', () => collection.deleteMany(selection.query));
    return { deleted: result.deletedCount };
  }

  async function list(options: ListOptions): Promise<ListPage> {
    const db = open(options.abortSignal);
    positiveInteger(options.limit, 'limit');
    const after = decodeCursor(options.cursor, source);
    const selection = mongoDBSelection(options.scope, options.filter);
    await prepared(db, options.collection);
    if (selection === false) return { records: [] };
    const query = allOf([
      ...(Object.keys(selection.query).length > 0 ? [selection.query] : []),
      ...(after === undefined ? [] : [{ _id: { $gt: after } }]),
    ]);
    const documents = await call('find', () =>
      db
        .collection(options.collection)
        .find(query, {
          projection: projection(options.includeVectors),
          sort: { _id: 1 },
          limit: options.limit + 1,
        })
        .toArray(),
    );
    const page = documents.slice(0, options.limit);
    const last = page.at(-1);
    return {
      records: page.map((document) => fromMongoDBDocument(document, options.includeVectors)),
      ...(documents.length > options.limit && last
        ? { nextCursor: encodeCursor(String(last._id)) }
        : {}),
    };
  }

  async function count(options: CountOptions) {
    const db = open(options.abortSignal);
    const selection = mongoDBSelection(options.scope, options.filter);
    await prepared(db, options.collection);
    if (selection === false) return 0;
    return call('countDocuments', () =>
      db.collection(options.collection).countDocuments(selection.query),
    );
  }

  async function dropCollection({
    collection,
    abortSignal,
  }: {
    collection: string;
    abortSignal?: AbortSignal;
  }) {
    const db = open(abortSignal);
    dimensionsByCollection.delete(collection);
    try {
      await db.collection(collection).drop();
    } catch (error) {
      if (mongoDBErrorCode(error) !== 26) throw toMongoDBError(error, 'drop');
    }
  }

  async function close() {
    if (closed) return;
    closed = true;
    if (ownsClient && client) await client.close();
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
