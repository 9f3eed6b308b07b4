import { ExecuteOpenCypherQueryCommand, NeptunedataClient } from '@aws-sdk/client-neptunedata';
import {
  type CallOptions,
  ClosedError,
  cosineSimilarity,
  decodeCursor,
  encodeCursor,
  type GraphStore,
  type GraphTriple,
  InvalidArgumentError,
  NotFoundError,
  normalizeScope,
  type Scope,
  throwIfAborted,
} from '@engram/core';
import {
  deleteScopeStatements,
  invalidateStatement,
  listStatement,
  missingEndpointsStatement,
  type NeptuneStatement,
  neighboursStatement,
  scopeEntitiesStatement,
  upsertEntitiesStatement,
  upsertRelationsStatement,
} from './neptune-cypher.js';
import { toNeptuneError } from './neptune-errors.js';
import {
  entityFromProperties,
  entityProperties,
  relationFromProperties,
  relationProperties,
} from './neptune-records.js';

const source = 'neptune';

/** What the store needs from a Neptune data client: `send` of `ExecuteOpenCypherQueryCommand`. */
export interface NeptuneQueryClient {
  send(
    command: ExecuteOpenCypherQueryCommand,
    options?: { abortSignal?: AbortSignal },
  ): Promise<{ results?: unknown }>;
}

/** Options of {@link createNeptuneGraphStore}. */
export interface NeptuneGraphStoreOptions {
  /**
   * A configured `NeptunedataClient` (or anything with its `send`) to use instead of connection
   * settings. The store never destroys it.
   */
  client?: NeptuneQueryClient;
  /**
   * Cluster endpoint, e.g. `https://my-cluster.cluster-abc.us-east-1.neptune.amazonaws.com:8182`.
   * Default: `NEPTUNE_ENDPOINT`.
   */
  endpoint?: string;
  /**
   * AWS region for request signing. Default: `NEPTUNE_REGION`, else the SDK's own resolution
   * (`AWS_REGION`, the shared config). Credentials come from the SDK's default provider chain.
   */
  region?: string;
  /** Largest number of entities or relations sent in one query. Default 500. */
  batchSize?: number;
  /**
   * Ignored: accepted so that `ENGRAM_GRAPH=neptune` (which passes a data path to every graph
   * store) works; the cluster keeps the data.
   */
  path?: string;
  /** Environment to read defaults from. Default: `process.env`. */
  env?: Record<string, string | undefined>;
}

type Row = Record<string, unknown>;

function positiveInteger(value: number, name: string): void {
  if (!Number.isInteger(value) || value <= 0) {
    throw new InvalidArgumentError({
      source,
      message: `${name} must be a positive integer, got ${value}.`,
    });
  }
}

function requiredScope(scope: Scope): Scope {
  const normalized = normalizeScope(scope, { source });
  if (Object.keys(normalized).length === 0) {
    throw new InvalidArgumentError({
      source,
      message: 'A non-empty scope (userId, agentId or runId) is required.',
    });
  }
  return normalized;
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let start = 0; start < items.length; start += size)
    chunks.push(items.slice(start, start + size));
  return chunks;
}

function triple(row: Row): GraphTriple {
  return {
    relation: relationFromProperties(row.relation),
    source: entityFromProperties(row.source),
    destination: entityFromProperties(row.destination),
  };
}

/**
 * An Amazon Neptune Database graph store through the openCypher data API: entities are
 * `:EngramEntity` nodes and relations `[:RELATES]` edges (the relationship name is a property),
 * both carrying the scope fields, which every query filters by. Neptune Database has no vector
 * index, so entity similarity is exact cosine over the scope's entities, computed here.
 */
export function createNeptuneGraphStore(options: NeptuneGraphStoreOptions = {}): GraphStore {
  const env = options.env ?? process.env;
  const batchSize = options.batchSize ?? 500;
  positiveInteger(batchSize, 'batchSize');
  let client: NeptuneQueryClient | undefined = options.client;
  let ownedClient: NeptunedataClient | undefined;
  let closed = false;

  function open(callOptions: CallOptions): NeptuneQueryClient {
    if (closed) {
      throw new ClosedError({ source, message: 'The graph store was closed; create a new one.' });
    }
    throwIfAborted(callOptions.abortSignal, source);
    if (!client) {
      const endpoint = options.endpoint ?? env.NEPTUNE_ENDPOINT;
      if (!endpoint) {
        throw new InvalidArgumentError({
          source,
          message:
            'No Neptune endpoint: pass { endpoint } or set NEPTUNE_ENDPOINT (https://<cluster>:8182).',
        });
      }
      const region = options.region ?? env.NEPTUNE_REGION;
      ownedClient = new NeptunedataClient({ endpoint, ...(region ? { region } : {}) });
      client = ownedClient;
    }
    return client;
  }

  async function query(
    callOptions: CallOptions,
    action: string,
    statement: NeptuneStatement,
  ): Promise<Row[]> {
    const target = open(callOptions);
    try {
      const response = await target.send(
        new ExecuteOpenCypherQueryCommand({
          openCypherQuery: statement.text,
          parameters: JSON.stringify(statement.parameters),
        }),
        callOptions.abortSignal ? { abortSignal: callOptions.abortSignal } : undefined,
      );
      return Array.isArray(response.results) ? (response.results as Row[]) : [];
    } catch (error) {
      throw toNeptuneError(error, action);
    }
  }

  async function close() {
    if (closed) return;
    closed = true;
    ownedClient?.destroy();
    ownedClient = undefined;
    client = undefined;
  }

  return {
    specificationVersion: 'v1',
    provider: 'neptune',
    capabilities: { nativeVectorIndex: false },

    async ensureSchema(callOptions) {
      // Neptune indexes every property itself; there is nothing to create.
      open(callOptions);
      positiveInteger(callOptions.dimensions, 'dimensions');
    },

    async upsertEntities(callOptions) {
      open(callOptions);
      const entities = callOptions.entities.map(entityProperties);
      for (const batch of chunk(entities, batchSize)) {
        await query(callOptions, 'upsertEntities', upsertEntitiesStatement(batch));
      }
    },

    async upsertRelations(callOptions) {
      open(callOptions);
      if (callOptions.relations.length === 0) return;
      const missing = await query(
        callOptions,
        'upsertRelations',
        missingEndpointsStatement(callOptions.relations),
      );
      if (missing.length > 0) {
        throw new NotFoundError({
          source,
          message: `Relations ${missing.map((row) => row.missing).join(', ')} name entities that do not exist; upsert the entities first.`,
        });
      }
      const relations = callOptions.relations.map(relationProperties);
      for (const batch of chunk(relations, batchSize)) {
        await query(callOptions, 'upsertRelations', upsertRelationsStatement(batch));
      }
    },

    async findSimilarEntities(callOptions) {
      open(callOptions);
      const scope = requiredScope(callOptions.scope);
      positiveInteger(callOptions.topK, 'topK');
      const rows = await query(callOptions, 'findSimilarEntities', scopeEntitiesStatement(scope));
      return rows
        .map((row) => entityFromProperties(row.entity))
        .filter((entity) => entity.embedding.length === callOptions.embedding.length)
        .map((entity) => ({
          entity,
          score: cosineSimilarity(callOptions.embedding, entity.embedding),
        }))
        .filter(
          (match) => callOptions.threshold === undefined || match.score >= callOptions.threshold,
        )
        .sort(
          (left, right) => right.score - left.score || (left.entity.id < right.entity.id ? -1 : 1),
        )
        .slice(0, callOptions.topK);
    },

    async neighbours(callOptions) {
      open(callOptions);
      const scope = requiredScope(callOptions.scope);
      positiveInteger(callOptions.limit, 'limit');
      if (callOptions.entityIds.length === 0) return [];
      const rows = await query(
        callOptions,
        'neighbours',
        neighboursStatement({ ...callOptions, scope }),
      );
      return rows.map(triple);
    },

    async invalidateRelations(callOptions) {
      open(callOptions);
      const scope = requiredScope(callOptions.scope);
      if (callOptions.relationIds.length === 0) return;
      await query(
        callOptions,
        'invalidateRelations',
        invalidateStatement({ ...callOptions, scope }),
      );
    },

    async list(callOptions) {
      open(callOptions);
      const scope = requiredScope(callOptions.scope);
      positiveInteger(callOptions.limit, 'limit');
      const after = decodeCursor(callOptions.cursor, source);
      const rows = await query(
        callOptions,
        'list',
        listStatement({
          scope,
          limit: callOptions.limit,
          ...(after === undefined ? {} : { after }),
          ...(callOptions.includeInvalidated ? { includeInvalidated: true } : {}),
        }),
      );
      const triples = rows.slice(0, callOptions.limit).map(triple);
      const last = triples.at(-1);
      return {
        triples,
        ...(rows.length > callOptions.limit && last
          ? { nextCursor: encodeCursor(last.relation.id) }
          : {}),
      };
    },

    async deleteScope(callOptions) {
      open(callOptions);
      const scope = requiredScope(callOptions.scope);
      const statements = deleteScopeStatements(scope);
      const [relations] = await query(callOptions, 'deleteScope', statements.relations);
      const [entities] = await query(callOptions, 'deleteScope', statements.entities);
      return { deleted: Number(relations?.deleted ?? 0) + Number(entities?.deleted ?? 0) };
    },

    close,
    [Symbol.asyncDispose]: close,
  };
}
