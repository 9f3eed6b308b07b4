import type { Embedder, LLM, OperationUsage } from '@engram/core';
import { embedderProperties } from '@engram/core';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** Prometheus metrics of one server or worker process. */
export interface ServerMetrics {
  registry: Registry;
  addLatency: Histogram<'mode'>;
  searchLatency: Histogram;
  embeddingLatency: Histogram<'purpose'>;
  llmLatency: Histogram;
  requests: Counter<'method' | 'route' | 'status'>;
  memoriesAdded: Counter;
  /** Sensitive spans replaced before storage (`ENGRAM_REDACT`). */
  redactions: Counter;
  searches: Counter;
  llmTokens: Counter<'kind'>;
  embeddingTokens: Counter;
  llmErrors: Counter;
  /** Reranker calls, tokens and search units reported by the provider. */
  rerankUsage: Counter<'kind'>;
  vectorCount: Gauge<'project'>;
  /** Asynchronous add jobs by state, read from the queue on each scrape. */
  queueJobs: Gauge<'state'>;
  /** Set once the job queue exists: what `engram_queue_jobs` reports. */
  countJobs?: () => Promise<Partial<Record<string, number>>>;
}

const latencyBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** Options of {@link createServerMetrics}. */
export interface ServerMetricsOptions {
  /**
   * Label `engram_vector_count` with project names. Off by default: a scrape then shows one
   * total, so whoever reads the metrics does not learn which customers exist.
   */
  projectLabels?: boolean;
}

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
  const metrics: ServerMetrics = {
    registry,
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
      help: 'Time of one LLM call.',
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
      help: 'LLM tokens reported by the provider, by kind (input, output).',
      labelNames: ['kind'],
      registers,
    }),
    embeddingTokens: new Counter({
      name: 'engram_embedding_tokens_used_total',
      help: 'Embedding tokens reported by the provider.',
      registers,
    }),
    llmErrors: new Counter({
      name: 'engram_llm_api_errors_total',
      help: 'LLM calls that failed.',
      registers,
    }),
    rerankUsage: new Counter({
      name: 'engram_rerank_usage_total',
      help: 'Reranker usage by kind: calls, tokens, search_units (as the provider reports them).',
      labelNames: ['kind'],
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
        this.reset();
        const counts = await countVectors().catch(() => []);
        if (!options.projectLabels) {
          this.set(counts.reduce((total, { count }) => total + count, 0));
          return;
        }
        for (const { project, count } of counts) this.set({ project }, count);
      },
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
  return metrics;
}

/** Wraps an embedder so that each call is timed and its tokens counted. */
export function instrumentEmbedder(embedder: Embedder, metrics: ServerMetrics): Embedder {
  return {
    ...embedderProperties(embedder),
    async embed(options) {
      const stop = metrics.embeddingLatency.startTimer({ purpose: options.purpose });
      try {
        const result = await embedder.embed(options);
        if (result.usage?.tokens) metrics.embeddingTokens.inc(result.usage.tokens);
        return result;
      } finally {
        stop();
      }
    },
  };
}

/** Wraps an LLM so that each call is timed, its tokens counted and its failures counted. */
export function instrumentLLM(llm: LLM, metrics: ServerMetrics): LLM {
  return {
    specificationVersion: llm.specificationVersion,
    provider: llm.provider,
    modelId: llm.modelId,
    async generate(options) {
      const stop = metrics.llmLatency.startTimer();
      try {
        const result = await llm.generate(options);
        if (result.usage.inputTokens) {
          metrics.llmTokens.inc({ kind: 'input' }, result.usage.inputTokens);
        }
        if (result.usage.outputTokens) {
          metrics.llmTokens.inc({ kind: 'output' }, result.usage.outputTokens);
        }
        return result;
      } catch (error) {
        metrics.llmErrors.inc();
        throw error;
      } finally {
        stop();
      }
    },
  };
}

/** Counts what a search's reranker used (calls, and tokens or search units where reported). */
export function countRerankUsage(metrics: ServerMetrics, usage: OperationUsage | undefined): void {
  if (!usage || usage.rerankCalls === 0) return;
  metrics.rerankUsage.inc({ kind: 'calls' }, usage.rerankCalls);
  if (usage.rerankTokens > 0) metrics.rerankUsage.inc({ kind: 'tokens' }, usage.rerankTokens);
  if (usage.rerankSearchUnits > 0) {
    metrics.rerankUsage.inc({ kind: 'search_units' }, usage.rerankSearchUnits);
  }
}
