import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LLM, Reranker } from '@engram/core';
import { isExtractionRequest } from '@engram/core/testing';
import { tracing } from '@opentelemetry/sdk-node';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiKeyStorePath, openApiKeyStore } from './api-keys.js';
import type { AppContext } from './app-context.js';
import { createMemoryJobQueue } from './job-queue.js';
import { createServerMetrics } from './metrics.js';
import { createProjectMemories } from './project-memories.js';
import { createRateLimiter } from './rate-limiter.js';
import { createServerApp } from './server-app.js';
import { loadServerConfig } from './server-config.js';
import { startTracing } from './tracing.js';

interface FinishedSpan {
  name: string;
  attributes: Record<string, unknown>;
  spanContext(): { spanId: string };
  parentSpanContext?: { spanId: string };
  parentSpanId?: string;
}

/** A model that extracts two facts and reports tokens, as a provider would. */
const llm: LLM = {
  specificationVersion: 'v1',
  provider: 'scripted',
  modelId: 'scripted-1',
  async generate(options) {
    const text = isExtractionRequest(options)
      ? JSON.stringify({ facts: ['Likes green tea', 'Lives in Lyon'] })
      : JSON.stringify({ memory: [] });
    return { text, usage: { inputTokens: 120, outputTokens: 15 } };
  },
};

/** A reranker that reverses the candidates and reports tokens, as Voyage or Together AI do. */
const reranker: Reranker = {
  specificationVersion: 'v1',
  provider: 'scripted.reranking',
  modelId: 'reverse-1',
  async rerank({ documents, topN }) {
    const results = documents
      .map((_, index) => ({ index, score: (index + 1) / documents.length }))
      .reverse()
      .slice(0, topN ?? documents.length);
    return { results, usage: { tokens: 42 } };
  },
};

const exporter = new tracing.InMemorySpanExporter();
let stopTracing: () => Promise<void>;
let directory: string;
let context: AppContext;
let key: string;

beforeAll(async () => {
  stopTracing = await startTracing('memory', pino({ level: 'silent' }), {
    spanProcessors: [new tracing.SimpleSpanProcessor(exporter)],
  });
  directory = mkdtempSync(join(tmpdir(), 'engram-spans-'));
  const dataDir = join(directory, 'data');
  const config = loadServerConfig({ dataDir }, { ENGRAM_EMBEDDER: 'hash' });
  const keys = openApiKeyStore(apiKeyStorePath(dataDir));
  key = keys.create({ project: 'alpha' }).key;
  const metrics = createServerMetrics();
  context = {
    config,
    keys,
    projects: createProjectMemories(config, metrics, { llm, reranker }),
    jobs: createMemoryJobQueue({ attempts: 1, backoffMs: 1 }),
    metrics,
    logger: pino({ level: 'silent' }),
    limiter: createRateLimiter(config.rateLimit),
    state: { shuttingDown: false },
  };
});

afterAll(async () => {
  await context.projects.close();
  context.keys.close();
  await stopTracing();
  rmSync(directory, { recursive: true, force: true });
});

describe('child spans', () => {
  it('traces an add as a tree: request, add, then each LLM, embedding and store call', async () => {
    const app = createServerApp(context);
    const response = await app.request('/v1/memories', {
      method: 'POST',
      headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ messages: 'I like green tea and I live in Lyon', userId: 'alice' }),
    });
    expect(response.status).toBe(200);

    const spans = exporter.getFinishedSpans() as unknown as FinishedSpan[];
    const parentOf = (span: FinishedSpan) =>
      span.parentSpanContext?.spanId ?? span.parentSpanId ?? undefined;
    const byId = new Map(spans.map((span) => [span.spanContext().spanId, span]));
    const request = spans.find((span) => span.name === 'POST /v1/memories');
    const add = spans.find((span) => span.name === 'memory.add');
    expect(request).toBeDefined();
    expect(add && parentOf(add)).toBe(request!.spanContext().spanId);
    expect(add!.attributes).toMatchObject({ 'engram.project': 'alpha', 'engram.add.mode': 'sync' });

    const children = spans.filter((span) => parentOf(span) === add!.spanContext().spanId);
    const names = children.map((span) => span.name);
    expect(names).toContain('llm.generate');
    expect(names).toContain('embedder.embed');
    expect(names).toContain('vector_store.query');
    expect(
      names.some((name) => name === 'vector_store.commit' || name === 'vector_store.upsert'),
    ).toBe(true);

    const extraction = children.find((span) => span.name === 'llm.generate')!;
    expect(extraction.attributes).toMatchObject({
      'engram.llm.role': 'extraction',
      'gen_ai.provider.name': 'scripted',
      'gen_ai.request.model': 'scripted-1',
      'gen_ai.usage.input_tokens': 120,
      'gen_ai.usage.output_tokens': 15,
    });
    const embedding = children.find((span) => span.name === 'embedder.embed')!;
    expect(embedding.attributes).toMatchObject({
      'gen_ai.provider.name': 'hash',
      'engram.embedding.purpose': 'document',
      'engram.embedding.count': 2,
    });
    const queries = children.filter((span) => span.name === 'vector_store.query');
    // One related-memories query per extracted fact, in the project's collection.
    expect(queries).toHaveLength(2);
    expect(queries[0]!.attributes).toMatchObject({
      'engram.component': 'vector_store',
      'db.system.name': 'sqlite',
      'db.operation.name': 'query',
      'db.collection.name': 'p_alpha',
    });
    // Every span of the add belongs to the request's trace.
    for (const span of children) expect(byId.has(parentOf(span)!)).toBe(true);
  });
});

describe('reranker span', () => {
  it('traces the rerank of a search as a child span with model and usage, and counts it', async () => {
    exporter.reset();
    const app = createServerApp(context);
    const response = await app.request('/v1/search', {
      method: 'POST',
      headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ query: 'green tea', userId: 'alice', threshold: 0 }),
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { usage: Record<string, number> };
    expect(body.usage).toMatchObject({ rerankCalls: 1, rerankTokens: 42 });

    const spans = exporter.getFinishedSpans() as unknown as FinishedSpan[];
    const parentOf = (span: FinishedSpan) =>
      span.parentSpanContext?.spanId ?? span.parentSpanId ?? undefined;
    const search = spans.find((span) => span.name === 'memory.search');
    const rerank = spans.find((span) => span.name === 'reranker.rerank');
    expect(search).toBeDefined();
    expect(rerank && parentOf(rerank)).toBe(search!.spanContext().spanId);
    expect(rerank!.attributes).toMatchObject({
      'engram.component': 'reranker',
      'gen_ai.operation.name': 'rerank',
      'gen_ai.provider.name': 'scripted.reranking',
      'gen_ai.request.model': 'reverse-1',
      'engram.rerank.documents': 2,
      'gen_ai.usage.input_tokens': 42,
    });

    const text = await context.metrics.registry.metrics();
    expect(text).toContain(
      'engram_rerank_latency_seconds_count{provider="scripted.reranking",model="reverse-1"} 1',
    );
    expect(text).toContain(
      'engram_rerank_units_used_total{provider="scripted.reranking",model="reverse-1",kind="tokens"} 42',
    );
  });
});

describe('project store metrics', () => {
  it('measures the embedded files of open projects and counts memories per user', async () => {
    const memory = await context.projects.memory('alpha');
    await memory.add('bob note', { userId: 'bob', infer: false });
    const [size] = await context.projects.sizes!();
    expect(size?.project).toBe('alpha');
    expect(size?.bytes).toBeGreaterThan(0);
    const [counts] = await context.projects.userCounts!();
    expect(counts?.project).toBe('alpha');
    expect(counts?.perUser.sort()).toEqual([1, 2]);
    // A sample stops at the limit.
    const [sampled] = await context.projects.userCounts!(1);
    expect(sampled?.perUser).toEqual([1]);
  });
});
