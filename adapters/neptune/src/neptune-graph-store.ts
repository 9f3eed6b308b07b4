import { ExecuteOpenCypherQueryCommand, NeptunedataClient } from '@aws-sdk/client-neptunedata';
import { loadOptionalSetting, loadSetting } from '@engram/adapter-kit';
import type { GraphStore } from '@engram/core';
import { type CypherRow, createCypherGraphStore } from '@engram/cypher-compatible';
import { toNeptuneError } from './neptune-errors.js';

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

/**
 * An Amazon Neptune Database graph store through the openCypher data API: entities are
 * `:EngramEntity` nodes and relations `[:RELATES]` edges (the relationship name is a property),
 * both carrying the scope fields, which every query filters by. Neptune Database has no vector
 * index, so entity similarity is exact cosine over the scope's entities, computed here.
 */
export function createNeptuneGraphStore(options: NeptuneGraphStoreOptions = {}): GraphStore {
  const environment = options.env ?? process.env;
  let client = options.client;
  let ownedClient: NeptunedataClient | undefined;

  function open(): NeptuneQueryClient {
    if (client) return client;
    const endpoint = loadSetting({
      value: options.endpoint,
      environmentVariableName: 'NEPTUNE_ENDPOINT',
      settingName: 'endpoint',
      description: 'The Neptune endpoint (https://<cluster>:8182)',
      source,
      environment,
    });
    const region = loadOptionalSetting({
      value: options.region,
      environmentVariableName: 'NEPTUNE_REGION',
      settingName: 'region',
      source,
      environment,
    });
    ownedClient = new NeptunedataClient({ endpoint, ...(region ? { region } : {}) });
    client = ownedClient;
    return client;
  }

  return createCypherGraphStore({
    provider: source,
    dialect: { flavour: 'neptune', similarity: 'client' },
    batchSize: options.batchSize ?? 500,
    toError: toNeptuneError,
    // Neptune indexes every property itself: there is nothing to create, only settings to check.
    ensureSchema: async () => void open(),
    onClose() {
      ownedClient?.destroy();
      ownedClient = undefined;
      client = undefined;
    },
    connection: {
      // Every request is its own transaction: `work` simply sends its statements one by one.
      transaction: (_mode, work, abortSignal) =>
        work(async (statement) => {
          const response = await open().send(
            new ExecuteOpenCypherQueryCommand({
              openCypherQuery: statement.text,
              parameters: JSON.stringify(statement.parameters),
            }),
            abortSignal ? { abortSignal } : undefined,
          );
          return Array.isArray(response.results) ? (response.results as CypherRow[]) : [];
        }),
    },
  });
}
