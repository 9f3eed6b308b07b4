import {
  ExecuteQueryCommand,
  GetGraphCommand,
  NeptuneGraphClient,
} from '@aws-sdk/client-neptune-graph';
import {
  assertCollectionDimensions,
  assertDeleteSelection,
  assertPositiveInteger,
  assertRecords,
  assertVectorLength,
  chunk,
  defineVectorStore,
  optionalSettingLoader,
  orderedHex,
  requiredSetting,
  requireQueryVector,
} from '@engram/adapter-kit';
import {
  DimensionMismatchError,
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
import { toNeptuneAnalyticsError } from './neptune-analytics-errors.js';
import {
  cypherName,
  type NeptuneAnalyticsWhere,
  neptuneAnalyticsFilterOperators,
  neptuneAnalyticsFilterProperties,
  renderNeptuneAnalyticsCondition,
  translateNeptuneAnalyticsFilter,
} from './neptune-analytics-filter.js';

const source = 'neptune-analytics';

const noKeywordSearch =
  'Neptune Analytics has no full-text search over node properties; query with a vector (the engine fuses keyword relevance itself).';

/** Options of {@link createNeptuneAnalyticsStore}. */
export interface NeptuneAnalyticsStoreOptions {
  /** A configured `NeptuneGraphClient` to use instead of `region`, `endpoint` and the default credentials. */
  client?: NeptuneGraphClient;
  /** The graph (`g-...`) with a vector search index. Default: `NEPTUNE_ANALYTICS_GRAPH_ID`. */
  graphIdentifier?: string;
  /** AWS region. Default: the SDK's (`AWS_REGION`, profile). */
  region?: string;
  /** Endpoint override (a proxy or test double). Default: `NEPTUNE_ANALYTICS_ENDPOINT`, else AWS's. */
  endpoint?: string;
  /** Node label of a collection's records. Default: the collection name. */
  label?: (collection: string) => string;
  /** Attempts per call inside the SDK (throttling, 5xx, lost connections). Default: the SDK's (3). */
  maxAttempts?: number;
}

/** Records per upsert or delete statement. */
const maxBatchSize = 100;
/** Label of the nodes that record each collection's dimension (they carry no embedding). */
export const neptuneAnalyticsCollectionLabel = 'EngramCollection';
const recordProperty = 'engram_record';
const idProperty = 'engram_id';
/** The id as hex per UTF-16 unit, so that pages follow JavaScript's string order. */
const orderProperty = 'engram_order';
const labelPattern = /^[A-Za-z_][A-Za-z0-9_-]{0,127}$/;

/** The node properties of a record: its id, the record JSON, the scope ids and the filter properties. */
export function toNeptuneAnalyticsProperties(record: VectorRecord): Record<string, unknown> {
  const { vector: _vector, keywordText: _keywordText, ...stored } = record;
  const properties: Record<string, unknown> = {
    [idProperty]: record.id,
    [orderProperty]: orderedHex(record.id),
    [recordProperty]: JSON.stringify(stored),
    ...neptuneAnalyticsFilterProperties(record.metadata),
  };
  for (const field of scopeFields) {
    if (record[field] !== undefined) properties[field] = record[field];
  }
  return properties;
}

/** Scope, ids and portable filter as one `WHERE` condition over `n`; `false` when nothing can match. */
export function neptuneAnalyticsWhere(selection: {
  scope?: Scope | undefined;
  filter?: FilterExpression | undefined;
  ids?: readonly string[];
}): NeptuneAnalyticsWhere {
  const parameters: Record<string, unknown> = {};
  const normalized = normalizeScope(selection.scope, { source });
  const conditions: string[] = [];
  for (const field of scopeFields) {
    if (normalized[field] === undefined) continue;
    parameters[field] = normalized[field];
    conditions.push(`coalesce(n.${field} = $${field}, false)`);
  }
  if (selection.ids) {
    parameters.ids = [...selection.ids];
    conditions.push(`n.${idProperty} IN $ids`);
  }
  if (selection.filter) {
    const translated = translateNeptuneAnalyticsFilter(validateFilter(selection.filter));
    if (translated === false) return { cypher: 'false', parameters: {} };
    if (translated !== true) {
      conditions.push(renderNeptuneAnalyticsCondition(translated, parameters));
    }
  }
  return { cypher: conditions.length === 0 ? 'true' : conditions.join(' AND '), parameters };
}

/**
 * An Amazon Neptune Analytics store: records are nodes labelled with their collection, the
 * embedding in the graph's one vector index, the record as a JSON property beside typed filter
 * properties. Queries are exact: scope and filter select nodes in `WHERE`, then
 * `neptune.algo.vectors.distance.byEmbedding` ranks them by cosine similarity.
 */
export function createNeptuneAnalyticsStore(
  options: NeptuneAnalyticsStoreOptions = {},
): VectorStore {
  let client: NeptuneGraphClient | undefined = options.client;
  const ownClient = !options.client;
  const setting = optionalSettingLoader(source);
  const dimensionsByCollection = new Map<string, number>();
  let indexDimensions: number | undefined;

  function neptune(): NeptuneGraphClient {
    if (client) return client;
    const endpoint = setting(options.endpoint, 'endpoint', 'NEPTUNE_ANALYTICS_ENDPOINT');
    client = new NeptuneGraphClient({
      ...(options.region ? { region: options.region } : {}),
      ...(endpoint ? { endpoint } : {}),
      ...(options.maxAttempts === undefined ? {} : { maxAttempts: options.maxAttempts }),
    });
    return client;
  }

  const graphIdentifier = () =>
    requiredSetting(
      setting(options.graphIdentifier, 'graphIdentifier', 'NEPTUNE_ANALYTICS_GRAPH_ID'),
      source,
      'Neptune Analytics needs a graph: pass graphIdentifier or set NEPTUNE_ANALYTICS_GRAPH_ID (a graph created with a vector search index).',
    );

  function label(collection: string): string {
    const name = options.label ? options.label(collection) : collection;
    if (!labelPattern.test(name) || name === neptuneAnalyticsCollectionLabel) {
      throw new InvalidArgumentError({
        source,
        message: `Collection "${collection}" maps to the label "${name}", which is not a letter or "_" followed by letters, digits, "_" or "-" (or is reserved); pass label to map it.`,
      });
    }
    return cypherName(name);
  }

  const markerId = (collection: string) => `engram-collection:${collection}`;
  const nodeId = (collection: string, id: string) => `engram:${collection}:${id}`;

  async function run(query: string, parameters: Record<string, unknown> = {}) {
    const response = await neptune().send(
      new ExecuteQueryCommand({
        graphIdentifier: graphIdentifier(),
        language: 'OPEN_CYPHER',
        queryString: query,
        parameters: parameters as never,
      }),
    );
    const text = await response.payload.transformToString();
    return ((JSON.parse(text) as { results?: Record<string, unknown>[] }).results ?? []) as Record<
      string,
      unknown
    >[];
  }

  async function graphDimensions(): Promise<number> {
    if (indexDimensions !== undefined) return indexDimensions;
    const graph = await neptune().send(new GetGraphCommand({ graphIdentifier: graphIdentifier() }));
    const dimension = graph.vectorSearchConfiguration?.dimension;
    if (!dimension) {
      throw new InvalidArgumentError({
        source,
        message: `Graph "${graphIdentifier()}" has no vector search index; create the graph with vectorSearchConfiguration (the index can only be added when a graph is created).`,
      });
    }
    indexDimensions = dimension;
    return dimension;
  }

  async function dimensionsOf(collection: string): Promise<number> {
    const known = dimensionsByCollection.get(collection);
    if (known !== undefined) return known;
    const [row] = await run(
      `MATCH (c:${cypherName(neptuneAnalyticsCollectionLabel)}) WHERE id(c) = $marker RETURN c.dimensions AS dimensions`,
      { marker: markerId(collection) },
    );
    if (typeof row?.dimensions !== 'number') {
      throw new NotFoundError({
        source,
        message: `Collection "${collection}" does not exist in the graph; call ensureCollection first.`,
      });
    }
    dimensionsByCollection.set(collection, row.dimensions);
    return row.dimensions;
  }

  /** Zero-pads a vector to the index dimension: cosine similarity is unchanged. */
  async function padded(vector: readonly number[]): Promise<number[]> {
    const size = await graphDimensions();
    return [...vector, ...new Array<number>(size - vector.length).fill(0)];
  }

  function toRecord(row: Record<string, unknown>, dimensions?: number): StoredRecord {
    const record = JSON.parse(String(row.record)) as StoredRecord;
    if (dimensions !== undefined && Array.isArray(row.embedding)) {
      record.vector = (row.embedding as number[]).slice(0, dimensions);
    }
    return record;
  }

  function returned(includeVectors: boolean | undefined) {
    return includeVectors
      ? 'CALL neptune.algo.vectors.get(n) YIELD embedding RETURN n.engram_record AS record, embedding'
      : 'RETURN n.engram_record AS record';
  }

  return defineVectorStore({
    provider: source,
    capabilities: {
      keywordSearch: false,
      filterOperators: neptuneAnalyticsFilterOperators,
      maxBatchSize,
      metric: 'cosine',
      atomicHistory: false,
    },
    toError: (error, action) => toNeptuneAnalyticsError(error, action),
    onClose: () => {
      if (ownClient) client?.destroy();
    },
    methods: (lifecycle) => ({
      async ensureCollection({ collection, dimensions }) {
        assertPositiveInteger(dimensions, 'dimensions', source);
        label(collection);
        const index = await graphDimensions();
        if (dimensions > index) {
          throw new DimensionMismatchError({
            source,
            expected: index,
            actual: dimensions,
            message: `Collection "${collection}" needs ${dimensions} dimensions, but the graph's vector index has ${index} (fixed when the graph was created); use a graph with a larger index or an embedder of at most ${index} dimensions.`,
          });
        }
        const [row] = await run(
          `MERGE (c:${cypherName(neptuneAnalyticsCollectionLabel)} {\`~id\`: $marker}) ON CREATE SET c.dimensions = $dimensions RETURN c.dimensions AS dimensions`,
          { marker: markerId(collection), dimensions },
        );
        const existing = typeof row?.dimensions === 'number' ? row.dimensions : dimensions;
        assertCollectionDimensions({ source, collection, existing, requested: dimensions });
        dimensionsByCollection.set(collection, existing);
      },

      async upsert({ collection, records, abortSignal }) {
        if (records.length === 0) return;
        const dimensions = await dimensionsOf(collection);
        assertRecords(records, { source, dimensions, collection });
        for (const batch of chunk(records, maxBatchSize)) {
          lifecycle.check(abortSignal);
          const rows = await Promise.all(
            batch.map(async (record) => ({
              nodeId: nodeId(collection, record.id),
              properties: toNeptuneAnalyticsProperties(record),
              embedding: await padded(record.vector),
            })),
          );
          // SET n = map replaces every property, so a re-upsert leaves no stale filter keys.
          await run(
            `UNWIND $rows AS row MERGE (n:${label(collection)} {\`~id\`: row.nodeId}) SET n = row.properties WITH n, row CALL neptune.algo.vectors.upsert(n, row.embedding) YIELD success RETURN count(success) AS upserted`,
            { rows },
          );
        }
      },

      async query({ collection, vector: given, text, topK, scope, filter, includeVectors }) {
        const vector = requireQueryVector({ vector: given, text }, { source, noKeywordSearch });
        const dimensions = await dimensionsOf(collection);
        assertVectorLength(vector, dimensions, { source, what: 'The query vector', collection });
        const where = neptuneAnalyticsWhere({ scope, filter });
        if (where.cypher === 'false' || topK < 1) return [];
        const rows = await run(
          `MATCH (n:${label(collection)}) WHERE ${where.cypher} CALL neptune.algo.vectors.distance.byEmbedding(n, {embedding: $embedding, metric: "CosineSimilarity"}) YIELD distance ${
            includeVectors ? 'CALL neptune.algo.vectors.get(n) YIELD embedding ' : ''
          }RETURN n.engram_record AS record, distance AS score${
            includeVectors ? ', embedding' : ''
          } ORDER BY score DESC, n.engram_order LIMIT $topK`,
          { ...where.parameters, embedding: await padded(vector), topK },
        );
        return rows.map((row) => ({
          score: Number(row.score),
          record: toRecord(row, includeVectors ? dimensions : undefined),
        }));
      },

      async get({ collection, ids, includeVectors }) {
        if (ids.length === 0) return [];
        const dimensions = await dimensionsOf(collection);
        const rows = await run(
          `MATCH (n:${label(collection)}) WHERE n.engram_id IN $ids ${returned(includeVectors)}`,
          { ids },
        );
        const byId = new Map(
          rows.map((row) => {
            const record = toRecord(row, includeVectors ? dimensions : undefined);
            return [record.id, record] as const;
          }),
        );
        return ids.filter((id) => byId.has(id)).map((id) => byId.get(id)!);
      },

      async delete({ collection, ids, scope, filter }) {
        await dimensionsOf(collection);
        let where: NeptuneAnalyticsWhere;
        if (ids) {
          if (ids.length === 0) return { deleted: 0 };
          where = neptuneAnalyticsWhere({ ids });
        } else {
          const normalized = normalizeScope(scope, { source });
          assertDeleteSelection({ scope: normalized, filter }, source);
          where = neptuneAnalyticsWhere({ scope: normalized, filter });
        }
        if (where.cypher === 'false') return { deleted: 0 };
        const [row] = await run(
          `MATCH (n:${label(collection)}) WHERE ${where.cypher} DETACH DELETE n RETURN count(*) AS deleted`,
          where.parameters,
        );
        return { deleted: Number(row?.deleted ?? 0) };
      },

      async list({ collection, limit, cursor, scope, filter, includeVectors }) {
        assertPositiveInteger(limit, 'limit', source);
        const after = decodeCursor(cursor, source);
        const dimensions = await dimensionsOf(collection);
        const where = neptuneAnalyticsWhere({ scope, filter });
        if (where.cypher === 'false') return { records: [] };
        const rows = await run(
          `MATCH (n:${label(collection)}) WHERE ${where.cypher}${
            after === undefined ? '' : ' AND n.engram_order > $after'
          } WITH n ORDER BY n.engram_order LIMIT $limit ${returned(includeVectors)}`,
          {
            ...where.parameters,
            ...(after === undefined ? {} : { after: orderedHex(after) }),
            limit: limit + 1,
          },
        );
        const records = rows
          .map((row) => toRecord(row, includeVectors ? dimensions : undefined))
          .sort((left, right) => (left.id < right.id ? -1 : left.id > right.id ? 1 : 0));
        const page = records.slice(0, limit);
        return {
          records: page,
          ...(records.length > limit ? { nextCursor: encodeCursor(page.at(-1)!.id) } : {}),
        };
      },

      async count({ collection, scope, filter }) {
        await dimensionsOf(collection);
        const where = neptuneAnalyticsWhere({ scope, filter });
        if (where.cypher === 'false') return 0;
        const [row] = await run(
          `MATCH (n:${label(collection)}) WHERE ${where.cypher} RETURN count(n) AS count`,
          where.parameters,
        );
        return Number(row?.count ?? 0);
      },

      async dropCollection({ collection }) {
        dimensionsByCollection.delete(collection);
        await run(`MATCH (n:${label(collection)}) DETACH DELETE n`);
        await run(
          `MATCH (c:${cypherName(neptuneAnalyticsCollectionLabel)}) WHERE id(c) = $marker DELETE c`,
          { marker: markerId(collection) },
        );
      },
    }),
  });
}
