import type {
  AddResult,
  Embedder,
  LLM,
  LLMGenerateOptions,
  OperationUsage,
  Reranker,
} from '@engram/core';
import {
  AbortedError,
  embedderProperties,
  extractionSchemaName,
  graphExtractionSchemaName,
  graphInvalidationSchemaName,
  LLMOutputError,
  reconcileSchemaName,
  singleCallSchemaName,
} from '@engram/core';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { createProjectUsageTally, type ProjectUsageTally } from './project-usage.js';
import { withChildSpan } from './tracing.js';

/** Prometheus metrics of one server or worker process. */
export interface ServerMetrics {
  registry: Registry;
  addLatency: Histogram<'mode'>;
  searchLatency: Histogram;
  embeddingLatency: Histogram<'purpose'>;
  /** LLM call latency by role (extraction, reconciliation, single-call, graph, rewrite, other). */
  llmLatency: Histogram<'role'>;
  requests: Counter<'method' | 'route' | 'status'>;
  memoriesAdded: Counter;
  /** Sensitive spans replaced before storage (`ENGRAM_REDACT`). */
  redactions: Counter;
  searches: Counter;
  /** LLM tokens by kind (input, output) and role (extraction, reconciliation, single-call, graph, rewrite, rerank, other). */
  llmTokens: Counter<'kind' | 'role'>;
  embeddingTokens: Counter;
  /** Failed LLM calls by provider and error class (rate_limit, auth, timeout, server, ...). */
  llmErrors: Counter<'provider' | 'error_class'>;
  /** Reranker calls, tokens and search units reported by the provider. */
  rerankUsage: Counter<'kind'>;
  /** Reranker call latency by provider and model. */
  rerankLatency: Histogram<'provider' | 'model'>;
  /** Reranker tokens (`tokens`) and search units (`search_units`) by provider and model. */
  rerankUnits: Counter<'provider' | 'model' | 'kind'>;
  /** Failed reranker calls by provider and error class (rate_limit, auth, timeout, server, ...). */
  rerankErrors: Counter<'provider' | 'error_class'>;
  vectorCount: Gauge<'project'>;
  /** Bytes the store of each project takes on disk, where this process can measure it. */
  storeSize: Gauge<'project'>;
  /** Distinct users with memories (from the cached per-user counts). */
  users: Gauge<'project'>;
  /** Memories per user (a snapshot re-computed at the user-count refresh interval). */
  memoriesPerUser: Histogram<'project'>;
  /** Facts the LLM extracted in adds. */
  factsExtracted: Counter;
  /** Extracted facts not added as new memories: skipped as known or merged into one. */
  factsDeduplicated: Counter;
  /** Queued add jobs this process ran, by outcome (completed, failed). */
  jobsProcessed: Counter<'outcome'>;
  /** Time to run one queued add job. */
  jobDuration: Histogram;
  /** Asynchronous add jobs by state, read from the queue on each scrape. */
  queueJobs: Gauge<'state'>;
  /** Adds, searches and tokens per project since the process started (the memory browser's usage page). */
  projectUsage: ProjectUsageTally;
  /** Set once the job queue exists: what `engram_queue_jobs` reports. */
  countJobs?: () => Promise<Partial<Record<string, number>>>;
  /** Set once the projects exist: what `engram_store_size_bytes` reports. */
  storeSizes?: () => Promise<Array<{ project: string; bytes: number }>>;
  /** Set once the projects exist: memories per user of each open project (possibly sampled). */
  userCounts?: () => Promise<Array<{ project: string; perUser: number[] }>>;
}

const latencyBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** Options of {@link createServerMetrics}. */
export interface ServerMetricsOptions {
  /**
   * Label `engram_vector_count` with project names. Off by default: a scrape then shows one
   * total, so whoever reads the metrics does not learn which customers exist.
   */
  projectLabels?: boolean;
  /**
   * How long a scrape waits for each store-reading metric (vector counts, store sizes, user
   * counts) before it reports what it has. Default 3000 ms.
   */
  scrapeTimeoutMs?: number;
  /** How often the per-user counts are re-read from the stores. Default 5 minutes. */
  userCountRefreshMs?: number;
}

/** `work`'s answer, or `fallback` when it fails or takes longer than `ms`. */
async function withinTime<T>(work: () => Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(fallback), ms);
    timer.unref();
  });
  try {
    return await Promise.race([work().catch(() => fallback), late]);
  } finally {
    clearTimeout(timer);
  }
}

const memoriesPerUserBuckets = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000];

/**
 * Creates the metrics. `countVectors` is called on every scrape to set `engram_vector_count`
 * (per open project with `projectLabels`, else their total).
 */
export function createServerMetrics(
  countVectors?: () => Promise<Array<{ project: string; count: number }>>,
  options: ServerMetricsOptions = {},
): ServerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const scrapeTimeoutMs = options.scrapeTimeoutMs ?? 3000;
  const userCountRefreshMs = options.userCountRefreshMs ?? 5 * 60_000;
  const projectLabel: 'project'[] = options.projectLabels ? ['project'] : [];
  /** Per-user counts, refreshed in the background: a scrape never lists a store itself. */
  let userCounts: {
    at: number;
    value: Array<{ project: string; perUser: number[] }>;
    refreshing?: Promise<void>;
  } = { at: Number.NEGATIVE_INFINITY, value: [] };
  const readUserCounts = async () => {
    const read = metrics.userCounts;
    if (!read) return [];
    if (!userCounts.refreshing && Date.now() - userCounts.at >= userCountRefreshMs) {
      userCounts.refreshing = read().then(
        (value) => {
          userCounts = { at: Date.now(), value };
        },
        () => {
          userCounts = { ...userCounts, at: Date.now() };
        },
      );
    }
    // Only the first scrape waits (within the timeout); later ones answer the cached counts.
    if (userCounts.at === Number.NEGATIVE_INFINITY && userCounts.refreshing) {
      await withinTime(() => userCounts.refreshing!, scrapeTimeoutMs, undefined);
    }
    return userCounts.value;
  };
  const metrics: ServerMetrics = {
    registry,
    projectUsage: createProjectUsageTally(),
    addLatency: new Histogram({
      name: 'engram_add_latency_seconds',
      help: 'Time to add memories (extraction, embedding, reconciliation, writes).',
      labelNames: ['mode'],
      buckets: latencyBuckets,
      registers,
    }),
    searchLatency: new Histogram({
      name: 'engram_search_latency_seconds',
      help: 'Time to answer a search.',
      buckets: latencyBuckets,
      registers,
    }),
    embeddingLatency: new Histogram({
      name: 'engram_embedding_latency_seconds',
      help: 'Time of one embedder call.',
      labelNames: ['purpose'],
      buckets: latencyBuckets,
      registers,
    }),
    llmLatency: new Histogram({
      name: 'engram_llm_latency_seconds',
      help: 'Time of one LLM call, by role (extraction, reconciliation, single-call, graph, rewrite, other).',
      labelNames: ['role'],
      buckets: latencyBuckets,
      registers,
    }),
    requests: new Counter({
      name: 'engram_requests_total',
      help: 'HTTP requests answered, by method, route and status.',
      labelNames: ['method', 'route', 'status'],
      registers,
    }),
    memoriesAdded: new Counter({
      name: 'engram_memories_added_total',
      help: 'Memories created by add and import.',
      registers,
    }),
    redactions: new Counter({
      name: 'engram_redactions_total',
      help: 'Sensitive spans (emails, phone numbers, keys, ...) replaced before storage.',
      registers,
    }),
    searches: new Counter({
      name: 'engram_searches_total',
      help: 'Searches answered.',
      registers,
    }),
    llmTokens: new Counter({
      name: 'engram_llm_tokens_used_total',
      help: 'LLM tokens reported by the provider, by kind (input, output) and role (extraction, reconciliation, single-call, graph, rewrite, rerank, other).',
      labelNames: ['kind', 'role'],
      registers,
    }),
    embeddingTokens: new Counter({
      name: 'engram_embedding_tokens_used_total',
      help: 'Embedding tokens reported by the provider.',
      registers,
    }),
    llmErrors: new Counter({
      name: 'engram_llm_api_errors_total',
      help: 'LLM calls that failed, by provider and error class (rate_limit, auth, timeout, server, request, connection, output, aborted, other).',
      labelNames: ['provider', 'error_class'],
      registers,
    }),
    rerankUsage: new Counter({
      name: 'engram_rerank_usage_total',
      help: 'Reranker usage by kind: calls, tokens, search_units (as the provider reports them).',
      labelNames: ['kind'],
      registers,
    }),
    rerankLatency: new Histogram({
      name: 'engram_rerank_latency_seconds',
      help: 'Time of one reranker call, by provider and model.',
      labelNames: ['provider', 'model'],
      buckets: latencyBuckets,
      registers,
    }),
    rerankUnits: new Counter({
      name: 'engram_rerank_units_used_total',
      help: 'What reranker calls cost as the provider reports it, by provider, model and kind (tokens, search_units).',
      labelNames: ['provider', 'model', 'kind'],
      registers,
    }),
    rerankErrors: new Counter({
      name: 'engram_rerank_api_errors_total',
      help: 'Reranker calls that failed, by provider and error class (rate_limit, auth, timeout, server, request, connection, output, aborted, other).',
      labelNames: ['provider', 'error_class'],
      registers,
    }),
    vectorCount: new Gauge({
      name: 'engram_vector_count',
      help: options.projectLabels
        ? 'Memories stored, per project opened by this process.'
        : 'Memories stored in the projects opened by this process.',
      labelNames: options.projectLabels ? ['project'] : [],
      registers,
      // Server processes of one cluster count the same stores: the largest count, not the sum.
      aggregator: 'max',
      async collect() {
        if (!countVectors) return;
        const counts = await withinTime(countVectors, scrapeTimeoutMs, []);
        setPerProject(
          this,
          counts.map(({ project, count }) => ({ project, value: count })),
        );
      },
    }),
    storeSize: new Gauge({
      name: 'engram_store_size_bytes',
      help: options.projectLabels
        ? 'Bytes the store of each project takes, where measurable: the embedded store on disk (vectors, index, history), else the size the vector store reports for the project (pgvector, Redis, Elasticsearch, OpenSearch).'
        : 'Bytes the stores of the open projects take, where measurable: the embedded store on disk (vectors, index, history), else the size the vector store reports for each project (pgvector, Redis, Elasticsearch, OpenSearch).',
      labelNames: projectLabel,
      registers,
      aggregator: 'max',
      async collect() {
        if (!metrics.storeSizes) return;
        const sizes = await withinTime(metrics.storeSizes, scrapeTimeoutMs, []);
        setPerProject(
          this,
          sizes.map(({ project, bytes }) => ({ project, value: bytes })),
        );
      },
    }),
    users: new Gauge({
      name: 'engram_users',
      help: 'Distinct users with memories in the open projects (refreshed every few minutes; at most the sampled memories of each project are read).',
      labelNames: projectLabel,
      registers,
      aggregator: 'max',
      async collect() {
        const counts = await readUserCounts();
        if (!metrics.userCounts) return;
        setPerProject(
          this,
          counts.map(({ project, perUser }) => ({ project, value: perUser.length })),
        );
      },
    }),
    memoriesPerUser: new Histogram({
      name: 'engram_memories_per_user',
      help: 'Memories per user in the open projects: a snapshot, re-computed every few minutes from the sampled memories of each project (use histogram_quantile on the buckets, not rate).',
      labelNames: projectLabel,
      buckets: memoriesPerUserBuckets,
      registers,
      aggregator: 'max',
      async collect() {
        const counts = await readUserCounts();
        this.reset();
        for (const { project, perUser } of counts) {
          for (const count of perUser) {
            if (options.projectLabels) this.observe({ project }, count);
            else this.observe(count);
          }
        }
      },
    }),
    factsExtracted: new Counter({
      name: 'engram_facts_extracted_total',
      help: 'Facts the LLM extracted in adds.',
      registers,
    }),
    factsDeduplicated: new Counter({
      name: 'engram_facts_deduplicated_total',
      help: 'Extracted facts not added as new memories (already known, or merged into an existing memory); divided by engram_facts_extracted_total: the de-duplication rate.',
      registers,
    }),
    jobsProcessed: new Counter({
      name: 'engram_jobs_processed_total',
      help: 'Queued add jobs this process ran, by outcome (completed, failed).',
      labelNames: ['outcome'],
      registers,
    }),
    jobDuration: new Histogram({
      name: 'engram_job_duration_seconds',
      help: 'Time to run one queued add job.',
      buckets: latencyBuckets,
      registers,
    }),
    queueJobs: new Gauge({
      name: 'engram_queue_jobs',
      help: 'Asynchronous add jobs by state (waiting, active, delayed, failed).',
      labelNames: ['state'],
      registers,
      // Every process of a cluster sees the same queue: the largest count, not the sum.
      aggregator: 'max',
      async collect() {
        if (!metrics.countJobs) return;
        const counts = await metrics.countJobs().catch(() => ({}));
        this.reset();
        for (const [state, count] of Object.entries(counts)) {
          if (count !== undefined) this.set({ state }, count);
        }
      },
    }),
  };
  function setPerProject(
    gauge: Gauge<'project'>,
    values: Array<{ project: string; value: number }>,
  ): void {
    gauge.reset();
    if (!options.projectLabels) {
      gauge.set(values.reduce((total, { value }) => total + value, 0));
      return;
    }
    for (const { project, value } of values) gauge.set({ project }, value);
  }
  return metrics;
}

/** Wraps an embedder so that each call is timed, its tokens counted and traced as a child span. */
export function instrumentEmbedder(embedder: Embedder, metrics: ServerMetrics): Embedder {
  return {
    ...embedderProperties(embedder),
    embed(options) {
      return withChildSpan(
        'embedder.embed',
        {
          'engram.component': 'embedder',
          'gen_ai.operation.name': 'embeddings',
          'gen_ai.provider.name': embedder.provider,
          'gen_ai.request.model': embedder.modelId,
          'engram.embedding.purpose': options.purpose,
          'engram.embedding.count': options.values.length,
        },
        async (span) => {
          const stop = metrics.embeddingLatency.startTimer({ purpose: options.purpose });
          try {
            const result = await embedder.embed(options);
            if (result.usage?.tokens) {
              metrics.embeddingTokens.inc(result.usage.tokens);
              span.setAttributes({ 'gen_ai.usage.input_tokens': result.usage.tokens });
            }
            return result;
          } finally {
            stop();
          }
        },
      );
    },
  };
}

/** What an LLM call is for, from the JSON schema Engram asks for (free text: query rewriting). */
export function llmRole(options: LLMGenerateOptions): string {
  const format = options.responseFormat;
  if (format?.type !== 'json') return options.tools ? 'other' : 'rewrite';
  switch (format.name) {
    case extractionSchemaName:
      return 'extraction';
    case reconcileSchemaName:
      return 'reconciliation';
    case singleCallSchemaName:
      return 'single-call';
    case graphExtractionSchemaName:
    case graphInvalidationSchemaName:
      return 'graph';
    default:
      return 'other';
  }
}

/** A number-valued field of an error or one of its causes (`statusCode`, `status`, ...). */
function causeField(error: unknown, names: string[]): number | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 6 && current && typeof current === 'object'; depth++) {
    for (const name of names) {
      const value = (current as Record<string, unknown>)[name];
      if (typeof value === 'number') return value;
    }
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** The class of a failed model call, for `engram_llm_api_errors_total`. */
export function llmErrorClass(error: unknown): string {
  if (AbortedError.isInstance(error)) return 'aborted';
  if (LLMOutputError.isInstance(error)) return 'output';
  const status = causeField(error, ['statusCode', 'status']);
  if (status === 429) return 'rate_limit';
  if (status === 401 || status === 403) return 'auth';
  if (status === 408 || status === 504) return 'timeout';
  if (status !== undefined && status >= 500) return 'server';
  if (status !== undefined && status >= 400) return 'request';
  const text = String((error as { message?: unknown })?.message ?? error).toLowerCase();
  if (/timed? ?out|timeout/.test(text)) return 'timeout';
  if (/econnrefused|econnreset|enotfound|socket|fetch failed|network/.test(text)) {
    return 'connection';
  }
  return 'other';
}

/**
 * Wraps an LLM so that each call is timed, its tokens counted by role, its failures counted by
 * provider and class, and traced as a child span with model, provider and token counts.
 */
export function instrumentLLM(llm: LLM, metrics: ServerMetrics): LLM {
  return {
    specificationVersion: llm.specificationVersion,
    provider: llm.provider,
    modelId: llm.modelId,
    generate(options) {
      const role = llmRole(options);
      return withChildSpan(
        'llm.generate',
        {
          'engram.component': 'llm',
          'gen_ai.operation.name': 'chat',
          'gen_ai.provider.name': llm.provider,
          'gen_ai.request.model': llm.modelId,
          'engram.llm.role': role,
        },
        async (span) => {
          const stop = metrics.llmLatency.startTimer({ role });
          try {
            const result = await llm.generate(options);
            const { inputTokens, outputTokens } = result.usage;
            if (inputTokens) metrics.llmTokens.inc({ kind: 'input', role }, inputTokens);
            if (outputTokens) metrics.llmTokens.inc({ kind: 'output', role }, outputTokens);
            span.setAttributes({
              'gen_ai.usage.input_tokens': inputTokens ?? 0,
              'gen_ai.usage.output_tokens': outputTokens ?? 0,
            });
            return result;
          } catch (error) {
            const errorClass = llmErrorClass(error);
            metrics.llmErrors.inc({ provider: llm.provider, error_class: errorClass });
            span.setAttributes({ 'error.type': errorClass });
            throw error;
          } finally {
            stop();
          }
        },
      );
    },
  };
}

/**
 * Wraps a reranker so that each call is timed and its reported tokens or search units counted
 * by provider and model, its failures counted by provider and class, and traced as a child span
 * with provider, model, document count and usage.
 */
export function instrumentReranker(reranker: Reranker, metrics: ServerMetrics): Reranker {
  const labels = { provider: reranker.provider, model: reranker.modelId };
  return {
    specificationVersion: reranker.specificationVersion,
    provider: reranker.provider,
    modelId: reranker.modelId,
    rerank(options) {
      return withChildSpan(
        'reranker.rerank',
        {
          'engram.component': 'reranker',
          'gen_ai.operation.name': 'rerank',
          'gen_ai.provider.name': reranker.provider,
          'gen_ai.request.model': reranker.modelId,
          'engram.rerank.documents': options.documents.length,
          ...(options.topN === undefined ? {} : { 'engram.rerank.top_n': options.topN }),
        },
        async (span) => {
          const stop = metrics.rerankLatency.startTimer(labels);
          try {
            const result = await reranker.rerank(options);
            const { tokens, searchUnits } = result.usage ?? {};
            if (tokens) metrics.rerankUnits.inc({ ...labels, kind: 'tokens' }, tokens);
            if (searchUnits) {
              metrics.rerankUnits.inc({ ...labels, kind: 'search_units' }, searchUnits);
            }
            span.setAttributes({
              'engram.rerank.results': result.results.length,
              ...(tokens === undefined ? {} : { 'gen_ai.usage.input_tokens': tokens }),
              ...(searchUnits === undefined ? {} : { 'engram.rerank.search_units': searchUnits }),
            });
            return result;
          } catch (error) {
            const errorClass = llmErrorClass(error);
            metrics.rerankErrors.inc({ provider: reranker.provider, error_class: errorClass });
            span.setAttributes({ 'error.type': errorClass });
            throw error;
          } finally {
            stop();
          }
        },
      );
    },
  };
}

/**
 * Counts what an add did with the facts it extracted: every fact not added as a new memory was
 * skipped as already known or merged into an existing one. Returns the memories added.
 */
export function countAddedFacts(metrics: ServerMetrics, result: AddResult): number {
  const added = result.results.filter((change) => change.event === 'ADD').length;
  if (added > 0) metrics.memoriesAdded.inc(added);
  if (result.factsExtracted === undefined) return added;
  metrics.factsExtracted.inc(result.factsExtracted);
  const deduplicated = result.factsExtracted - added;
  if (deduplicated > 0) metrics.factsDeduplicated.inc(deduplicated);
  return added;
}

/** Counts what a search's reranker used (calls, and tokens or search units where reported). */
export function countRerankUsage(metrics: ServerMetrics, usage: OperationUsage | undefined): void {
  if (!usage || usage.rerankCalls === 0) return;
  metrics.rerankUsage.inc({ kind: 'calls' }, usage.rerankCalls);
  if (usage.rerankTokens > 0) {
    metrics.rerankUsage.inc({ kind: 'tokens' }, usage.rerankTokens);
    metrics.llmTokens.inc({ kind: 'input', role: 'rerank' }, usage.rerankTokens);
  }
  if (usage.rerankSearchUnits > 0) {
    metrics.rerankUsage.inc({ kind: 'search_units' }, usage.rerankSearchUnits);
  }
}
