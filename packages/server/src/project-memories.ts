import { access, constants, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type AdapterComponents,
  createMemoryFromEnvironment,
  type Embedder,
  EngramError,
  type HistoryStore,
  type LLM,
  loadAdapter,
  type Memory,
  resolveEmbedderFromEnvironment,
  resolveLLMFromEnvironment,
  type ScopeLock,
  type VectorStore,
} from '@engram/core';
import { instrumentEmbedder, instrumentLLM, type ServerMetrics } from './metrics.js';
import { createRedisScopeLock } from './redis-scope-lock.js';
import type { ServerConfig, StoreConfig } from './server-config.js';

/** The engine of every project, opened on first use. */
export interface ProjectMemories {
  /** The `Memory` of a project; its collection is `p_<project>`. */
  memory(project: string): Promise<Memory>;
  /**
   * Whether history must be checked against the project's collection before it is returned:
   * true when several projects share one history store.
   */
  readonly sharedHistory: boolean;
  /** Throws when the configured stores cannot be reached. */
  check(): Promise<void>;
  /** Memories per project opened by this process. */
  counts(): Promise<Array<{ project: string; count: number }>>;
  /** The embedder and LLM in use, for logs. */
  describe(): Promise<{
    vectorStore: string;
    embedder: string;
    llm: string;
    scopeLock: string;
  }>;
  close(): Promise<void>;
}

/** The collection of a project in the vector store. */
export function projectCollection(project: string): string {
  return `p_${project}`;
}

// Adapter packages named by configuration resolve from the server's own dependencies first
// (then from the working directory, as core does for applications).
const importFromServer = (specifier: string): Promise<unknown> => import(specifier);

/** Creates the store the configuration names, through the descriptor its package exports. */
async function createConfiguredStore<Kind extends 'vector' | 'history'>(
  kind: Kind,
  store: StoreConfig,
  settings: { env: ServerConfig['env']; dataDir: string; options?: Record<string, unknown> },
): Promise<AdapterComponents[Kind]> {
  const variable = kind === 'vector' ? 'ENGRAM_VECTOR_STORE' : 'ENGRAM_HISTORY_STORE';
  const descriptor = await loadAdapter(kind, store.provider, {
    importModule: importFromServer,
    purpose: `${variable}=${store.provider}`,
  });
  return descriptor.create({
    env: settings.env,
    dataDir: settings.dataDir,
    options: {
      ...store.options,
      ...(store.url ? { url: store.url } : {}),
      ...settings.options,
    },
  });
}

/**
 * Opens project engines as configured. With the embedded SQLite store each project gets its
 * own database file (`<dataDir>/projects/<project>.db`), so memories and history never share
 * a table; other stores hold one collection per project.
 */
export function createProjectMemories(
  config: ServerConfig,
  metrics: ServerMetrics,
): ProjectMemories {
  const embedded = config.vectorStore.provider === 'sqlite' && !config.vectorStore.url;
  const memories = new Map<string, Promise<Memory>>();
  const stores = new Map<string, VectorStore>();
  let models: Promise<{ embedder: Embedder; llm: LLM | undefined }> | undefined;
  let shared:
    | Promise<{ store?: VectorStore; history?: HistoryStore; dimensions: number }>
    | undefined;
  // Several servers and workers share REDIS_URL: adds of one scope take turns through it unless
  // the vector store has a lock of its own. One lock serves every project; it closes last.
  const redisLock = config.queue.redisUrl
    ? createRedisScopeLock({ url: config.queue.redisUrl })
    : undefined;
  const lockFor = (store: VectorStore): { scopeLock?: ScopeLock } =>
    !store.scopeLock && redisLock ? { scopeLock: { ...redisLock, close: async () => {} } } : {};

  function loadModels() {
    models ??= (async () => {
      const embedder = await resolveEmbedderFromEnvironment(config.env, importFromServer);
      const llm = await resolveLLMFromEnvironment(config.env, importFromServer);
      return {
        embedder: instrumentEmbedder(embedder, metrics),
        llm: llm ? instrumentLLM(llm, metrics) : undefined,
      };
    })();
    models.catch(() => {
      models = undefined;
    });
    return models;
  }

  function loadShared() {
    shared ??= (async () => {
      const { embedder } = await loadModels();
      const settings = { env: config.env, dataDir: config.dataDir };
      const history = config.historyStore
        ? await createConfiguredStore('history', config.historyStore, settings)
        : undefined;
      if (embedded) return { ...(history ? { history } : {}), dimensions: embedder.dimensions };
      const store = await createConfiguredStore('vector', config.vectorStore, settings);
      return { store, ...(history ? { history } : {}), dimensions: embedder.dimensions };
    })();
    shared.catch(() => {
      shared = undefined;
    });
    return shared;
  }

  async function open(project: string): Promise<Memory> {
    const { embedder, llm } = await loadModels();
    const { store, history } = await loadShared();
    let vectorStore = store;
    if (!vectorStore) {
      const directory = join(config.dataDir, 'projects');
      await mkdir(directory, { recursive: true });
      vectorStore = await createConfiguredStore(
        'vector',
        {
          ...config.vectorStore,
          options: { vectorCacheSize: 1_000_000, ...config.vectorStore.options },
        },
        {
          env: config.env,
          dataDir: directory,
          options: { path: join(directory, `${project}.db`) },
        },
      );
    }
    stores.set(project, vectorStore);
    // Only graph memory is left to the environment (ENGRAM_GRAPH), as for the CLI.
    return createMemoryFromEnvironment(config.env, {
      vectorStore,
      ...(history ? { historyStore: history } : {}),
      embedder,
      llm: llm ?? null,
      ...lockFor(vectorStore),
      collection: projectCollection(project),
      actor: `project:${project}`,
      dataDir: config.dataDir,
      importModule: importFromServer,
    });
  }

  /** Which lock orders adds across processes, for the configuration log. */
  async function scopeLockName(): Promise<string> {
    const own = embedded
      ? config.vectorStore.options.scopeLock === false
        ? undefined
        : 'sqlite'
      : await loadShared().then(
          (loaded) => loaded.store?.scopeLock?.provider,
          () => undefined,
        );
    return own ?? (redisLock ? 'redis' : 'none (adds take turns within each process only)');
  }

  return {
    sharedHistory: !embedded || config.historyStore !== undefined,
    memory(project) {
      let memory = memories.get(project);
      if (!memory) {
        memory = open(project);
        memories.set(project, memory);
        memory.catch(() => memories.delete(project));
      }
      return memory;
    },
    async check() {
      await mkdir(config.dataDir, { recursive: true });
      await access(config.dataDir, constants.W_OK);
      const { store, dimensions } = await loadShared();
      if (store) {
        await store.ensureCollection({ collection: 'engram_readiness', dimensions });
        await store.count({ collection: 'engram_readiness' });
      }
    },
    async counts() {
      const results: Array<{ project: string; count: number }> = [];
      for (const [project, store] of stores) {
        try {
          results.push({
            project,
            count: await store.count({ collection: projectCollection(project) }),
          });
        } catch (error) {
          // A project whose collection was not created yet has nothing to count.
          if (!EngramError.isInstance(error)) throw error;
        }
      }
      return results;
    },
    async describe() {
      const { embedder, llm } = await loadModels();
      return {
        vectorStore: embedded ? 'sqlite (one file per project)' : config.vectorStore.provider,
        embedder: `${embedder.provider}:${embedder.modelId}`,
        llm: llm ? `${llm.provider}:${llm.modelId}` : 'none',
        scopeLock: await scopeLockName(),
      };
    },
    async close() {
      const open = [...memories.values()];
      memories.clear();
      stores.clear();
      for (const pending of open) {
        const memory = await pending.catch(() => undefined);
        await memory?.close();
      }
      const sharedStores = await shared?.catch(() => undefined);
      await sharedStores?.store?.close();
      await sharedStores?.history?.close();
      await redisLock?.close();
    },
  };
}
