import { access, constants, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type AdapterComponents,
  createMemoryFromEnvironment,
  createPrivateDirectory,
  type Embedder,
  EngramError,
  embedderRecordFile,
  fileReembedState,
  type GraphStore,
  graphStoreFromEnvironment,
  type HistoryStore,
  type LLM,
  loadAdapter,
  type Memory,
  type Reranker,
  readEmbedderRecords,
  recordEmbedder,
  recordingEmbedder,
  resolveEmbedderFromEnvironment,
  resolveLLMFromEnvironment,
  resolveRerankerFromEnvironment,
  type ScopeLock,
  type VectorStore,
} from '@engram/core';
import { createFileChangeCheck } from './file-change-check.js';
import {
  instrumentEmbedder,
  instrumentLLM,
  instrumentReranker,
  type ServerMetrics,
} from './metrics.js';
import { createRedisScopeLock } from './redis-scope-lock.js';
import type { ServerConfig, StoreConfig } from './server-config.js';
import { reportedStoreSizes } from './store-sizes.js';
import { traceGraphStore, traceHistoryStore, traceVectorStore } from './traced-components.js';

/** The engine of every project, opened on first use. */
export interface ProjectMemories {
  /** The `Memory` of a project; its collection is `p_<project>`. */
  memory(project: string): Promise<Memory>;
  /** Throws when the configured stores cannot be reached. */
  check(): Promise<void>;
  /**
   * One tiny call to the embedder and the LLM, as `engram doctor` makes: `ok`, `off` or what
   * failed, per model (`checking` until the first answer). Answers the last result at once and
   * refreshes it in the background at most once a minute, so probes cost next to nothing.
   */
  checkModels?(): Promise<Record<string, string>>;
  /** Memories per project opened by this process. */
  counts(): Promise<Array<{ project: string; count: number }>>;
  /**
   * Bytes of each open project's store, where they can be measured: the embedded SQLite files
   * (database, write-ahead log, saved vector indexes), else what a store that implements
   * `VectorStore.stats` reports for the project's collection; other stores are left out.
   */
  sizes?(): Promise<Array<{ project: string; bytes: number }>>;
  /**
   * Memories per user of each open project, read page by page up to `limit` memories per
   * project (a sample of the largest ones). Memories without a user id are not counted.
   */
  userCounts?(limit?: number): Promise<Array<{ project: string; perUser: number[] }>>;
  /**
   * The stores, models and scope lock in use, for the startup log. Creates the configured stores
   * (which connects to nothing yet), so a store that cannot be had fails here, before the server
   * listens.
   */
  describe(): Promise<{
    vectorStore: string;
    historyStore: string;
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
  const created = await descriptor.create({
    env: settings.env,
    dataDir: settings.dataDir,
    options: {
      ...store.options,
      ...(store.url ? { url: store.url } : {}),
      ...settings.options,
    },
  });
  return (
    kind === 'vector'
      ? traceVectorStore(created as VectorStore)
      : traceHistoryStore(created as HistoryStore)
  ) as AdapterComponents[Kind];
}

/**
 * Where the projects' history lives, decided once from the configuration: a store every project
 * shares (namespaced by the project's collection), the vector store's own, or one SQLite file
 * per project. Never process memory.
 */
type HistoryPlan =
  | { kind: 'shared'; store: HistoryStore; description: string }
  | { kind: 'vector store'; description: string }
  | { kind: 'file per project'; directory: string; store: StoreConfig; description: string };

/** The SQLite history file of each project, in `<dataDir>/history`. */
function historyFilePerProject(config: ServerConfig, store?: StoreConfig): HistoryPlan {
  const directory = join(config.dataDir, 'history');
  return {
    kind: 'file per project',
    directory,
    store: store ?? { provider: 'sqlite', options: {} },
    description: `sqlite, one file per project in ${directory}`,
  };
}

/**
 * Opens project engines as configured. With the embedded SQLite store each project gets its
 * own database file (`<dataDir>/projects/<project>.db`), so memories and history never share
 * a table; other stores hold one collection per project. History is always durable: see
 * {@link HistoryPlan}. `now` is the clock of the history (for tests).
 */
export function createProjectMemories(
  config: ServerConfig,
  metrics: ServerMetrics,
  {
    now,
    llm: givenLLM,
    reranker: givenReranker,
  }: { now?: () => Date; llm?: LLM; reranker?: Reranker } = {},
): ProjectMemories {
  const embedded = config.vectorStore.provider === 'sqlite' && !config.vectorStore.url;
  const memories = new Map<string, Promise<Memory>>();
  const stores = new Map<string, VectorStore>();
  let models:
    | Promise<{ embedder: Embedder; llm: LLM | undefined; reranker: Reranker | undefined }>
    | undefined;
  let shared:
    | Promise<{
        store?: VectorStore;
        graph?: GraphStore;
        history: HistoryPlan;
        dimensions: number;
      }>
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
      const embedder = await resolveEmbedderFromEnvironment(config.env, {
        importModule: importFromServer,
        ...(embedded ? { dataDir: config.dataDir } : {}),
      });
      const llm = givenLLM ?? (await resolveLLMFromEnvironment(config.env, importFromServer));
      const reranker =
        givenReranker ?? (await resolveRerankerFromEnvironment(config.env, importFromServer));
      return {
        embedder: instrumentEmbedder(embedder, metrics),
        llm: llm ? instrumentLLM(llm, metrics) : undefined,
        reranker: reranker ? instrumentReranker(reranker, metrics) : undefined,
      };
    })();
    models.catch(() => {
      models = undefined;
    });
    return models;
  }

  async function planHistory(store: VectorStore | undefined): Promise<HistoryPlan> {
    const configured = config.historyStore;
    if (configured) {
      if (configured.provider === 'sqlite' && !configured.url && !configured.options.path) {
        return historyFilePerProject(config, configured);
      }
      // A SQLite history named with a URL is one file, shared by the projects, at that path.
      const sqlitePath = configured.provider === 'sqlite' && configured.url;
      const history = await createConfiguredStore('history', configured, {
        env: config.env,
        dataDir: config.dataDir,
        ...(sqlitePath ? { options: { path: sqlitePath } } : {}),
      });
      return {
        kind: 'shared',
        store: history,
        description: sqlitePath
          ? `sqlite, one file for every project: ${sqlitePath}`
          : configured.provider,
      };
    }
    if (!store) {
      return {
        kind: 'vector store',
        description: "the vector store's own (sqlite, one file per project)",
      };
    }
    if (store.capabilities.atomicHistory && 'byMemory' in store) {
      return { kind: 'vector store', description: `the vector store's own (${store.provider})` };
    }
    return historyFilePerProject(config);
  }

  function loadShared() {
    shared ??= (async () => {
      const { embedder } = await loadModels();
      const settings = { env: config.env, dataDir: config.dataDir };
      const store = embedded
        ? undefined
        : await createConfiguredStore('vector', config.vectorStore, settings);
      const history = await planHistory(store);
      // One graph for every project, kept apart by namespace: an embedded graph (Kuzu) must not
      // be opened once per project in one process.
      const untracedGraph = await graphStoreFromEnvironment(config.env, {
        dataDir: config.dataDir,
        importModule: importFromServer,
      });
      const graph = untracedGraph ? traceGraphStore(untracedGraph) : undefined;
      return {
        ...(store ? { store } : {}),
        ...(graph ? { graph } : {}),
        history,
        dimensions: embedder.dimensions,
      };
    })();
    shared.catch(() => {
      shared = undefined;
    });
    return shared;
  }

  /** A project's own SQLite file in `directory`, through the adapter's descriptor of `kind`. */
  async function projectFile<Kind extends 'vector' | 'history'>(
    kind: Kind,
    store: StoreConfig,
    directory: string,
    project: string,
  ) {
    createPrivateDirectory(directory);
    return createConfiguredStore(kind, store, {
      env: config.env,
      dataDir: directory,
      options: { path: join(directory, `${project}.db`) },
    });
  }

  const embedderInUse = new Map<string, string>();
  const namedEmbedders = new Map<string, Promise<Embedder>>();
  const identityOf = (embedder: Pick<Embedder, 'provider' | 'modelId' | 'dimensions'>) =>
    `${embedder.provider}:${embedder.modelId}:${embedder.dimensions}`;

  /** An embedder by its `ENGRAM_EMBEDDER` name, loaded once per process. */
  function embedderNamed(name: string): Promise<Embedder> {
    let loaded = namedEmbedders.get(name);
    if (!loaded) {
      loaded = resolveEmbedderFromEnvironment(
        { ...config.env, ENGRAM_EMBEDDER: name },
        { importModule: importFromServer },
      ).then((embedder) => instrumentEmbedder(embedder, metrics));
      namedEmbedders.set(name, loaded);
      loaded.catch(() => namedEmbedders.delete(name));
    }
    return loaded;
  }

  /**
   * The embedder of a project: the configured one, unless `embedders.json` records that the
   * project's collection was re-embedded with another (by the maintenance job, in this process or
   * another), which then embeds its adds and searches.
   */
  async function projectEmbedder(project: string, configured: Embedder): Promise<Embedder> {
    const collection = projectCollection(project);
    const record = readEmbedderRecords(config.dataDir)[collection];
    if (
      !record?.name ||
      fileReembedState(config.dataDir, collection).load() ||
      identityOf(record) === identityOf(configured)
    ) {
      return configured;
    }
    return embedderNamed(record.name);
  }

  const withRecord = (project: string, embedder: Embedder, shared: boolean) =>
    shared
      ? embedder
      : recordingEmbedder(embedder, config.dataDir, projectCollection(project), undefined);

  // While an open project is being re-embedded, every request looks, so that the switch at its
  // end is seen at once; otherwise once per interval.
  let reembeddingUnderWay = false;
  const recordCheck = createFileChangeCheck(join(config.dataDir, embedderRecordFile), {
    intervalMs: () => (reembeddingUnderWay ? 0 : (config.embedderCheckMs ?? 1000)),
  });
  let following: Promise<void> = Promise.resolve();
  /**
   * Follows `embedders.json`: when it changed since the last look (a re-embedding finished), each
   * open project whose recorded embedder is not the one it uses switches to it, without closing
   * its stores. Every process of a cluster looks at most once per `embedderCheckMs` (one stat
   * call), so requests cost nothing for it, and before every request while one of its open
   * projects is being re-embedded.
   */
  function followEmbedderRecords(): Promise<void> {
    if (!recordCheck.changed()) return following;
    following = following.then(async () => {
      const { embedder: configured } = await loadModels();
      const { store } = await loadShared();
      for (const [project, pending] of memories) {
        const memory = await pending.catch(() => undefined);
        if (!memory) continue;
        const wanted = await projectEmbedder(project, configured);
        if (embedderInUse.get(project) === identityOf(wanted)) continue;
        await memory.useEmbedder(withRecord(project, wanted, Boolean(store)));
        embedderInUse.set(project, identityOf(wanted));
      }
      reembeddingUnderWay = [...memories.keys()].some((project) =>
        fileReembedState(config.dataDir, projectCollection(project)).load(),
      );
    });
    following = following.catch(() => {
      // A record naming an embedder that cannot be loaded: the projects keep theirs, and the
      // next look tries again.
      recordCheck.forget();
    });
    return following;
  }

  async function open(project: string): Promise<Memory> {
    const { embedder: configured, llm, reranker } = await loadModels();
    const { store, graph, history } = await loadShared();
    const vectorStore =
      store ??
      // The store's own scope cache size (160 MB of vectors per project): a smaller one made
      // most scoped searches of a project with a few hundred active users read their scope again.
      (await projectFile('vector', config.vectorStore, join(config.dataDir, 'projects'), project));
    stores.set(project, vectorStore);
    const collection = projectCollection(project);
    const embedder = await projectEmbedder(project, configured);
    embedderInUse.set(project, identityOf(embedder));
    // A local model is recorded as soon as a project opens with it: a project file created by a
    // read would otherwise pass for data written before records existed (those keep hash).
    if (
      !store &&
      embedder.provider === 'transformers' &&
      !readEmbedderRecords(config.dataDir)[collection]
    ) {
      recordEmbedder(config.dataDir, collection, embedder);
    }
    const historyStore =
      history.kind === 'shared'
        ? history.store
        : history.kind === 'file per project'
          ? await projectFile('history', history.store, history.directory, project)
          : undefined;
    return createMemoryFromEnvironment(config.env, {
      vectorStore,
      graphStore: graph ?? null,
      ...(historyStore ? { historyStore } : {}),
      requireDurableHistory: true,
      // Each project's file remembers its embedder: another one later is refused, not mixed in.
      embedder: withRecord(project, embedder, Boolean(store)),
      // `Memory.reembed` (a maintenance job) keeps its progress beside the record, whatever the
      // store, so that a run stopped by a crash goes on from its last batch.
      reembedState: fileReembedState(config.dataDir, collection),
      llm: llm ?? null,
      // Present even when undefined: the server's reranker, or none (not the environment again).
      reranker,
      ...lockFor(vectorStore),
      collection,
      actor: `project:${project}`,
      ...(config.historyTextRetentionMs === undefined
        ? {}
        : { historyTextRetention: config.historyTextRetentionMs }),
      ...(now ? { now } : {}),
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

  let modelChecks: { at: number; result: Record<string, string>; probing: boolean } = {
    at: Number.NEGATIVE_INFINITY,
    result: { embedder: 'checking', llm: 'checking' },
    probing: false,
  };
  async function probeModels(): Promise<Record<string, string>> {
    const outcome = async (call: () => Promise<unknown>) => {
      try {
        await call();
        return 'ok';
      } catch (error) {
        return (error instanceof Error ? error.message : String(error)).slice(0, 300);
      }
    };
    let loaded: Awaited<ReturnType<typeof loadModels>>;
    try {
      loaded = await loadModels();
    } catch (error) {
      const failure = await outcome(() => Promise.reject(error));
      return { embedder: failure, llm: failure };
    }
    // The reranker is not probed: a hosted one bills each call (Cohere: a search unit), and a
    // probe a minute per replica would cost more than the searches of a quiet service.
    const { embedder, llm } = loaded;
    const [embedding, answer] = await Promise.all([
      outcome(() => embedder.embed({ values: ['readiness'], purpose: 'query' })),
      llm
        ? outcome(() =>
            llm.generate({
              messages: [{ role: 'user', content: 'Reply with the word OK.' }],
              maxOutputTokens: 5,
            }),
          )
        : Promise.resolve('off'),
    ]);
    return { embedder: embedding, llm: answer };
  }

  return {
    checkModels() {
      // Stale-while-revalidate: a readiness probe never waits for a model provider.
      const now = Date.now();
      if (!modelChecks.probing && now - modelChecks.at > 60_000) {
        modelChecks.probing = true;
        void probeModels().then((result) => {
          modelChecks = { at: Date.now(), result, probing: false };
        });
      }
      return Promise.resolve(modelChecks.result);
    },
    memory(project) {
      let memory = memories.get(project);
      if (!memory) {
        memory = open(project);
        memories.set(project, memory);
        memory.catch(() => memories.delete(project));
      }
      const opened = memory;
      return followEmbedderRecords().then(() => opened);
    },
    async check() {
      createPrivateDirectory(config.dataDir);
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
    async sizes() {
      if (!embedded) {
        return reportedStoreSizes(
          [...stores].map(([project, store]) => [project, store, projectCollection(project)]),
        );
      }
      const directory = join(config.dataDir, 'projects');
      const names = await readdir(directory).catch(() => [] as string[]);
      const results: Array<{ project: string; bytes: number }> = [];
      for (const project of stores.keys()) {
        // `<project>.db`, its `-wal` and `-shm`, and the saved vector indexes `<project>.db.<hash>.hnsw`.
        const prefix = `${project}.db`;
        let bytes = 0;
        for (const name of names) {
          if (name !== prefix && !name.startsWith(`${prefix}-`) && !name.startsWith(`${prefix}.`)) {
            continue;
          }
          bytes += await stat(join(directory, name)).then(
            (file) => file.size,
            () => 0,
          );
        }
        results.push({ project, bytes });
      }
      return results;
    },
    async userCounts(limit = 10_000) {
      const results: Array<{ project: string; perUser: number[] }> = [];
      for (const [project, store] of stores) {
        const perUser = new Map<string, number>();
        let cursor: string | undefined;
        let read = 0;
        try {
          do {
            const page = await store.list({
              collection: projectCollection(project),
              limit: Math.min(1000, limit - read),
              ...(cursor ? { cursor } : {}),
            });
            for (const record of page.records) {
              if (record.userId) perUser.set(record.userId, (perUser.get(record.userId) ?? 0) + 1);
            }
            read += page.records.length;
            cursor = page.nextCursor ?? undefined;
          } while (cursor && read < limit);
        } catch (error) {
          if (!EngramError.isInstance(error)) throw error;
          continue;
        }
        results.push({ project, perUser: [...perUser.values()] });
      }
      return results;
    },
    async describe() {
      const { embedder, llm } = await loadModels();
      const { history } = await loadShared();
      return {
        vectorStore: embedded ? 'sqlite (one file per project)' : config.vectorStore.provider,
        historyStore: history.description,
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
      await sharedStores?.graph?.close();
      if (sharedStores?.history.kind === 'shared') await sharedStores.history.store.close();
      await redisLock?.close();
      for (const loaded of namedEmbedders.values()) {
        const embedder = await loaded.catch(() => undefined);
        await (embedder as { close?: () => Promise<void> } | undefined)?.close?.();
      }
    },
  };
}
