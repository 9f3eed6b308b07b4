import {
  assertCollectionDimensions,
  assertPositiveInteger,
  assertRecords,
  assertVectorLength,
  chunk,
  defineVectorStore,
  optionalSettingLoader,
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
import { helpers, type protos, v1 } from '@google-cloud/aiplatform';
import { toVertexAiError } from './vertex-ai-errors.js';
import {
  translateVertexAiFilter,
  type VertexAiFilter,
  type VertexAiRestrict,
  vertexAiFilterOperators,
  vertexAiFilterRestricts,
} from './vertex-ai-filter.js';

const source = 'vertex-ai';

const noKeywordSearch =
  'Vertex AI Vector Search (dense) has no keyword search over the stored text; query with a vector (the engine fuses keyword relevance itself).';

/** Options of {@link createVertexAiVectorStore}. */
export interface VertexAiVectorStoreOptions {
  /** Google Cloud project id. Default: `VERTEX_AI_PROJECT`, else `GOOGLE_CLOUD_PROJECT`. */
  project?: string;
  /** Region of the index and its endpoint. Default: `VERTEX_AI_LOCATION`, else `us-central1`. */
  location?: string;
  /** Id of the index (created with streaming updates and the cosine distance). Default: `VERTEX_AI_INDEX_ID`. */
  indexId?: string;
  /** Id of the index endpoint the index is deployed to. Default: `VERTEX_AI_INDEX_ENDPOINT_ID`. */
  indexEndpointId?: string;
  /** Id of the deployed index on that endpoint. Default: `VERTEX_AI_DEPLOYED_INDEX_ID`. */
  deployedIndexId?: string;
  /** Host of the index service. Default: `VERTEX_AI_API_ENDPOINT`, else `<location>-aiplatform.googleapis.com`. */
  apiEndpoint?: string;
  /** Host queries go to: the endpoint's public domain, or a private one. Default: `VERTEX_AI_MATCH_ENDPOINT`, else `apiEndpoint`. */
  matchApiEndpoint?: string;
  /** Options passed to both clients (credentials, `fallback`, `port`, `protocol`, ...). */
  clientOptions?: ConstructorParameters<typeof v1.IndexServiceClient>[0];
  /** A configured index service client (upserts, removals, index metadata). */
  indexClient?: v1.IndexServiceClient;
  /** A configured match service client (queries and reads of the deployed index). */
  matchClient?: v1.MatchServiceClient;
}

/** Datapoints per UpsertDatapoints / RemoveDatapoints / ReadIndexDatapoints request. */
const maxBatchSize = 1000;
const recordKey = 'r';
const collectionNamespace = 'collection';
const scopeNamespace = (field: string) => `scope/${field}`;

type Datapoint = protos.google.cloud.aiplatform.v1.IIndexDatapoint;

/** The datapoint id of a record: the collection and the record id, since one index holds every collection. */
export function vertexAiDatapointId(collection: string, id: string): string {
  return `${collection}/${id}`;
}

/** The datapoint of a record: its vector, its restricts, and the record JSON as embedding metadata. */
export function toVertexAiDatapoint(collection: string, record: VectorRecord): Datapoint {
  const { vector, keywordText: _keywordText, ...stored } = record;
  const { restricts, numericRestricts } = vertexAiFilterRestricts(record.metadata);
  restricts.push({ namespace: collectionNamespace, allowList: [collection] });
  for (const field of scopeFields) {
    const value = record[field];
    if (value !== undefined)
      restricts.push({ namespace: scopeNamespace(field), allowList: [value] });
  }
  return {
    datapointId: vertexAiDatapointId(collection, record.id),
    featureVector: vector,
    restricts,
    numericRestricts,
    embeddingMetadata: { fields: { [recordKey]: { stringValue: JSON.stringify(stored) } } },
  };
}

/** Rebuilds a record from a returned datapoint. */
export function fromVertexAiDatapoint(
  datapoint: Datapoint,
  includeVectors?: boolean,
): StoredRecord {
  const json = datapoint.embeddingMetadata?.fields?.[recordKey]?.stringValue;
  const record = (
    typeof json === 'string'
      ? JSON.parse(json)
      : { id: datapoint.datapointId ?? '', text: '', metadata: {} }
  ) as StoredRecord;
  if (includeVectors && datapoint.featureVector) record.vector = [...datapoint.featureVector];
  return record;
}

/** The query restricts of a collection, scope and portable filter; `false` when nothing can match. */
export function vertexAiSelection(
  collection: string,
  scope: Scope | undefined,
  filter: FilterExpression | undefined,
): VertexAiFilter | false {
  const normalized = normalizeScope(scope, { source });
  const restricts: VertexAiRestrict[] = [
    { namespace: collectionNamespace, allowList: [collection] },
  ];
  for (const field of scopeFields) {
    const value = normalized[field];
    if (value !== undefined)
      restricts.push({ namespace: scopeNamespace(field), allowList: [value] });
  }
  if (!filter) return { restricts, numericRestricts: [] };
  const translated = translateVertexAiFilter(validateFilter(filter));
  if (translated === false) return false;
  return {
    restricts: [...restricts, ...translated.restricts],
    numericRestricts: translated.numericRestricts,
  };
}

function cannotEnumerate(action: string): never {
  throw new UnsupportedFunctionalityError({
    source,
    message: `${action} needs to enumerate datapoints, which Vertex AI Vector Search cannot do (it only finds neighbours and reads by id); keep the record ids and delete by ids, or use a store that can list.`,
  });
}

/**
 * A Vertex AI Vector Search store: one index (streaming updates, cosine distance) deployed to an
 * index endpoint holds every collection, kept apart by a restrict; the record travels as
 * embedding metadata. Vector Search cannot enumerate datapoints, so `list`, `count`, `delete`
 * by scope or filter and `dropCollection` throw `UnsupportedFunctionalityError`.
 */
export function createVertexAiVectorStore(options: VertexAiVectorStoreOptions = {}): VectorStore {
  let indexClient = options.indexClient;
  let matchClient = options.matchClient;
  const ownClients = { index: !options.indexClient, match: !options.matchClient };
  const setting = optionalSettingLoader(source);
  let dimensions: number | undefined;

  function required(value: string | undefined, name: string, variable: string): string {
    const loaded = setting(value, name, variable);
    if (!loaded) {
      throw new InvalidArgumentError({
        source,
        message: `Vertex AI Vector Search needs ${name}: pass it or set ${variable}.`,
      });
    }
    return loaded;
  }

  function location(): string {
    return setting(options.location, 'location', 'VERTEX_AI_LOCATION') ?? 'us-central1';
  }

  function parent(): string {
    const project =
      setting(options.project, 'project', 'VERTEX_AI_PROJECT') ??
      required(undefined, 'project', 'GOOGLE_CLOUD_PROJECT');
    return `projects/${project}/locations/${location()}`;
  }

  const indexName = () =>
    `${parent()}/indexes/${required(options.indexId, 'indexId', 'VERTEX_AI_INDEX_ID')}`;
  const endpointName = () =>
    `${parent()}/indexEndpoints/${required(options.indexEndpointId, 'indexEndpointId', 'VERTEX_AI_INDEX_ENDPOINT_ID')}`;
  const deployedIndexId = () =>
    required(options.deployedIndexId, 'deployedIndexId', 'VERTEX_AI_DEPLOYED_INDEX_ID');

  function apiEndpoint(): string {
    return (
      setting(options.apiEndpoint, 'apiEndpoint', 'VERTEX_AI_API_ENDPOINT') ??
      `${location()}-aiplatform.googleapis.com`
    );
  }

  function indexes(): v1.IndexServiceClient {
    indexClient ??= new v1.IndexServiceClient({
      apiEndpoint: apiEndpoint(),
      ...options.clientOptions,
    });
    return indexClient;
  }

  function matches(): v1.MatchServiceClient {
    const endpoint =
      setting(options.matchApiEndpoint, 'matchApiEndpoint', 'VERTEX_AI_MATCH_ENDPOINT') ??
      apiEndpoint();
    matchClient ??= new v1.MatchServiceClient({ apiEndpoint: endpoint, ...options.clientOptions });
    return matchClient;
  }

  async function indexDimensions(): Promise<number> {
    if (dimensions !== undefined) return dimensions;
    const [index] = await indexes().getIndex({ name: indexName() });
    const metadata = (index.metadata ? helpers.fromValue(index.metadata as never) : {}) as {
      config?: { dimensions?: number; distanceMeasureType?: string };
    };
    const distance = metadata.config?.distanceMeasureType;
    if (distance && distance !== 'COSINE_DISTANCE') {
      throw new InvalidArgumentError({
        source,
        message: `Index "${index.name}" uses ${distance}; this store needs an index created with COSINE_DISTANCE.`,
      });
    }
    const update = String(index.indexUpdateMethod ?? '');
    // BATCH_UPDATE is 1 when the client decodes enums as numbers.
    if (update === 'BATCH_UPDATE' || update === '1') {
      throw new InvalidArgumentError({
        source,
        message: `Index "${index.name}" is updated in batches; this store upserts datapoints, so create the index with indexUpdateMethod STREAM_UPDATE.`,
      });
    }
    dimensions = Number(metadata.config?.dimensions ?? 0);
    return dimensions;
  }

  async function read(collection: string, ids: readonly string[], includeVectors?: boolean) {
    const byId = new Map<string, StoredRecord>();
    for (const batch of chunk([...new Set(ids)], maxBatchSize)) {
      const [response] = await matches().readIndexDatapoints({
        indexEndpoint: endpointName(),
        deployedIndexId: deployedIndexId(),
        ids: batch.map((id) => vertexAiDatapointId(collection, id)),
      });
      for (const datapoint of response.datapoints ?? []) {
        const record = fromVertexAiDatapoint(datapoint, includeVectors);
        if (datapoint.datapointId === vertexAiDatapointId(collection, record.id)) {
          byId.set(record.id, record);
        }
      }
    }
    return byId;
  }

  return defineVectorStore({
    provider: source,
    capabilities: {
      keywordSearch: false,
      filterOperators: vertexAiFilterOperators,
      maxBatchSize,
      metric: 'cosine',
      atomicHistory: false,
    },
    toError: (error, action) => toVertexAiError(error, action),
    onClose: async () => {
      await Promise.all([
        ownClients.index ? indexClient?.close() : undefined,
        ownClients.match ? matchClient?.close() : undefined,
      ]);
    },
    methods: (lifecycle) => ({
      async ensureCollection({ collection, dimensions: requested }) {
        assertPositiveInteger(requested, 'dimensions', source);
        assertCollectionDimensions({
          source,
          collection,
          existing: await indexDimensions(),
          requested,
        });
      },

      async upsert({ collection, records, abortSignal }) {
        if (records.length === 0) return;
        assertRecords(records, { source, dimensions: await indexDimensions(), collection });
        const datapoints = records.map((record) => toVertexAiDatapoint(collection, record));
        for (const batch of chunk(datapoints, maxBatchSize)) {
          lifecycle.check(abortSignal);
          await indexes().upsertDatapoints({ index: indexName(), datapoints: batch });
        }
      },

      async query({ collection, vector: given, text, topK, scope, filter, includeVectors }) {
        const vector = requireQueryVector({ vector: given, text }, { source, noKeywordSearch });
        const selection = vertexAiSelection(collection, scope, filter);
        assertVectorLength(vector, await indexDimensions(), {
          source,
          what: 'The query vector',
          collection,
        });
        if (selection === false || topK < 1) return [];
        const [response] = await matches().findNeighbors({
          indexEndpoint: endpointName(),
          deployedIndexId: deployedIndexId(),
          returnFullDatapoint: true,
          queries: [
            {
              datapoint: { datapointId: 'query', featureVector: vector, ...selection } as never,
              neighborCount: topK,
            },
          ],
        });
        const neighbors = response.nearestNeighbors?.[0]?.neighbors ?? [];
        // COSINE_DISTANCE is documented as 1 - cosine similarity.
        return neighbors.slice(0, topK).map((neighbor) => ({
          score: 1 - Number(neighbor.distance ?? 1),
          record: fromVertexAiDatapoint(neighbor.datapoint ?? {}, includeVectors),
        }));
      },

      async get({ collection, ids, includeVectors }) {
        if (ids.length === 0) return [];
        const byId = await read(collection, ids, includeVectors);
        return ids.filter((id) => byId.has(id)).map((id) => byId.get(id)!);
      },

      async delete({ collection, ids, abortSignal }) {
        if (!ids) return cannotEnumerate('delete by scope or filter');
        // RemoveDatapoints does not say what it removed, so count what exists first.
        const existing = [...(await read(collection, ids, false)).keys()];
        for (const batch of chunk(existing, maxBatchSize)) {
          lifecycle.check(abortSignal);
          await indexes().removeDatapoints({
            index: indexName(),
            datapointIds: batch.map((id) => vertexAiDatapointId(collection, id)),
          });
        }
        return { deleted: existing.length };
      },

      async list() {
        return cannotEnumerate('list');
      },

      async count() {
        return cannotEnumerate('count');
      },

      async dropCollection() {
        return cannotEnumerate('dropCollection');
      },
    }),
  });
}
