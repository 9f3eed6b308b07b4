import { describe, expect, it } from 'vitest';
import { defineAdapter } from './adapter-descriptor.js';
import { createMemoryFromEnvironment } from './create-memory-from-environment.js';
import { componentsFromEnvironment } from './environment-components.js';
import { UnsupportedFunctionalityError } from './errors.js';
import { createHashEmbedder } from './hash-embedder.js';
import { createInMemoryGraphStore } from './in-memory-graph-store.js';
import { createInMemoryStore } from './in-memory-vector-store.js';
import { Memory } from './memory.js';
import { createScriptedLLM } from './testing/index.js';

/** Serves fake adapter packages by name and records what was imported and created. */
function fakePackages() {
  const imported: string[] = [];
  const created: { kind: string; dataDir: string; model?: string }[] = [];
  const store = createInMemoryStore();
  const llm = createScriptedLLM({ fallback: { facts: [] } });
  const graphStore = createInMemoryGraphStore();
  // Each fake package exports one descriptor that records its creation and returns `component`.
  const fakePackage = (kind: 'vector' | 'llm' | 'graph', name: string, component: unknown) => ({
    engramAdapter: defineAdapter({
      kind,
      name,
      description: 'fake',
      create: ({ dataDir, model }) => {
        created.push({ kind, dataDir, ...(model ? { model } : {}) });
        return component as never;
      },
    }),
  });
  const packages: Record<string, unknown> = {
    '@engram/sqlite': fakePackage('vector', 'sqlite', store),
    '@engram/ai-sdk': fakePackage('llm', 'ai-sdk', llm),
    '@engram/example-graph': fakePackage('graph', 'example-graph', graphStore),
  };
  const importModule = async (specifier: string) => {
    imported.push(specifier);
    return packages[specifier];
  };
  return { imported, created, store, llm, graphStore, importModule };
}

describe('componentsFromEnvironment', () => {
  it('turns adapter names into components through their descriptors, under ENGRAM_HOME', async () => {
    const fake = fakePackages();
    const components = await componentsFromEnvironment(
      {
        ENGRAM_HOME: '/data/engram',
        ENGRAM_LLM: 'openai:gpt-4o-mini',
        ENGRAM_GRAPH: 'example-graph',
        ENGRAM_COLLECTION: 'notes',
      },
      { importModule: fake.importModule },
    );
    expect(components.vectorStore).toBe(fake.store);
    expect(components.llm).toBe(fake.llm);
    expect(components.graphStore).toBe(fake.graphStore);
    expect(components.embedder.provider).toBe('hash');
    expect(components.collection).toBe('notes');
    expect(fake.created).toEqual([
      { kind: 'llm', dataDir: '/data/engram', model: 'openai:gpt-4o-mini' },
      { kind: 'vector', dataDir: '/data/engram' },
      { kind: 'graph', dataDir: '/data/engram' },
    ]);
  });

  it('builds the reranker ENGRAM_RERANKER names through the ai-sdk package; none when unset', async () => {
    const reranker = {
      specificationVersion: 'v1' as const,
      provider: 'cohere',
      modelId: 'rerank-v3.5',
      rerank: async () => ({ results: [] }),
    };
    const models: string[] = [];
    const importModule = async (specifier: string) =>
      specifier === '@engram/ai-sdk'
        ? {
            engramAdapters: [
              defineAdapter({
                kind: 'reranker',
                name: 'ai-sdk',
                description: 'fake',
                create: ({ model }) => {
                  models.push(model ?? '');
                  return reranker;
                },
              }),
            ],
          }
        : fakePackages().importModule(specifier);
    const named = await componentsFromEnvironment(
      { ENGRAM_RERANKER: 'cohere:rerank-v3.5' },
      { importModule, llm: null, graphStore: null },
    );
    expect(named.reranker).toBe(reranker);
    expect(models).toEqual(['cohere:rerank-v3.5']);
    const unset = await componentsFromEnvironment(
      {},
      { importModule, llm: null, graphStore: null },
    );
    expect(unset.reranker).toBeUndefined();
  });

  it('keeps what is given, null included, and asks the environment for nothing else', async () => {
    const fake = fakePackages();
    const vectorStore = createInMemoryStore();
    const components = await componentsFromEnvironment(
      { OPENAI_API_KEY: 'key', ENGRAM_GRAPH: 'example-graph', ENGRAM_EMBEDDER: 'hash:64' },
      { vectorStore, llm: null, graphStore: null, importModule: fake.importModule },
    );
    expect(components).toMatchObject({ vectorStore, llm: null, graphStore: null });
    expect(components.embedder.dimensions).toBe(64);
    expect(fake.imported).toEqual([]);
  });

  it('uses the default model of the LLM adapter when only OPENAI_API_KEY is set', async () => {
    const fake = fakePackages();
    await componentsFromEnvironment(
      { OPENAI_API_KEY: 'key', ENGRAM_HOME: '/home' },
      {
        vectorStore: createInMemoryStore(),
        embedder: createHashEmbedder(),
        importModule: fake.importModule,
      },
    );
    expect(fake.created).toEqual([{ kind: 'llm', dataDir: '/home' }]);
  });
});

describe('createMemoryFromEnvironment', () => {
  it('builds a working Memory; ENGRAM_GRAPH=memory is the in-memory graph', async () => {
    const memory = await createMemoryFromEnvironment(
      { ENGRAM_GRAPH: 'memory', ENGRAM_LLM: 'none' },
      { vectorStore: createInMemoryStore() },
    );
    await memory.add('I like tea', { userId: 'a' });
    expect((await memory.list({ userId: 'a' })).relations).toEqual([]);
    await memory.close();
  });

  it('names the package to install when an adapter is missing', async () => {
    await expect(
      createMemoryFromEnvironment(
        { ENGRAM_GRAPH: 'not-installed-graph' },
        { vectorStore: createInMemoryStore(), llm: null },
      ),
    ).rejects.toThrow(
      'ENGRAM_GRAPH=not-installed-graph needs the package @engram/not-installed-graph',
    );
  });
});

describe('Memory components', () => {
  it('refuses a component of another contract version with the typed error', () => {
    const embedder = { ...createHashEmbedder(), specificationVersion: 'v2' } as never;
    expect(() => new Memory({ vectorStore: createInMemoryStore(), embedder })).toThrow(
      UnsupportedFunctionalityError,
    );
    expect(() => new Memory({ vectorStore: createInMemoryStore(), embedder })).toThrow(
      'The embedder "hash" implements contract version "v2"',
    );
  });
});
