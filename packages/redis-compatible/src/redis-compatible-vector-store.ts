import {
  assertPositiveInteger,
  assertRecords,
  assertVectorLength,
  collectionDimensionMismatch,
  defineVectorStore,
  deleteNeedsSelectionMessage,
  requireQueryVector,
  toAdapterCallError,
} from '@engram/adapter-kit';
import {
  AdapterCallError,
  decodeCursor,
  EngramError,
  encodeCursor,
  type FilterExpression,
  type FilterOperator,
  filterOperators,
  filterOperatorsUsed,
  InvalidArgumentError,
  keywordText,
  NotFoundError,
  normalizeScope,
  type Scope,
  type StoredRecord,
  UnsupportedFunctionalityError,
  type VectorStore,
} from '@engram/core';
import {
  addKeywordTextCommand,
  createIndexCommand,
  encodeName,
  expressionString,
  type FtCommandClient,
  fillKeywordTextScript,
  hashFields,
  isUnknownIndex,
  keywordTextField,
  keywordTextFillKey,
  pairs,
  prefixPattern,
  returnedFields,
  scopeQuery,
  searchResults,
  text,
  toBlob,
  toRecord,
} from './redis-compatible-commands.js';
import {
  andQueries,
  needsValueTags,
  type RedisFilter,
  translateRedisFilter,
  valuesField,
} from './redis-compatible-filter.js';

/**
 * What a Redis-protocol search engine can do: RediSearch (Redis 8, Redis Stack) has all of it;
 * valkey-search may lack full-text fields and `FT.TAGVALS`.
 */
export interface RedisCompatibleDialect {
  /** The adapter name, also the error prefix, e.g. `redis`. */
  source: string;
  /**
   * TEXT fields: BM25 keyword search on `text`, and a sortable `id` for keyset pagination with
   * `FT.AGGREGATE`. Without them the index holds only the vector and TAG fields.
   */
  fullText: boolean;
  /**
   * `FT.TAGVALS` (the distinct tags of a field), which ranges and substring `contains` are
   * answered with. Without it those operators are declared unsupported.
   */
  tagValues: boolean;
  /** Why a keyword query cannot run, when there is no `fullText`. */
  noKeywordSearch?: string;
}

/** Options of {@link createRedisCompatibleVectorStore}. */
export interface RedisCompatibleVectorStoreOptions {
  /** What the engine can do. */
  dialect: RedisCompatibleDialect;
  /** The connected client (created on first use by the adapter). */
  connect: () => Promise<FtCommandClient>;
  /** Closes what `connect` opened; runs once, at `close()`. */
  close?: () => Promise<void>;
  /** Whether a failed command may succeed when repeated. */
  isRetryable: (error: unknown) => boolean;
  /**
   * Prefix of every key and index name, so several applications can share one database.
   * Default `engram`: collection `memories` is index `engram:idx:memories` over keys
   * `engram:memories:<id>`.
   */
  keyPrefix?: string;
  /** Timeout of each query engine command in milliseconds (RediSearch `TIMEOUT`). Default 30,000. */
  queryTimeoutMs?: number;
  /**
   * Candidate list size of an HNSW vector query (`EF_RUNTIME`), raised to `topK` when that is
   * larger: higher finds the true nearest neighbours more often and costs more per query.
   * Default 50: the engines' own default, 10, found 84% of the true top 10 among 100k
   * vectors of 384 dimensions in our benchmark, 50 found all of them for 0.5 ms more per query.
   */
  efRuntime?: number;
}

interface CollectionInfo {
  index: string;
  keyPrefix: string;
  dimensions: number;
}

const deletePage = 1_000;
/** Keys `SCAN` reads per page while filling the keyword text. */
const fillPage = 1_000;
const rangeOperators = new Set<FilterOperator>(['gt', 'gte', 'lt', 'lte', 'contains']);

/** The filter operators a dialect translates exactly. */
export function redisCompatibleFilterOperators(dialect: RedisCompatibleDialect) {
  return dialect.tagValues
    ? filterOperators
    : filterOperators.filter((operator) => !rangeOperators.has(operator));
}

function missingSearchModule(error: unknown): boolean {
  return /unknown command .?FT\./i.test(error instanceof Error ? error.message : String(error));
}

function missingCollection(source: string, collection: string, cause?: unknown): NotFoundError {
  return new NotFoundError({
    source,
    message: `Collection "${collection}" does not exist; call ensureCollection first.`,
    ...(cause === undefined ? {} : { cause }),
  });
}

/** The FT.INFO fields that add up to the memory an index takes. */
const indexSizeFields = new Set([
  'inverted_sz_mb',
  'vector_index_sz_mb',
  'offset_vectors_sz_mb',
  'doc_table_size_mb',
  'sortable_values_size_mb',
  'key_table_size_mb',
  'tag_overhead_sz_mb',
  'text_overhead_sz_mb',
]);

function queryString(filter: RedisFilter): string {
  return filter === true ? '*' : String(filter);
}

/**
 * Creates a {@link VectorStore} on a Redis-protocol search engine (RediSearch, valkey-search):
 * each collection is an index over HASH keys with an HNSW cosine vector field, TAG fields for
 * scope and metadata and, where the dialect has them, TEXT fields for BM25.
 */
export function createRedisCompatibleVectorStore(
  options: RedisCompatibleVectorStoreOptions,
): VectorStore {
  const { dialect, connect } = options;
  const { source } = dialect;
  const operators = redisCompatibleFilterOperators(dialect);
  const prefix = options.keyPrefix ?? 'engram';
  const timeout = String(options.queryTimeoutMs ?? 30_000);
  const efRuntime = options.efRuntime ?? 50;
  if (!Number.isInteger(efRuntime) || efRuntime < 1) {
    throw new InvalidArgumentError({
      source,
      message: `efRuntime must be a positive integer, got ${JSON.stringify(efRuntime)}.`,
    });
  }
  const infos = new Map<string, CollectionInfo>();
  const keywordTextFills = new Map<string, Promise<void>>();

  function names(collection: string) {
    const encoded = encodeName(collection);
    return { index: `${prefix}:idx:${encoded}`, keyPrefix: `${prefix}:${encoded}:` };
  }

  /**
   * Adds the keyword text field to an index made before it existed (the records written before
   * get it from {@link fillKeywordText}); another process adding it first is fine.
   */
  async function addKeywordText(client: FtCommandClient, index: string) {
    try {
      await client.send(addKeywordTextCommand(index));
    } catch (error) {
      if (!/duplicate/i.test(String((error as Error).message))) throw error;
    }
  }

  async function loadInfo(
    client: FtCommandClient,
    collection: string,
  ): Promise<CollectionInfo | undefined> {
    const { index, keyPrefix } = names(collection);
    let reply: unknown;
    try {
      reply = await client.send(['FT.INFO', index]);
    } catch (error) {
      if (isUnknownIndex(error)) return undefined;
      throw error;
    }
    const attributes = pairs(reply).get('attributes');
    let dimensions: number | undefined;
    let keywordIndexed = false;
    for (const attribute of Array.isArray(attributes) ? attributes : []) {
      const fields = new Map(
        [...pairs(attribute)].map(([key, value]) => [key.toLowerCase(), value]),
      );
      if (text(fields.get('identifier')) === 'vector') {
        dimensions = Number(text(fields.get('dim')));
      }
      if (text(fields.get('identifier')) === keywordTextField) keywordIndexed = true;
    }
    if (!dimensions) {
      throw new InvalidArgumentError({
        source,
        message: `Index "${index}" was not created by Engram (it has no vector field).`,
      });
    }
    if (dialect.fullText && !keywordIndexed) await addKeywordText(client, index);
    const info = { index, keyPrefix, dimensions };
    if (dialect.fullText) await filledKeywordText(client, info);
    infos.set(collection, info);
    return info;
  }

  /** Fills the keyword text of hashes written before the field existed, once per process. */
  function filledKeywordText(client: FtCommandClient, info: CollectionInfo): Promise<void> {
    let filling = keywordTextFills.get(info.index);
    if (!filling) {
      filling = fillKeywordText(client, info);
      keywordTextFills.set(info.index, filling);
      filling.catch(() => keywordTextFills.delete(info.index));
    }
    return filling;
  }

  /**
   * Walks the collection's hashes with `SCAN` and gives those that need a keyword text and have
   * none their {@link keywordTextField} (which the index then holds), saving the cursor after
   * each page: a fill stopped half-way goes on from there next time.
   */
  async function fillKeywordText(client: FtCommandClient, info: CollectionInfo): Promise<void> {
    const progressKey = keywordTextFillKey(info.index);
    let cursor = text(await client.send(['GET', progressKey])) ?? '0';
    if (cursor === 'done') return;
    const pattern = prefixPattern(info.keyPrefix);
    do {
      const reply = (await client.send([
        'SCAN',
        cursor,
        'MATCH',
        pattern,
        'COUNT',
        String(fillPage),
        'TYPE',
        'hash',
      ])) as unknown[];
      cursor = text(reply[0]) ?? '0';
      const keys = (Array.isArray(reply[1]) ? reply[1] : []).map((key) => text(key) ?? '');
      const stored = await Promise.all(
        keys.map(
          (key) => client.send(['HMGET', key, 'text', keywordTextField]) as Promise<unknown[]>,
        ),
      );
      await Promise.all(
        keys.flatMap((key, position) => {
          const [recordText, existing] = (stored[position] ?? []).map(text);
          if (recordText === undefined || existing !== undefined) return [];
          const indexed = keywordText(recordText);
          if (indexed === recordText) return [];
          return [client.send(['EVAL', fillKeywordTextScript, '1', key, recordText, indexed])];
        }),
      );
      await client.send(['SET', progressKey, cursor === '0' ? 'done' : cursor]);
    } while (cursor !== '0');
  }

  /**
   * Runs a call on an existing collection. An index dropped behind this store's back surfaces as
   * "Unknown index name", which becomes `NotFoundError`.
   */
  async function onCollection<T>(
    collection: string,
    work: (client: FtCommandClient, info: CollectionInfo) => Promise<T>,
  ): Promise<T> {
    const client = await connect();
    try {
      const info = infos.get(collection) ?? (await loadInfo(client, collection));
      if (!info) throw missingCollection(source, collection);
      return await work(client, info);
    } catch (error) {
      if (EngramError.isInstance(error) || !isUnknownIndex(error)) throw error;
      infos.delete(collection);
      throw missingCollection(source, collection, error);
    }
  }

  /** Sends a query engine command with the store's timeout, in query dialect 2. */
  function search(client: FtCommandClient, args: (string | Buffer)[], binary = false) {
    const command = [...args, 'TIMEOUT', timeout, 'DIALECT', '2'];
    return client.send(command, { binary }) as Promise<unknown[]>;
  }

  /** The scope and filter of a call as one query (`true`: all, `false`: none). */
  async function translate(
    client: FtCommandClient,
    info: CollectionInfo,
    { scope, filter }: { scope?: Scope | undefined; filter?: FilterExpression | undefined },
  ): Promise<RedisFilter> {
    const normalized = normalizeScope(scope, { source });
    let translated: RedisFilter = true;
    if (filter) {
      assertOperators(filter);
      const valueTags = needsValueTags(filter)
        ? ((await client.send(['FT.TAGVALS', info.index, valuesField])) as string[])
        : undefined;
      translated = translateRedisFilter(filter, valueTags ? { valueTags } : {});
    }
    return andQueries([scopeQuery(normalized), translated]);
  }

  async function readRecords(
    client: FtCommandClient,
    info: CollectionInfo,
    ids: readonly string[],
    includeVectors: boolean | undefined,
  ): Promise<StoredRecord[]> {
    const replies = await Promise.all(
      ids.map((id) => client.send(['HGETALL', `${info.keyPrefix}${id}`], { binary: true })),
    );
    return replies.flatMap((reply) => {
      const fields = Array.isArray(reply)
        ? pairs(reply)
        : new Map(Object.entries((reply ?? {}) as Record<string, unknown>));
      return fields.size === 0 ? [] : [toRecord(fields, includeVectors)];
    });
  }

  function assertOperators(filter: FilterExpression) {
    const missing = [...filterOperatorsUsed(filter)].filter((op) => !operators.includes(op));
    if (missing.length === 0) return;
    throw new UnsupportedFunctionalityError({
      source,
      message: `The filter operator${missing.length > 1 ? 's' : ''} ${missing.map((op) => `"${op}"`).join(', ')} cannot be answered exactly here (no FT.TAGVALS for ranges and substrings); supported: ${operators.join(', ')}. Let the engine filter those.`,
    });
  }

  return defineVectorStore({
    provider: source,
    capabilities: {
      keywordSearch: dialect.fullText,
      filterOperators: operators,
      maxBatchSize: 1_000,
      metric: 'cosine',
      atomicHistory: false,
    },
    toError: (error, action) =>
      toAdapterCallError(error, {
        source,
        action,
        isRetryable: options.isRetryable(error),
        ...(missingSearchModule(error)
          ? {
              detail: `${error instanceof Error ? error.message : String(error)}: the server has no search module (FT.* commands); use Redis 8 or Redis Stack (RediSearch), or Valkey with valkey-search (valkey/valkey-bundle).`,
            }
          : {}),
      }),
    ...(options.close ? { onClose: options.close } : {}),
    methods: () => ({
      async ensureCollection({ collection, dimensions }) {
        assertPositiveInteger(dimensions, 'dimensions', source);
        const client = await connect();
        let info = infos.get(collection) ?? (await loadInfo(client, collection));
        if (!info) {
          const { index, keyPrefix } = names(collection);
          try {
            await client.send(createIndexCommand(index, keyPrefix, dimensions, dialect.fullText));
            if (dialect.fullText) await client.send(['SET', keywordTextFillKey(index), 'done']);
          } catch (error) {
            if (!/already exists/i.test(String(error))) throw error;
          }
          info = await loadInfo(client, collection);
          if (!info) throw missingCollection(source, collection);
        }
        if (info.dimensions !== dimensions) {
          throw collectionDimensionMismatch({
            source,
            collection,
            existing: info.dimensions,
            requested: dimensions,
          });
        }
      },

      upsert: ({ collection, records }) =>
        onCollection(collection, async (client, info) => {
          assertRecords(records, { source, dimensions: info.dimensions, collection });
          if (records.length === 0) return;
          // DEL then HSET in one transaction: a re-upsert must not keep fields the new record lacks.
          const result = await client.transaction(
            records.flatMap((record) => {
              const key = `${info.keyPrefix}${record.id}`;
              return [
                ['DEL', key],
                ['HSET', key, ...hashFields(record)],
              ];
            }),
          );
          if (!Array.isArray(result)) {
            throw new AdapterCallError({
              source,
              message: 'upsert transaction was aborted.',
              cause: result,
            });
          }
          const failure = result.find((reply) => reply instanceof Error);
          if (failure) throw failure;
        }),

      query: (options) =>
        onCollection(options.collection, async (client, info) => {
          const { topK, includeVectors } = options;
          const vector = dialect.fullText
            ? options.vector
            : requireQueryVector(options, {
                source,
                noKeywordSearch:
                  dialect.noKeywordSearch ??
                  'This engine has no full-text search; query with a vector.',
              });
          if (!vector && options.text === undefined) {
            throw new InvalidArgumentError({ source, message: 'query needs a vector or a text.' });
          }
          if (vector) {
            assertVectorLength(vector, info.dimensions, { source, what: 'The query vector' });
          }
          const filter = await translate(client, info, options);
          if (filter === false || topK <= 0) return [];
          const fields = [...returnedFields, ...(includeVectors ? ['vector'] : [])];
          if (vector) {
            const ef = ` EF_RUNTIME ${Math.max(efRuntime, topK)}`;
            const knn = `(${queryString(filter)})=>[KNN $k @vector $blob${ef} AS __distance]`;
            const reply = await search(
              client,
              [
                'FT.SEARCH',
                info.index,
                knn,
                'PARAMS',
                '4',
                'k',
                String(topK),
                'blob',
                toBlob(vector),
                'RETURN',
                String(fields.length + 1),
                ...fields,
                '__distance',
                'SORTBY',
                '__distance',
                'ASC',
                'LIMIT',
                '0',
                String(topK),
              ],
              true,
            );
            return searchResults(reply, false).map(({ fields: values }) => ({
              record: toRecord(values, includeVectors),
              score: 1 - Number(text(values.get('__distance'))),
            }));
          }
          const words = [
            ...new Set((options.text ?? '').toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []),
          ];
          if (words.length === 0) return [];
          const textQuery = andQueries([
            `@text|${keywordTextField}:(${words.join(' | ')})`,
            filter,
          ]);
          const reply = await search(
            client,
            [
              'FT.SEARCH',
              info.index,
              String(textQuery),
              'SCORER',
              'BM25',
              'WITHSCORES',
              'RETURN',
              String(fields.length),
              ...fields,
              'LIMIT',
              '0',
              String(topK),
            ],
            true,
          );
          return searchResults(reply, true)
            .map(({ fields: values, score }) => ({
              record: toRecord(values, includeVectors),
              score,
            }))
            .filter((match) => match.score > 0);
        }),

      get: ({ collection, ids, includeVectors }) =>
        onCollection(collection, (client, info) => readRecords(client, info, ids, includeVectors)),

      delete: (options) =>
        onCollection(options.collection, async (client, info) => {
          if (options.ids) {
            if (options.ids.length === 0) return { deleted: 0 };
            const keys = [...new Set(options.ids)].map((id) => `${info.keyPrefix}${id}`);
            return { deleted: Number(await client.send(['DEL', ...keys])) };
          }
          const scope = normalizeScope(options.scope, { source });
          if (!options.filter && Object.keys(scope).length === 0) {
            throw new InvalidArgumentError({ source, message: deleteNeedsSelectionMessage });
          }
          const filter = await translate(client, info, options);
          if (filter === false) return { deleted: 0 };
          let deleted = 0;
          for (;;) {
            const query = queryString(filter);
            const page = [
              'FT.SEARCH',
              info.index,
              query,
              'NOCONTENT',
              'LIMIT',
              '0',
              `${deletePage}`,
            ];
            const keys = (await search(client, page)).slice(1).map((key) => String(key));
            if (keys.length === 0) return { deleted };
            deleted += Number(await client.send(['DEL', ...keys]));
          }
        }),

      list: (options) =>
        onCollection(options.collection, async (client, info) => {
          const after = decodeCursor(options.cursor, source);
          assertPositiveInteger(options.limit, 'limit', source);
          const filter = await translate(client, info, options);
          if (filter === false) return { records: [] };
          const window = String(options.limit + 1);
          // Keyset pagination on the id: an offset would hit the query engine's result window.
          const reply = await search(client, [
            'FT.AGGREGATE',
            info.index,
            queryString(filter),
            'LOAD',
            '1',
            '@id',
            ...(after === undefined ? [] : ['FILTER', `@id > ${expressionString(after)}`]),
            'SORTBY',
            '2',
            '@id',
            'ASC',
            'MAX',
            window,
            'LIMIT',
            '0',
            window,
          ]);
          const ids = reply
            .slice(1)
            .map((row) => text(pairs(row).get('id')))
            .filter((id): id is string => id !== undefined);
          const pageIds = ids.slice(0, options.limit);
          const last = pageIds.at(-1);
          return {
            records: await readRecords(client, info, pageIds, options.includeVectors),
            ...(ids.length > options.limit && last ? { nextCursor: encodeCursor(last) } : {}),
          };
        }),

      count: (options) =>
        onCollection(options.collection, async (client, info) => {
          const filter = await translate(client, info, options);
          if (filter === false) return 0;
          const reply = await search(client, [
            'FT.SEARCH',
            info.index,
            queryString(filter),
            'LIMIT',
            '0',
            '0',
          ]);
          return Number(reply[0]);
        }),

      stats: (options) =>
        onCollection(options.collection, async (client, info) => {
          const fields = pairs(await client.send(['FT.INFO', info.index]));
          const vectors = Number(text(fields.get('num_docs')));
          let megabytes: number | undefined;
          for (const [name, value] of fields) {
            // The index's own memory, which FT.INFO reports in parts (`inverted_sz_mb`, `vector_index_sz_mb`, ...).
            if (!indexSizeFields.has(name)) continue;
            const size = Number(text(value));
            if (Number.isFinite(size)) megabytes = (megabytes ?? 0) + size;
          }
          return {
            ...(Number.isFinite(vectors) ? { vectors } : {}),
            ...(megabytes === undefined ? {} : { bytes: Math.round(megabytes * 1024 * 1024) }),
          };
        }),

      async dropCollection({ collection }) {
        const client = await connect();
        infos.delete(collection);
        keywordTextFills.delete(names(collection).index);
        await client.send(['DEL', keywordTextFillKey(names(collection).index)]);
        try {
          await client.send(['FT.DROPINDEX', names(collection).index, 'DD']);
        } catch (error) {
          if (!isUnknownIndex(error)) throw error;
        }
      },
    }),
  });
}
