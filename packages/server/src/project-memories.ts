import { access, constants, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type Embedder,
  EngramError,
  type HistoryStore,
  InvalidArgumentError,
  type LLM,
  loadAdapterPackage,
  Memory,
  resolveEmbedderFromEnvironment,
  resolveLLMFromEnvironment,
  type VectorStore,
} from '@engram/core';
import { instrumentEmbedder, instrumentLLM, type ServerMetrics } from './metrics.js';
import type { ServerConfig, StoreConfig } from './server-config.js';

const source = 'server';

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
  describe(): Promise<{ vectorStore: string; embedder: string; llm: string }>;
  close(): Promise<void>;
}

/** The collection of a project in the vector store. */
export function projectCollection(project: string): string {
  return `p_${project}`;
}

function pascalCase(name: string): string {
  return name
    .split(/[-_]/)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}

type Factory<T> = (options: Record<string, unknown>) => T;

function pickFactory<T>(
  module: Record<string, unknown>,
  specifier: string,
  candidates: RegExp[],
  preferred: string[],
): Factory<T> {
  for (const name of preferred) {
    if (typeof module[name] === 'function') return module[name] as Factory<T>;
  }
  for (const pattern of candidates) {
    const names = Object.keys(module).filter(
      (name) => pattern.test(name) && typeof module[name] === 'function',
    );
    if (names.length === 1) return module[names[0]!] as Factory<T>;
  }
  throw new InvalidArgumentError({
    source,
    message: `${specifier} exports no store factory (expected ${preferred.join(' or ')}).`,
  });
}

// Adapter packages named by configuration resolve from the server's own dependencies first
// (then from the working directory, as core does for applications).
const importFromServer = (specifier: string): Promise<unknown> => import(specifier);

async function loadVectorStoreFactory(config: StoreConfig): Promise<Factory<VectorStore>> {
  const specifier = `@engram/${config.provider}`;
  const module = await loadAdapterPackage(
    specifier,
    `ENGRAM_VECTOR_STORE=${config.provider}`,
    importFromServer,
  );
  const name = pascalCase(config.provider);
  return pickFactory<VectorStore>(
    module,
    specifier,
    [/^create\w*VectorStore$/, /^create\w*Store$/],
    [`create${name}VectorStore`, `create${name}Store`],
  );
}

async function loadHistoryStore(config: StoreConfig): Promise<HistoryStore> {
  const specifier = `@engram/${config.provider}`;
  const module = await loadAdapterPackage(
    specifier,
    `ENGRAM_HISTORY_STORE=${config.provider}`,
    importFromServer,
  );
  const name = pascalCase(config.provider);
  const create = pickFactory<HistoryStore>(
    module,
    specifier,
    [/^create\w*HistoryStore$/],
    [`create${name}HistoryStore`],
  );
  return create({ ...config.options, ...(config.url ? { url: config.url } : {}) });
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
      const history = config.historyStore ? await loadHistoryStore(config.historyStore) : undefined;
      if (embedded) return { ...(history ? { history } : {}), dimensions: embedder.dimensions };
      const create = await loadVectorStoreFactory(config.vectorStore);
      const store = create({
        ...config.vectorStore.options,
        ...(config.vectorStore.url ? { url: config.vectorStore.url } : {}),
      });
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
      const sqlite = await loadAdapterPackage(
        '@engram/sqlite',
        'The embedded store',
        importFromServer,
      );
      const create = sqlite.createSqliteStore as Factory<VectorStore>;
      vectorStore = create({
        vectorCacheSize: 1_000_000,
        ...config.vectorStore.options,
        path: join(directory, `${project}.db`),
      });
    }
    stores.set(project, vectorStore);
    return new Memory({
      vectorStore,
      ...(history ? { historyStore: history } : {}),
      embedder,
      llm: llm ?? null,
      collection: projectCollection(project),
      actor: `project:${project}`,
      env: config.env,
      importModule: importFromServer,
    });
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
    },
  };
}
