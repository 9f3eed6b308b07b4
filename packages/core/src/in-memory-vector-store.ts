import { scoreBM25 } from './bm25.js';
import {
  ClosedError,
  DimensionMismatchError,
  InvalidArgumentError,
  NotFoundError,
  throwIfAborted,
} from './errors.js';
import { filterOperators, matchesFilter } from './filter.js';
import { checkHistoryEventNamespaces } from './history-namespace.js';
import type { HistoryEvent, HistoryStore } from './history-store.js';
import { createInMemoryHistoryStore } from './in-memory-history-store.js';
import { decodeCursor, encodeCursor } from './pagination.js';
import { matchesScope, normalizeScope } from './scope.js';
import { neighboursInWriteOrder } from './search-context.js';
import { cosineSimilarity } from './similarity.js';
import type {
  AdjacentOptions,
  CommitOptions,
  CountOptions,
  DeleteOptions,
  GetOptions,
  ListOptions,
  ListPage,
  QueryOptions,
  StatsOptions,
  StoredRecord,
  UpsertOptions,
  VectorMatch,
  VectorRecord,
  VectorStore,
  VectorStoreCapabilities,
} from './vector-store.js';

interface Collection {
  dimensions: number;
  records: Map<string, VectorRecord>;
}

/** A vector store that is also a history store, committing both atomically. */
export type InMemoryStore = VectorStore &
  HistoryStore & { commit(options: CommitOptions): Promise<void> };

const source = 'memory';

/**
 * The reference store: everything in process memory, exact (brute-force) search, every filter
 * operator, BM25 keyword search. Used by tests and as the semantics other adapters must match.
 */
export function createInMemoryStore(): InMemoryStore {
  const collections = new Map<string, Collection>();
  const history = createInMemoryHistoryStore();
  let closed = false;

  const capabilities: VectorStoreCapabilities = {
    keywordSearch: true,
    filterOperators,
    maxBatchSize: 10_000,
    metric: 'cosine',
    atomicHistory: true,
  };

  function open(signal?: AbortSignal): void {
    if (closed)
      throw new ClosedError({ source, message: 'The store was closed; create a new one.' });
    throwIfAborted(signal, source);
  }

  function collectionOf(name: string): Collection {
    const collection = collections.get(name);
    if (!collection) {
      throw new NotFoundError({
        source,
        message: `Collection "${name}" does not exist; call ensureCollection first.`,
      });
    }
    return collection;
  }

  function output(record: VectorRecord, includeVectors: boolean | undefined): StoredRecord {
    const copy = structuredClone(record) as StoredRecord;
    if (!includeVectors) delete copy.vector;
    // Core's BM25 segments the text itself; the keyword form is not part of what is stored.
    delete copy.keywordText;
    return copy;
  }

  function selected(collection: Collection, options: Pick<ListOptions, 'scope' | 'filter'>) {
    const scope = normalizeScope(options.scope, { source });
    const result: VectorRecord[] = [];
    for (const record of collection.records.values()) {
      if (!matchesScope(record, scope)) continue;
      if (options.filter && !matchesFilter(options.filter, record.metadata)) continue;
      result.push(record);
    }
    return result;
  }

  function checkRecords(collection: Collection, records: VectorRecord[]): void {
    for (const record of records) {
      if (typeof record.id !== 'string' || record.id.length === 0) {
        throw new InvalidArgumentError({
          source,
          message: 'Every record needs a non-empty string id.',
        });
      }
      if (record.vector.length !== collection.dimensions) {
        throw new DimensionMismatchError({
          source,
          expected: collection.dimensions,
          actual: record.vector.length,
          message: `Record "${record.id}" has a ${record.vector.length}-dimensional vector; the collection holds ${collection.dimensions}.`,
        });
      }
    }
  }

  return {
    specificationVersion: 'v1',
    provider: source,
    capabilities,

    async ensureCollection({ collection: name, dimensions, abortSignal }) {
      open(abortSignal);
      if (!Number.isInteger(dimensions) || dimensions <= 0) {
        throw new InvalidArgumentError({
          source,
          message: `dimensions must be a positive integer, got ${dimensions}.`,
        });
      }
      const existing = collections.get(name);
      if (existing) {
        if (existing.dimensions !== dimensions) {
          throw new DimensionMismatchError({
            source,
            expected: existing.dimensions,
            actual: dimensions,
            message: `Collection "${name}" holds ${existing.dimensions}-dimensional vectors, not ${dimensions}. Use the embedder it was created with, or another collection.`,
          });
        }
        return;
      }
      collections.set(name, { dimensions, records: new Map() });
    },

    async upsert({ collection: name, records, abortSignal }: UpsertOptions) {
      open(abortSignal);
      const collection = collectionOf(name);
      checkRecords(collection, records);
      for (const record of records) collection.records.set(record.id, structuredClone(record));
    },

    async query(options: QueryOptions): Promise<VectorMatch[]> {
      open(options.abortSignal);
      const collection = collectionOf(options.collection);
      const candidates = selected(collection, options);
      let scored: { record: VectorRecord; score: number }[];
      if (options.vector) {
        if (options.vector.length !== collection.dimensions) {
          throw new DimensionMismatchError({
            source,
            expected: collection.dimensions,
            actual: options.vector.length,
            message: `The query vector has ${options.vector.length} dimensions; the collection holds ${collection.dimensions}.`,
          });
        }
        const vector = options.vector;
        scored = candidates.map((record) => ({
          record,
          score: cosineSimilarity(vector, record.vector),
        }));
      } else if (options.text !== undefined) {
        const scores = scoreBM25(
          options.text,
          candidates.map((record) => record.text),
        );
        scored = candidates
          .map((record, index) => ({ record, score: scores[index]! }))
          .filter((match) => match.score > 0);
      } else {
        throw new InvalidArgumentError({ source, message: 'query needs a vector or a text.' });
      }
      scored.sort(
        (left, right) => right.score - left.score || (left.record.id < right.record.id ? -1 : 1),
      );
      return scored
        .slice(0, options.topK)
        .map(({ record, score }) => ({ record: output(record, options.includeVectors), score }));
    },

    async get({ collection: name, ids, includeVectors, abortSignal }: GetOptions) {
      open(abortSignal);
      const collection = collectionOf(name);
      const result: StoredRecord[] = [];
      for (const id of ids) {
        const record = collection.records.get(id);
        if (record) result.push(output(record, includeVectors));
      }
      return result;
    },

    async delete(options: DeleteOptions) {
      open(options.abortSignal);
      const collection = collectionOf(options.collection);
      let deleted = 0;
      if (options.ids) {
        for (const id of options.ids) if (collection.records.delete(id)) deleted++;
        return { deleted };
      }
      if (!options.filter && Object.keys(normalizeScope(options.scope, { source })).length === 0) {
        throw new InvalidArgumentError({
          source,
          message:
            'delete needs ids, a non-empty scope or a filter; use dropCollection to empty a collection.',
        });
      }
      for (const record of selected(collection, options)) {
        collection.records.delete(record.id);
        deleted++;
      }
      return { deleted };
    },

    async list(options: ListOptions): Promise<ListPage> {
      open(options.abortSignal);
      const collection = collectionOf(options.collection);
      const after = decodeCursor(options.cursor, source);
      const records = selected(collection, options)
        .filter((record) => after === undefined || record.id > after)
        .sort((left, right) => (left.id < right.id ? -1 : left.id > right.id ? 1 : 0));
      const page = records.slice(0, options.limit);
      const last = page.at(-1);
      return {
        records: page.map((record) => output(record, options.includeVectors)),
        ...(records.length > options.limit && last ? { nextCursor: encodeCursor(last.id) } : {}),
      };
    },

    async adjacent(options: AdjacentOptions) {
      open(options.abortSignal);
      const records = selected(collectionOf(options.collection), options);
      return neighboursInWriteOrder(records, options).map((entry) => ({
        id: entry.id,
        before: entry.before.map((record) =>
          output(record as VectorRecord, options.includeVectors),
        ),
        after: entry.after.map((record) => output(record as VectorRecord, options.includeVectors)),
      }));
    },

    async count(options: CountOptions) {
      open(options.abortSignal);
      return selected(collectionOf(options.collection), options).length;
    },

    async stats(options: StatsOptions) {
      open(options.abortSignal);
      return { vectors: collectionOf(options.collection).records.size };
    },

    async dropCollection({ collection, abortSignal }) {
      open(abortSignal);
      collections.delete(collection);
    },

    async commit(options: CommitOptions) {
      open(options.abortSignal);
      const collection = collectionOf(options.collection);
      checkRecords(collection, options.upsert);
      checkHistoryEventNamespaces(options.history, 'memory');
      for (const id of options.delete) collection.records.delete(id);
      for (const record of options.upsert)
        collection.records.set(record.id, structuredClone(record));
      await history.append({ events: options.history });
    },

    append: (options: { events: HistoryEvent[]; abortSignal?: AbortSignal }) => {
      open(options.abortSignal);
      return history.append(options);
    },
    byMemory: (options) => {
      open(options.abortSignal);
      return history.byMemory(options);
    },
    byScope: (options) => {
      open(options.abortSignal);
      return history.byScope(options);
    },
    deleteScope: (options) => {
      open(options.abortSignal);
      return history.deleteScope(options);
    },
    eraseTexts: (options) => {
      open(options.abortSignal);
      return history.eraseTexts(options);
    },
    listTexts: (options) => {
      open(options.abortSignal);
      return history.listTexts!(options);
    },

    async close() {
      closed = true;
      await history.close();
    },
    async [Symbol.asyncDispose]() {
      closed = true;
      await history.close();
    },
  };
}

/** The reference store seen only as a vector store. */
export function createInMemoryVectorStore(): VectorStore {
  return createInMemoryStore();
}
