import { randomUUID } from 'node:crypto';
import {
  assertCollectionDimensions,
  assertDeleteSelection,
  assertPositiveInteger,
  assertQueryInput,
  assertRecords,
  assertVectorLength,
  chunk,
  defineVectorStore,
  optionalSettingLoader,
} from '@engram/adapter-kit';
import {
  AdapterCallError,
  decodeCursor,
  encodeCursor,
  type FilterExpression,
  type JsonValue,
  NotFoundError,
  normalizeScope,
  type Scope,
  type StoredRecord,
  scopeFields,
  type VectorRecord,
  type VectorStore,
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
  const dimensionsByCollection = new Map<string, number>();
  const numCandidatesFactor = options.numCandidatesFactor ?? 20;
  const indexTimeoutMs = options.indexTimeoutMs ?? 120_000;
  const waitForIndexing = options.waitForIndexing ?? true;
  const exactSearch = options.exactSearch ?? false;
  const setting = optionalSettingLoader(source);

  function db(): Db {
    client ??= new MongoClient(
      setting(options.url, 'url', 'MONGODB_URL') ??
        setting(undefined, 'url', 'MONGODB_URI') ??
        'mongodb://localhost:27017/?directConnection=true',
    );
    return client.db(setting(options.database, 'database', 'MONGODB_DATABASE') ?? 'engram');
  }

  /** The search indexes of a collection; none when the collection does not exist (code 26). */
  async function searchIndexes(collection: Collection): Promise<SearchIndexInfo[]> {
    try {
      return (await collection.listSearchIndexes().toArray()) as SearchIndexInfo[];
    } catch (error) {
      if (mongoDBErrorCode(error) === 26) return [];
      throw error;
    }
  }

  /** The collection's vector length; `NotFoundError` unless ensureCollection prepared it. */
  async function prepared(name: string): Promise<number> {
    const cached = dimensionsByCollection.get(name);
    if (cached !== undefined) return cached;
    const indexes = await searchIndexes(db().collection(name));
    const dimensions = vectorDimensions(indexes.find((index) => index.name === vectorIndexName));
    if (dimensions === undefined) {
      throw new NotFoundError({
        source,
        message: `Collection "${name}" does not exist; call ensureCollection first.`,
      });
    }
    dimensionsByCollection.set(name, dimensions);
    return dimensions;
  }

  /** Waits until both search indexes hold every document written with `token`. */
  async function waitUntilIndexed(
    collection: Collection,
    dimensions: number,
    token: string,
    expected: number,
    check: () => void,
  ) {
    const probe = Array.from({ length: dimensions }, (_, index) => (index === 0 ? 1 : 0));
    const vectorSearch = {
      index: vectorIndexName,
      path: 'vector',
      queryVector: probe,
      filter: { [writeField]: { $eq: token } },
      exact: true,
      limit: expected,
    };
    const search = { index: textIndexName, equals: { path: writeField, value: token } };
    const deadline = Date.now() + indexTimeoutMs;
    let delay = 50;
    for (;;) {
      const hits = await Promise.all(
        [{ $vectorSearch: vectorSearch }, { $search: search }].map(async (stage) => {
          const [result] = await collection.aggregate([stage, { $count: 'count' }]).toArray();
          return (result?.count as number | undefined) ?? 0;
        }),
      );
      if (hits.every((count) => count >= expected)) return;
      if (Date.now() > deadline) {
        throw new AdapterCallError({
          source,
          message: `The records were written but not indexed for search within ${indexTimeoutMs} ms; queries may miss them for a while.`,
          isRetryable: true,
        });
      }
      check();
      await sleep(delay);
      delay = Math.min(delay * 2, 500);
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
    const documents = await collection.aggregate(pipeline).toArray();
    return documents.map((document) => ({
      score: Number(document._score),
      record: fromMongoDBDocument(document, includeVectors),
    }));
  }

  return defineVectorStore({
    provider: source,
    capabilities: {
      keywordSearch: true,
      filterOperators: mongoDBFilterOperators,
      maxBatchSize,
      metric: 'cosine',
      atomicHistory: false,
    },
    toError: toMongoDBError,
    onClose: async () => {
      if (ownsClient && client) await client.close();
    },
    methods: (lifecycle) => ({
      async ensureCollection({ collection: name, dimensions, abortSignal }) {
        assertPositiveInteger(dimensions, 'dimensions', source);
        await db()
          .createCollection(name)
          .catch((error: unknown) => {
            if (mongoDBErrorCode(error) !== 48) throw error;
          });
        const collection = db().collection(name);
        await collection.createIndexes(
          scopeFields.map((field) => ({ key: { [field]: 1 }, name: `engram_${field}` })),
        );
        const deadline = Date.now() + indexTimeoutMs;
        for (;;) {
          let indexes: SearchIndexInfo[];
          try {
            indexes = await searchIndexes(collection);
          } catch (error) {
            // 31082/115: a server without Atlas Search (plain mongod) will never get there.
            const code = mongoDBErrorCode(error);
            if (code === 31082 || code === 115 || Date.now() > deadline) throw error;
            await sleep(500);
            continue;
          }
          const vector = indexes.find((index) => index.name === vectorIndexName);
          const text = indexes.find((index) => index.name === textIndexName);
          const existing = vectorDimensions(vector);
          if (existing !== undefined) {
            assertCollectionDimensions({
              source,
              collection: name,
              existing,
              requested: dimensions,
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
              if (Date.now() > deadline) throw error;
            }
          }
          if (Date.now() > deadline) {
            throw new AdapterCallError({
              source,
              message: `The search indexes of collection "${name}" did not become queryable within ${indexTimeoutMs} ms.`,
              isRetryable: true,
            });
          }
          lifecycle.check(abortSignal);
          await sleep(500);
        }
      },

      async upsert({ collection: name, records, abortSignal }) {
        if (records.length === 0) return;
        const dimensions = await prepared(name);
        assertRecords(records, { source, dimensions, collection: name });
        const collection = db().collection(name);
        const token = randomUUID();
        for (const batch of chunk(records, maxBatchSize)) {
          lifecycle.check(abortSignal);
          const writes = batch.map((record) => ({
            replaceOne: {
              filter: { _id: record.id as never },
              replacement: toMongoDBDocument(record, token),
              upsert: true,
            },
          }));
          await collection.bulkWrite(writes, { ordered: false });
        }
        if (waitForIndexing) {
          const written = new Set(records.map((record) => record.id)).size;
          await waitUntilIndexed(collection, dimensions, token, written, () =>
            lifecycle.check(abortSignal),
          );
        }
      },

      async query({ collection: name, vector, text, topK, scope, filter, includeVectors }) {
        assertQueryInput({ vector, text }, source);
        const selection = mongoDBSelection(scope, filter);
        const dimensions = await prepared(name);
        const collection = db().collection(name);
        const finish = [{ $project: { ...projection(includeVectors), _score: 1 } }];
        const match =
          selection !== false && Object.keys(selection.query).length > 0
            ? [{ $match: selection.query }]
            : [];
        if (!vector) {
          if (selection === false || topK < 1 || !text?.trim()) return [];
          const equals = scopeConditions(selection.scope).map((condition) => {
            const [path, value] = Object.entries(condition)[0]!;
            return { equals: { path, value: (value as { $eq: string }).$eq } };
          });
          const compound = {
            must: [{ text: { query: text, path: 'text' } }],
            ...(equals.length > 0 ? { filter: equals } : {}),
          };
          // $search streams every hit best first, so the exact $match still runs before $limit.
          return aggregateMatches(
            collection,
            [
              { $search: { index: textIndexName, compound } },
              ...match,
              { $limit: topK },
              { $addFields: { _score: { $meta: 'searchScore' } } },
              ...finish,
            ],
            includeVectors,
          );
        }
        const what = 'The query vector';
        assertVectorLength(vector, dimensions, { source, what, collection: name });
        if (selection === false || topK < 1) return [];
        if (selection.filtered || topK > maxVectorSearchLimit) {
          // Metadata keys are free-form, so they cannot all be `filter` fields of the vector index:
          // filtered queries score exactly over the documents the MQL filter selects (through the
          // scope indexes), which keeps the filter before topK.
          return aggregateMatches(
            collection,
            [
              ...match,
              { $addFields: { _score: cosineExpression(vector) } },
              { $sort: { _score: -1, _id: 1 } },
              { $limit: topK },
              ...finish,
            ],
            includeVectors,
          );
        }
        const candidates = Math.min(
          maxVectorSearchLimit,
          Math.max(topK * numCandidatesFactor, topK),
        );
        const vectorSearch = {
          index: vectorIndexName,
          path: 'vector',
          queryVector: vector,
          limit: topK,
          ...(exactSearch ? { exact: true } : { numCandidates: candidates }),
          ...(match.length > 0 ? { filter: selection.query } : {}),
        };
        const matches = await aggregateMatches(
          collection,
          [
            { $vectorSearch: vectorSearch },
            { $addFields: { _score: { $meta: 'vectorSearchScore' } } },
            // The index follows writes asynchronously; re-checking the scope on the stored document
            // keeps a record that just moved to another scope out.
            ...match,
            ...finish,
          ],
          includeVectors,
        );
        return matches.map((found) => ({
          ...found,
          score: cosineFromVectorSearchScore(found.score),
        }));
      },

      async get({ collection: name, ids, includeVectors }) {
        await prepared(name);
        const byId = new Map<string, StoredRecord>();
        for (const batch of chunk([...new Set(ids)], maxBatchSize)) {
          const documents = await db()
            .collection(name)
            .find({ _id: { $in: batch as never[] } }, { projection: projection(includeVectors) })
            .toArray();
          for (const document of documents) {
            const record = fromMongoDBDocument(document, includeVectors);
            byId.set(record.id, record);
          }
        }
        return ids.filter((id) => byId.has(id)).map((id) => byId.get(id)!);
      },

      async delete({ collection: name, ids, scope, filter }) {
        const collection = db().collection(name);
        if (ids) {
          await prepared(name);
          let deleted = 0;
          for (const batch of chunk([...new Set(ids)], maxBatchSize)) {
            const result = await collection.deleteMany({ _id: { $in: batch as never[] } });
            deleted += result.deletedCount;
          }
          return { deleted };
        }
        const normalized = normalizeScope(scope, { source });
        assertDeleteSelection({ scope: normalized, filter }, source);
        const selection = mongoDBSelection(normalized, filter);
        await prepared(name);
        if (selection === false) return { deleted: 0 };
        return { deleted: (await collection.deleteMany(selection.query)).deletedCount };
      },

      async list({ collection, limit, cursor, scope, filter, includeVectors }) {
        assertPositiveInteger(limit, 'limit', source);
        const after = decodeCursor(cursor, source);
        const selection = mongoDBSelection(scope, filter);
        await prepared(collection);
        if (selection === false) return { records: [] };
        const query = allOf([
          ...(Object.keys(selection.query).length > 0 ? [selection.query] : []),
          ...(after === undefined ? [] : [{ _id: { $gt: after } }]),
        ]);
        const documents = await db()
          .collection(collection)
          .find(query, {
            projection: projection(includeVectors),
            sort: { _id: 1 },
            limit: limit + 1,
          })
          .toArray();
        const page = documents.slice(0, limit);
        const last = page.at(-1);
        return {
          records: page.map((document) => fromMongoDBDocument(document, includeVectors)),
          ...(documents.length > limit && last
            ? { nextCursor: encodeCursor(String(last._id)) }
            : {}),
        };
      },

      async count({ collection, scope, filter }) {
        const selection = mongoDBSelection(scope, filter);
        await prepared(collection);
        if (selection === false) return 0;
        return db().collection(collection).countDocuments(selection.query);
      },

      async dropCollection({ collection }) {
        dimensionsByCollection.delete(collection);
        await db()
          .collection(collection)
          .drop()
          .catch((error: unknown) => {
            if (mongoDBErrorCode(error) !== 26) throw error;
          });
      },
    }),
  });
}
