import {
  AzureKeyCredential,
  type SearchClient,
  type SearchIndex,
  SearchIndexClient,
} from '@azure/search-documents';
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
  decodeCursor,
  encodeCursor,
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
import { azureAiSearchErrorStatus, toAzureAiSearchError } from './azure-ai-search-errors.js';
import {
  type AzureAiSearchFilterFields,
  azureAiSearchFilterFields,
  azureAiSearchFilterOperators,
  odataString,
  translateAzureAiSearchFilter,
} from './azure-ai-search-filter.js';

const source = 'azure-ai-search';

/** Options of {@link createAzureAiSearchVectorStore}. */
export interface AzureAiSearchVectorStoreOptions {
  /** A configured `SearchIndexClient` to use instead of `endpoint` and `apiKey`. */
  client?: SearchIndexClient;
  /** Service endpoint, e.g. `https://<service>.search.windows.net`. Default: `AZURE_AI_SEARCH_ENDPOINT`. */
  endpoint?: string;
  /** Admin API key (writes need one). Default: `AZURE_AI_SEARCH_API_KEY`. */
  apiKey?: string;
  /** Index name of a collection. Default: lowercased, `_` turned into `-` (Azure's naming rules). */
  indexName?: (collection: string) => string;
  /**
   * Run every vector query as exhaustive k-NN (exact, slower) instead of HNSW. Default `false`;
   * filters are applied before the k nearest are chosen either way (`preFilter`).
   */
  exhaustive?: boolean;
  /** Retries of throttled (429) and failed (5xx) requests inside the Azure client. Default: the client's (3). */
  maxRetries?: number;
}

/** One stored document, as this adapter writes it. */
export interface AzureAiSearchDocument extends AzureAiSearchFilterFields {
  /** The document key: the record id, or `=` and its base64url when the id has other characters. */
  key: string;
  /**
   * The record without its vector, as exact JSON. One string field, because the Azure client
   * turns any returned string that looks like an ISO date into a `Date`.
   */
  record: string;
  /** What keyword search indexes: `keywordText` when set, else `text`. */
  keywordText: string;
  /** The embedding. */
  vector: number[];
  /** Scope ids, filterable. */
  userId: string | null;
  agentId: string | null;
  runId: string | null;
}

/** Documents per indexing request (Azure accepts up to 1,000 or 16 MB). */
const maxBatchSize = 500;
/** Azure's largest page of search results. */
const maxPage = 1000;
const vectorProfile = 'engram-vector-profile';
const vectorAlgorithm = 'engram-hnsw-cosine';
const indexNamePattern = /^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){1,127}$/;
const safeKeyPattern = /^[A-Za-z0-9-][A-Za-z0-9_-]{0,1023}$/;
const recordFields = ['record'] as const;

/** The index name of a collection by default. */
export function defaultAzureAiSearchIndexName(collection: string): string {
  return collection.toLowerCase().replaceAll('_', '-');
}

/** The document key of a record id (Azure keys allow letters, digits, `_`, `-` and `=`). */
export function azureAiSearchKey(id: string): string {
  return safeKeyPattern.test(id) ? id : `=${Buffer.from(id, 'utf8').toString('base64url')}`;
}

/** The index definition of a collection: fields, the cosine HNSW profile, the vector length. */
export function azureAiSearchIndexDefinition(name: string, dimensions: number): SearchIndex {
  const plain = (field: string, filterable = false) => ({
    name: field,
    type: 'Edm.String' as const,
    filterable,
    searchable: false,
    sortable: false,
    facetable: false,
  });
  const collection = (field: string, type: 'Edm.String' | 'Edm.Double') => ({
    name: field,
    type,
    filterable: true,
    searchable: false,
    sortable: false,
    facetable: false,
    hidden: true,
  });
  return {
    name,
    fields: [
      { ...plain('key', true), key: true, sortable: true },
      plain('record'),
      {
        name: 'keywordText',
        type: 'Edm.String',
        searchable: true,
        hidden: true,
        analyzerName: 'standard.lucene',
      },
      {
        name: 'vector',
        type: 'Collection(Edm.Single)',
        searchable: true,
        vectorSearchDimensions: dimensions,
        vectorSearchProfileName: vectorProfile,
      },
      ...scopeFields.map((field) => ({ ...plain(field, true), hidden: true })),
      { ...collection('filterTokens', 'Edm.String'), type: 'Collection(Edm.String)' },
      { ...collection('filterPaths', 'Edm.String'), type: 'Collection(Edm.String)' },
      {
        name: 'filterNumbers',
        type: 'Collection(Edm.ComplexType)',
        fields: [collection('path', 'Edm.String'), collection('value', 'Edm.Double')],
      },
      {
        name: 'filterStrings',
        type: 'Collection(Edm.ComplexType)',
        fields: [collection('path', 'Edm.String'), collection('value', 'Edm.String')],
      },
    ],
    vectorSearch: {
      algorithms: [{ name: vectorAlgorithm, kind: 'hnsw', parameters: { metric: 'cosine' } }],
      profiles: [{ name: vectorProfile, algorithmConfigurationName: vectorAlgorithm }],
    },
  } as SearchIndex;
}

/** The document of a record. */
export function toAzureAiSearchDocument(record: VectorRecord): AzureAiSearchDocument {
  const { vector, keywordText, ...stored } = record;
  return {
    key: azureAiSearchKey(record.id),
    record: JSON.stringify(stored),
    keywordText: keywordText ?? record.text,
    vector,
    userId: record.userId ?? null,
    agentId: record.agentId ?? null,
    runId: record.runId ?? null,
    ...azureAiSearchFilterFields(record.metadata),
  };
}

/** Rebuilds a record from a returned document. */
export function fromAzureAiSearchDocument(
  document: Partial<AzureAiSearchDocument>,
  includeVectors?: boolean,
): StoredRecord {
  const parsed = JSON.parse(document.record ?? '{}') as Partial<StoredRecord>;
  const record: StoredRecord = {
    id: parsed.id ?? '',
    text: parsed.text ?? '',
    metadata: parsed.metadata ?? {},
    createdAt: parsed.createdAt ?? '',
    updatedAt: parsed.updatedAt ?? '',
  };
  if (typeof parsed.hash === 'string') record.hash = parsed.hash;
  for (const field of scopeFields) {
    const value = parsed[field];
    if (typeof value === 'string') record[field] = value;
  }
  if (includeVectors && Array.isArray(document.vector)) record.vector = [...document.vector];
  return record;
}

/** Scope and portable filter as one OData `$filter`; `false` when nothing can match. */
export function azureAiSearchSelection(
  scope: Scope | undefined,
  filter: FilterExpression | undefined,
): string | undefined | false {
  const normalized = normalizeScope(scope, { source });
  const conditions = scopeFields
    .filter((field) => normalized[field] !== undefined)
    .map((field) => `${field} eq ${odataString(normalized[field]!)}`);
  if (filter) {
    const translated = translateAzureAiSearchFilter(validateFilter(filter));
    if (translated === false) return false;
    if (translated !== true) conditions.push(translated);
  }
  if (conditions.length === 0) return undefined;
  return conditions.length === 1 ? conditions[0] : conditions.map((c) => `(${c})`).join(' and ');
}

/** Backslash-escapes the operators of Azure's simple query syntax, so text is matched as words. */
export function escapeSimpleQuery(text: string): string {
  return text.replace(/[+\-&|!(){}[\]^"~*?:\\/]/g, (character) => `\\${character}`);
}

const and = (...conditions: (string | undefined)[]) => {
  const present = conditions.filter((condition): condition is string => Boolean(condition));
  return present.length <= 1 ? present[0] : present.map((c) => `(${c})`).join(' and ');
};

type Client = SearchClient<AzureAiSearchDocument>;

/**
 * An Azure AI Search vector store: one index per Engram collection (cosine HNSW vector field,
 * BM25 over the text), scope ids as filterable fields, metadata stored as exact JSON beside a
 * filterable projection that portable filters are translated to.
 */
export function createAzureAiSearchVectorStore(
  options: AzureAiSearchVectorStoreOptions = {},
): VectorStore {
  let client: SearchIndexClient | undefined = options.client;
  const clients = new Map<string, { search: Client; dimensions: number }>();
  const indexNameOf = options.indexName ?? defaultAzureAiSearchIndexName;
  const setting = optionalSettingLoader(source);

  function indexClient(): SearchIndexClient {
    if (client) return client;
    const endpoint = setting(options.endpoint, 'endpoint', 'AZURE_AI_SEARCH_ENDPOINT');
    const apiKey = setting(options.apiKey, 'apiKey', 'AZURE_AI_SEARCH_API_KEY');
    if (!endpoint || !apiKey) {
      throw new InvalidArgumentError({
        source,
        message:
          'Azure AI Search needs an endpoint and an admin API key: pass endpoint and apiKey, or set AZURE_AI_SEARCH_ENDPOINT and AZURE_AI_SEARCH_API_KEY (or pass a SearchIndexClient as client).',
      });
    }
    client = new SearchIndexClient(endpoint, new AzureKeyCredential(apiKey), {
      // A plain-http endpoint is a local proxy or test double; the client refuses it otherwise.
      allowInsecureConnection: endpoint.startsWith('http://'),
      ...(options.maxRetries === undefined
        ? {}
        : { retryOptions: { maxRetries: options.maxRetries } }),
    });
    return client;
  }

  function indexNameFor(collection: string): string {
    const name = indexNameOf(collection);
    if (!indexNamePattern.test(name)) {
      throw new InvalidArgumentError({
        source,
        message: `Collection "${collection}" maps to the index name "${name}", which is not 2-128 lowercase letters, digits or single dashes starting and ending with a letter or digit; pass indexName to map it.`,
      });
    }
    return name;
  }

  async function describe(collection: string): Promise<SearchIndex | undefined> {
    return indexClient()
      .getIndex(indexNameFor(collection))
      .catch((error: unknown) => {
        if (azureAiSearchErrorStatus(error) === 404) return undefined;
        throw error;
      });
  }

  function dimensionsOf(index: SearchIndex): number {
    const field = index.fields.find((candidate) => candidate.name === 'vector');
    return (field && 'vectorSearchDimensions' in field ? field.vectorSearchDimensions : 0) ?? 0;
  }

  async function handleOf(collection: string) {
    const cached = clients.get(collection);
    if (cached) return cached;
    const index = await describe(collection);
    if (!index) {
      throw new NotFoundError({
        source,
        message: `Collection "${collection}" (an Azure AI Search index) does not exist; call ensureCollection first.`,
      });
    }
    const handle = {
      search: indexClient().getSearchClient<AzureAiSearchDocument>(index.name),
      dimensions: dimensionsOf(index),
    };
    clients.set(collection, handle);
    return handle;
  }

  /** Documents matching `filter` in key order, after `after`, at most `limit` of them. */
  async function page(
    search: Client,
    filter: string | undefined,
    after: string | undefined,
    limit: number,
    select: readonly string[],
  ): Promise<Partial<AzureAiSearchDocument>[]> {
    const documents: Partial<AzureAiSearchDocument>[] = [];
    let cursor = after;
    while (documents.length < limit) {
      const top = Math.min(maxPage, limit - documents.length);
      const response = await search.search('*', {
        filter: and(filter, cursor === undefined ? undefined : `key gt ${odataString(cursor)}`),
        orderBy: ['key asc'],
        top,
        select: ['key', ...select] as never,
      });
      let received = 0;
      for await (const result of response.results) {
        documents.push(result.document as Partial<AzureAiSearchDocument>);
        received++;
        if (received >= top) break;
      }
      if (received < top) break;
      cursor = documents.at(-1)?.key;
    }
    return documents;
  }

  async function documentsByKey(
    search: Client,
    keys: readonly string[],
    select: readonly string[],
  ): Promise<Map<string, Partial<AzureAiSearchDocument>>> {
    const byKey = new Map<string, Partial<AzureAiSearchDocument>>();
    for (const batch of chunk([...new Set(keys)], maxPage)) {
      const found = await page(
        search,
        `search.in(key, '${batch.join(',')}', ',')`,
        undefined,
        batch.length,
        select,
      );
      for (const document of found) byKey.set(document.key!, document);
    }
    return byKey;
  }

  const selected = (includeVectors?: boolean) =>
    includeVectors ? [...recordFields, 'vector'] : [...recordFields];

  return defineVectorStore({
    provider: source,
    capabilities: {
      keywordSearch: true,
      filterOperators: azureAiSearchFilterOperators,
      maxBatchSize,
      metric: 'cosine',
      atomicHistory: false,
    },
    toError: (error, action) => toAzureAiSearchError(error, action),
    methods: (lifecycle) => ({
      async ensureCollection({ collection, dimensions }) {
        assertPositiveInteger(dimensions, 'dimensions', source);
        const name = indexNameFor(collection);
        let index = await describe(collection);
        if (!index) {
          index = await indexClient()
            .createIndex(azureAiSearchIndexDefinition(name, dimensions))
            .catch(async (error: unknown) => {
              // Created concurrently by another caller: use theirs.
              if (azureAiSearchErrorStatus(error) !== 409) throw error;
              const created = await describe(collection);
              if (!created) throw error;
              return created;
            });
        }
        const existing = dimensionsOf(index);
        assertCollectionDimensions({ source, collection, existing, requested: dimensions });
        clients.delete(collection);
      },

      async upsert({ collection, records, abortSignal }) {
        if (records.length === 0) return;
        const { search, dimensions } = await handleOf(collection);
        assertRecords(records, { source, dimensions, collection });
        for (const batch of chunk(records.map(toAzureAiSearchDocument), maxBatchSize)) {
          lifecycle.check(abortSignal);
          await search.uploadDocuments(batch, { throwOnAnyFailure: true });
        }
      },

      async query({ collection, vector, text, topK, scope, filter, includeVectors }) {
        assertQueryInput({ vector, text }, source);
        const selection = azureAiSearchSelection(scope, filter);
        const { search, dimensions } = await handleOf(collection);
        if (vector) {
          assertVectorLength(vector, dimensions, { source, what: 'The query vector', collection });
        }
        if (selection === false || topK < 1) return [];
        // Simple syntax reads an empty query as "everything"; a text without words matches nothing.
        if (!vector && !/[\p{L}\p{N}]/u.test(text!)) return [];
        const response = vector
          ? await search.search(undefined, {
              ...(selection ? { filter: selection } : {}),
              top: topK,
              select: selected(includeVectors) as never,
              vectorSearchOptions: {
                queries: [
                  {
                    kind: 'vector',
                    vector,
                    kNearestNeighborsCount: topK,
                    fields: ['vector'],
                    ...(options.exhaustive ? { exhaustive: true } : {}),
                  },
                ],
                filterMode: 'preFilter',
              },
            })
          : await search.search(escapeSimpleQuery(text!), {
              ...(selection ? { filter: selection } : {}),
              top: topK,
              select: selected(includeVectors) as never,
              searchFields: ['keywordText'],
              searchMode: 'any',
              queryType: 'simple',
            });
        const matches = [];
        for await (const result of response.results) {
          // For cosine, Azure scores 1 / (1 + cosine distance); turn that back into the similarity.
          const score = vector ? 2 - 1 / result.score : result.score;
          matches.push({
            score,
            record: fromAzureAiSearchDocument(result.document, includeVectors),
          });
          if (matches.length >= topK) break;
        }
        return matches;
      },

      async get({ collection, ids, includeVectors }) {
        const { search } = await handleOf(collection);
        if (ids.length === 0) return [];
        const byKey = await documentsByKey(
          search,
          ids.map(azureAiSearchKey),
          selected(includeVectors),
        );
        return ids.flatMap((id) => {
          const document = byKey.get(azureAiSearchKey(id));
          return document ? [fromAzureAiSearchDocument(document, includeVectors)] : [];
        });
      },

      async delete({ collection, ids, scope, filter, abortSignal }) {
        let keys: string[];
        const { search } = await handleOf(collection);
        if (ids) {
          keys = [...(await documentsByKey(search, ids.map(azureAiSearchKey), [])).keys()];
        } else {
          const normalized = normalizeScope(scope, { source });
          assertDeleteSelection({ scope: normalized, filter }, source);
          const selection = azureAiSearchSelection(normalized, filter);
          if (selection === false) return { deleted: 0 };
          // Every key first, then the deletes: the pages do not shift under the cursor.
          keys = (await page(search, selection, undefined, Number.MAX_SAFE_INTEGER, [])).map(
            (document) => document.key!,
          );
        }
        for (const batch of chunk(keys, maxPage)) {
          lifecycle.check(abortSignal);
          await search.deleteDocuments('key', batch, { throwOnAnyFailure: true });
        }
        return { deleted: keys.length };
      },

      async list({ collection, limit, cursor, scope, filter, includeVectors }) {
        assertPositiveInteger(limit, 'limit', source);
        const after = decodeCursor(cursor, source);
        const selection = azureAiSearchSelection(scope, filter);
        const { search } = await handleOf(collection);
        if (selection === false) return { records: [] };
        const documents = await page(search, selection, after, limit + 1, selected(includeVectors));
        const records = documents
          .slice(0, limit)
          .map((document) => fromAzureAiSearchDocument(document, includeVectors));
        return documents.length > limit
          ? { records, nextCursor: encodeCursor(documents[limit - 1]!.key!) }
          : { records };
      },

      async count({ collection, scope, filter }) {
        const selection = azureAiSearchSelection(scope, filter);
        const { search } = await handleOf(collection);
        if (selection === false) return 0;
        const response = await search.search('*', {
          ...(selection ? { filter: selection } : {}),
          top: 0,
          includeTotalCount: true,
        });
        return response.count ?? 0;
      },

      async dropCollection({ collection }) {
        clients.delete(collection);
        await indexClient()
          .deleteIndex(indexNameFor(collection))
          .catch((error: unknown) => {
            if (azureAiSearchErrorStatus(error) !== 404) throw error;
          });
      },
    }),
  });
}
