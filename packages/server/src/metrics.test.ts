import { describe, expect, it } from 'vitest';
import { countRerankUsage, createServerMetrics } from './metrics.js';

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
