import {
  componentsFromEnvironment,
  createHashEmbedder,
  type Embedder,
  type Environment,
  type GraphStore,
  graphStoreFromEnvironment,
  type ImportModule,
  type LLM,
  type Reranker,
  resolveEmbedderFromEnvironment,
  resolveLLMFromEnvironment,
  resolveRerankerFromEnvironment,
  type VectorStore,
} from '@engram/core';

/** The outcome of one component's check. */
export interface DoctorCheck {
  /** `llm`, `embedder`, `reranker`, `vector store` or `graph store`. */
  component: string;
  /** `ok`, `off` (not configured, which is fine) or `failed`. */
  status: 'ok' | 'off' | 'failed';
  /** What the setting resolved to, e.g. `anthropic:claude-sonnet-4-5`. */
  resolved?: string;
  /** What the check found. */
  detail: string;
  /** How to fix a failure. */
  fix?: string;
}

/** What {@link runDoctor} reports. */
export interface DoctorReport {
  ok: boolean;
  checks: DoctorCheck[];
}

/** Options of {@link runDoctor}. */
export interface DoctorOptions {
  env: Environment;
  dataDir: string;
  importModule?: ImportModule;
}

const collection = 'engram_doctor';

function message(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).slice(0, 500);
}

function describe(component: { provider: string; modelId?: string }): string {
  return component.modelId ? `${component.provider}:${component.modelId}` : component.provider;
}

async function check<T extends { provider: string; modelId?: string }>(
  component: string,
  fix: string,
  resolve: () => Promise<T | undefined>,
  probe: (resolved: T) => Promise<string>,
): Promise<{ check: DoctorCheck; value?: T }> {
  let value: T | undefined;
  try {
    value = await resolve();
  } catch (error) {
    return { check: { component, status: 'failed', detail: message(error), fix } };
  }
  if (value === undefined) {
    return { check: { component, status: 'off', detail: 'not configured' } };
  }
  const resolved = describe(value);
  try {
    return { check: { component, status: 'ok', resolved, detail: await probe(value) }, value };
  } catch (error) {
    return { check: { component, status: 'failed', resolved, detail: message(error), fix }, value };
  }
}

/**
 * Resolves the LLM, embedder, reranker and stores the environment names, and checks each with
 * one tiny call: an embedding, a five-token answer, a two-document rerank, a count.
 */
export async function runDoctor(options: DoctorOptions): Promise<DoctorReport> {
  const { env, dataDir, importModule } = options;
  const embedder = await check<Embedder>(
    'embedder',
    'Check ENGRAM_EMBEDDER and its key (ENGRAM_EMBEDDER_API_KEY or the provider variable) and base URL (ENGRAM_EMBEDDER_BASE_URL).',
    () => resolveEmbedderFromEnvironment(env, importModule),
    async (model) => {
      const { embeddings, usage } = await model.embed({
        values: ['engram doctor'],
        purpose: 'query',
      });
      const length = embeddings[0]?.length;
      if (length !== model.dimensions) {
        throw new Error(
          `returned ${length} dimensions, configured for ${model.dimensions}: set the size in the name (?dimensions=${length}) or ENGRAM_EMBEDDER_DIMENSIONS`,
        );
      }
      return `${model.dimensions} dimensions${usage?.tokens ? `, ${usage.tokens} tokens` : ''}`;
    },
  );
  const llm = await check<LLM>(
    'llm',
    'Check ENGRAM_LLM and its key (ENGRAM_LLM_API_KEY or the provider variable) and base URL (ENGRAM_LLM_BASE_URL), or set ENGRAM_LLM=none.',
    () => resolveLLMFromEnvironment(env, importModule),
    async (model) => {
      const result = await model.generate({
        messages: [{ role: 'user', content: 'Reply with the word OK.' }],
        maxOutputTokens: 5,
        temperature: 0,
      });
      const tokens = (result.usage.inputTokens ?? 0) + (result.usage.outputTokens ?? 0);
      return `answered${tokens > 0 ? `, ${tokens} tokens` : ''}`;
    },
  );
  const reranker = await check<Reranker>(
    'reranker',
    'Check ENGRAM_RERANKER and its key (ENGRAM_RERANKER_API_KEY or the provider variable) and base URL (ENGRAM_RERANKER_BASE_URL), or unset it.',
    () => resolveRerankerFromEnvironment(env, importModule),
    async (model) => {
      const { results } = await model.rerank({
        query: 'engram doctor',
        documents: ['engram doctor', 'unrelated'],
      });
      return `ranked ${results.length} documents`;
    },
  );
  const store = await check<VectorStore>(
    'vector store',
    'Check the store settings (ENGRAM_HOME for the embedded store) and that its server is reachable.',
    async () =>
      (
        await componentsFromEnvironment(env, {
          embedder: embedder.value ?? createHashEmbedder(),
          llm: null,
          graphStore: null,
          reranker: undefined,
          dataDir,
          ...(importModule ? { importModule } : {}),
        })
      ).vectorStore,
    async (vectorStore) => {
      const dimensions = embedder.value?.dimensions ?? 8;
      await vectorStore.ensureCollection({ collection, dimensions });
      await vectorStore.count({ collection });
      await vectorStore.dropCollection({ collection });
      return 'reachable';
    },
  );
  const graph = await check<GraphStore>(
    'graph store',
    'Check ENGRAM_GRAPH and its connection settings, or unset it.',
    () => graphStoreFromEnvironment(env, { dataDir, ...(importModule ? { importModule } : {}) }),
    async () => 'configured',
  );
  await Promise.allSettled([store.value?.close(), graph.value?.close()]);
  const checks = [llm.check, embedder.check, reranker.check, store.check, graph.check];
  return { ok: checks.every((entry) => entry.status !== 'failed'), checks };
}

/** The report as lines for a terminal. */
export function formatDoctorReport(report: DoctorReport): string {
  const lines = report.checks.map((entry) => {
    const mark = entry.status === 'ok' ? 'ok  ' : entry.status === 'off' ? 'off ' : 'FAIL';
    const what = entry.resolved ? ` ${entry.resolved}` : '';
    const fix = entry.fix && entry.status === 'failed' ? `\n      fix: ${entry.fix}` : '';
    return `${mark} ${entry.component}${what}: ${entry.detail}${fix}`;
  });
  lines.push(report.ok ? 'Everything configured works.' : 'Some components failed: see above.');
  return `${lines.join('\n')}\n`;
}
