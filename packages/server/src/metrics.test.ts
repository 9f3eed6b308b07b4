import {
  AdapterCallError,
  type AddResult,
  extractionSchemaName,
  type LLM,
  type LLMGenerateResult,
  LLMOutputError,
  reconcileSchemaName,
  singleCallSchemaName,
} from '@engram/core';
import { describe, expect, it } from 'vitest';
import {
  countAddedFacts,
  countRerankUsage,
  createServerMetrics,
  instrumentLLM,
  instrumentReranker,
  llmErrorClass,
  llmRole,
} from './metrics.js';

const usage = {
  llmCalls: 0,
  inputTokens: 0,
  outputTokens: 0,
  embeddingCalls: 1,
  embeddingTokens: 5,
  rerankCalls: 1,
  rerankTokens: 120,
  rerankSearchUnits: 1,
};

describe('countRerankUsage', () => {
  it("counts a search's reranker calls, tokens and search units", async () => {
    const metrics = createServerMetrics();
    countRerankUsage(metrics, usage);
    countRerankUsage(metrics, { ...usage, rerankCalls: 0, rerankTokens: 0, rerankSearchUnits: 0 });
    countRerankUsage(metrics, undefined);
    const text = await metrics.registry.metrics();
    expect(text).toContain('engram_rerank_usage_total{kind="calls"} 1');
    expect(text).toContain('engram_rerank_usage_total{kind="tokens"} 120');
    expect(text).toContain('engram_rerank_usage_total{kind="search_units"} 1');
  });
});

describe('LLM metrics', () => {
  const llm = (answer: () => Promise<LLMGenerateResult>): LLM => ({
    specificationVersion: 'v1',
    provider: 'acme',
    modelId: 'acme-1',
    generate: answer,
  });
  const json = (name: string) => ({
    messages: [{ role: 'user' as const, content: 'x' }],
    responseFormat: { type: 'json' as const, schema: {}, name },
  });

  it('names the role of a call from the schema Engram asks for', () => {
    expect(llmRole(json(extractionSchemaName))).toBe('extraction');
    expect(llmRole(json(reconcileSchemaName))).toBe('reconciliation');
    expect(llmRole(json(singleCallSchemaName))).toBe('single-call');
    expect(llmRole(json('engram_graph'))).toBe('graph');
    expect(llmRole(json('something_else'))).toBe('other');
    expect(llmRole({ messages: [{ role: 'user', content: 'Question: ...' }] })).toBe('rewrite');
  });

  it('classifies failed calls by status and kind', () => {
    const withStatus = (statusCode: number) =>
      new AdapterCallError({ source: 'ai-sdk', message: 'failed', cause: { statusCode } });
    expect(llmErrorClass(withStatus(429))).toBe('rate_limit');
    expect(llmErrorClass(withStatus(401))).toBe('auth');
    expect(llmErrorClass(withStatus(503))).toBe('server');
    expect(llmErrorClass(withStatus(400))).toBe('request');
    expect(llmErrorClass(new Error('The operation timed out'))).toBe('timeout');
    expect(llmErrorClass(new Error('fetch failed: ECONNREFUSED'))).toBe('connection');
    expect(llmErrorClass(new LLMOutputError({ source: 'core', message: 'bad' }))).toBe('output');
    expect(llmErrorClass(new Error('?'))).toBe('other');
  });

  it('counts tokens by role and kind, and errors by provider and class', async () => {
    const metrics = createServerMetrics();
    const answering = instrumentLLM(
      llm(async () => ({ text: '{}', usage: { inputTokens: 100, outputTokens: 7 } })),
      metrics,
    );
    await answering.generate(json(extractionSchemaName));
    await answering.generate(json(reconcileSchemaName));
    const failing = instrumentLLM(
      llm(async () => {
        throw new AdapterCallError({
          source: 'ai-sdk',
          message: 'rate limited',
          cause: { statusCode: 429 },
        });
      }),
      metrics,
    );
    await expect(failing.generate(json(extractionSchemaName))).rejects.toThrow('rate limited');
    countRerankUsage(metrics, usage);
    const text = await metrics.registry.metrics();
    expect(text).toContain('engram_llm_tokens_used_total{kind="input",role="extraction"} 100');
    expect(text).toContain('engram_llm_tokens_used_total{kind="output",role="reconciliation"} 7');
    expect(text).toContain('engram_llm_tokens_used_total{kind="input",role="rerank"} 120');
    expect(text).toContain(
      'engram_llm_api_errors_total{provider="acme",error_class="rate_limit"} 1',
    );
    expect(text).toContain('engram_llm_latency_seconds_count{role="extraction"} 2');
  });
});

describe('reranker metrics', () => {
  it('counts search units and tokens by provider and model, and failures by class', async () => {
    const metrics = createServerMetrics();
    const cohere = instrumentReranker(
      {
        specificationVersion: 'v1',
        provider: 'cohere.reranking',
        modelId: 'rerank-v3.5',
        rerank: async () => ({ results: [{ index: 0, score: 0.9 }], usage: { searchUnits: 1 } }),
      },
      metrics,
    );
    expect(cohere).toMatchObject({ provider: 'cohere.reranking', modelId: 'rerank-v3.5' });
    await cohere.rerank({ query: 'q', documents: ['a'] });
    await cohere.rerank({ query: 'q', documents: ['a'] });
    const failing = instrumentReranker(
      {
        specificationVersion: 'v1',
        provider: 'voyage.reranking',
        modelId: 'rerank-2.5',
        rerank: async () => {
          throw new AdapterCallError({ source: 'ai-sdk', message: 'no', cause: { status: 401 } });
        },
      },
      metrics,
    );
    await expect(failing.rerank({ query: 'q', documents: ['a'] })).rejects.toThrow('no');
    const text = await metrics.registry.metrics();
    expect(text).toContain(
      'engram_rerank_units_used_total{provider="cohere.reranking",model="rerank-v3.5",kind="search_units"} 2',
    );
    expect(text).toContain(
      'engram_rerank_latency_seconds_count{provider="cohere.reranking",model="rerank-v3.5"} 2',
    );
    expect(text).toContain(
      'engram_rerank_api_errors_total{provider="voyage.reranking",error_class="auth"} 1',
    );
  });
});

describe('add metrics', () => {
  it('counts extracted facts and those skipped or merged (the de-duplication rate)', async () => {
    const metrics = createServerMetrics();
    const change = (event: 'ADD' | 'UPDATE' | 'DELETE') => ({
      id: event,
      event,
      memory: 'text',
    });
    countAddedFacts(metrics, {
      results: [change('ADD'), change('UPDATE'), change('DELETE')],
      factsExtracted: 4,
    } as AddResult);
    countAddedFacts(metrics, { results: [change('ADD')] } as AddResult);
    const text = await metrics.registry.metrics();
    expect(text).toContain('engram_memories_added_total 2');
    expect(text).toContain('engram_facts_extracted_total 4');
    expect(text).toContain('engram_facts_deduplicated_total 3');
  });
});

describe('store metrics on scrape', () => {
  it('reports per-project counts, sizes, users and memories per user', async () => {
    const metrics = createServerMetrics(
      async () => [
        { project: 'alpha', count: 7 },
        { project: 'beta', count: 3 },
      ],
      { projectLabels: true },
    );
    metrics.storeSizes = async () => [{ project: 'alpha', bytes: 4096 }];
    metrics.userCounts = async () => [
      { project: 'alpha', perUser: [1, 6] },
      { project: 'beta', perUser: [3] },
    ];
    const text = await metrics.registry.metrics();
    expect(text).toContain('engram_vector_count{project="alpha"} 7');
    expect(text).toContain('engram_store_size_bytes{project="alpha"} 4096');
    expect(text).toContain('engram_users{project="alpha"} 2');
    expect(text).toContain('engram_users{project="beta"} 1');
    expect(text).toContain('engram_memories_per_user_bucket{le="5",project="alpha"} 1');
    expect(text).toContain('engram_memories_per_user_count{project="alpha"} 2');
  });

  it('answers a scrape without the numbers of a store that does not answer in time', async () => {
    const never = new Promise<never>(() => {});
    const metrics = createServerMetrics(() => never, { scrapeTimeoutMs: 20 });
    metrics.storeSizes = () => never;
    metrics.userCounts = () => never;
    const text = await metrics.registry.metrics();
    expect(text).toContain('engram_vector_count 0');
    expect(text).toContain('engram_users 0');
  });

  it('reads the per-user counts once per refresh interval, not on every scrape', async () => {
    let reads = 0;
    const metrics = createServerMetrics(undefined, { userCountRefreshMs: 3_600_000 });
    metrics.userCounts = async () => {
      reads += 1;
      return [{ project: 'alpha', perUser: [reads] }];
    };
    await metrics.registry.metrics();
    const text = await metrics.registry.metrics();
    expect(reads).toBe(1);
    expect(text).toContain('engram_users 1');
  });
});
