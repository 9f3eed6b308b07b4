import { describe, expect, it } from 'vitest';
import { createHashEmbedder } from './hash-embedder.js';
import { createInMemoryStore } from './in-memory-vector-store.js';
import type { LLM } from './llm.js';
import { Memory } from './memory.js';
import type { Reranker } from './reranker.js';

/** An LLM that answers extraction with one fact and reconciliation with ADD, reporting tokens. */
function countingLLM(): LLM {
  return {
    specificationVersion: 'v1',
    provider: 'test',
    modelId: 'counting',
    async generate({ messages }) {
      const prompt = messages.map((message) => message.content).join('\n');
      const text =
        /facts/i.test(prompt) && !/existing|old_memory|"memory"/i.test(prompt)
          ? JSON.stringify({ facts: ['Likes tea'] })
          : JSON.stringify({ memory: [{ id: '0', text: 'Likes tea', event: 'ADD' }] });
      return { text, usage: { inputTokens: 100, outputTokens: 10 } };
    },
  };
}

describe('usage of an operation', () => {
  it('add and search report their model calls and tokens; concurrent calls are kept apart', async () => {
    const memory = new Memory({
      vectorStore: createInMemoryStore(),
      embedder: createHashEmbedder(),
      llm: countingLLM(),
      graphStore: null,
    });
    const [first, second] = await Promise.all([
      memory.add('I like tea', { userId: 'alice' }),
      memory.add('I like tea too', { userId: 'bob' }),
    ]);
    for (const result of [first, second]) {
      expect(result.usage?.llmCalls).toBeGreaterThanOrEqual(1);
      expect(result.usage?.inputTokens).toBe(100 * (result.usage?.llmCalls ?? 0));
      expect(result.usage?.outputTokens).toBe(10 * (result.usage?.llmCalls ?? 0));
      expect(result.usage?.embeddingCalls).toBeGreaterThanOrEqual(1);
    }
    const found = await memory.search('tea', { userId: 'alice' });
    expect(found.usage).toEqual({
      llmCalls: 0,
      inputTokens: 0,
      outputTokens: 0,
      embeddingCalls: 1,
      embeddingTokens: 0,
      rerankCalls: 0,
      rerankTokens: 0,
      rerankSearchUnits: 0,
    });
    await memory.close();
  });

  it('rewriteQuery: one small LLM call, its tokens reported, off by default', async () => {
    const prompts: string[] = [];
    const llm: LLM = {
      specificationVersion: 'v1',
      provider: 'test',
      modelId: 'rewriter',
      async generate({ messages }) {
        prompts.push(messages.map((message) => message.content).join('\n'));
        return {
          text: '"Where does Alice go hiking?"',
          usage: { inputTokens: 40, outputTokens: 6 },
        };
      },
    };
    const memory = new Memory({
      vectorStore: createInMemoryStore(),
      embedder: createHashEmbedder(),
      llm,
      graphStore: null,
    });
    await memory.add('Alice goes hiking in the Alps', { userId: 'alice', infer: false });
    const plain = await memory.search('where does she go?', { userId: 'alice' });
    expect(plain.usage?.llmCalls).toBe(0);
    expect(plain.rewrittenQuery).toBeUndefined();
    const rewritten = await memory.search('where does she go?', {
      userId: 'alice',
      rewriteQuery: { conversation: [{ role: 'user', content: 'Tell me about Alice.' }] },
    });
    expect(rewritten.rewrittenQuery).toBe('Where does Alice go hiking?');
    expect(rewritten.usage).toMatchObject({ llmCalls: 1, inputTokens: 40, outputTokens: 6 });
    expect(prompts.at(-1)).toContain('user: Tell me about Alice.');
    await memory.close();
  });

  it("a reranker's tokens and search units reach the search's usage", async () => {
    const reranker: Reranker = {
      specificationVersion: 'v1',
      provider: 'test',
      modelId: 'billing',
      async rerank({ documents }) {
        return {
          results: documents.map((_, index) => ({ index, score: 1 - index / 10 })),
          usage: { tokens: 42, searchUnits: 1 },
        };
      },
    };
    const memory = new Memory({
      vectorStore: createInMemoryStore(),
      embedder: createHashEmbedder(),
      llm: null,
      graphStore: null,
      reranker,
    });
    await memory.add('Likes tea', { userId: 'alice', infer: false });
    const found = await memory.search('tea', { userId: 'alice' });
    expect(found.usage).toMatchObject({ rerankCalls: 1, rerankTokens: 42, rerankSearchUnits: 1 });
    const plain = await memory.search('tea', { userId: 'alice', rerank: false });
    expect(plain.usage).toMatchObject({ rerankCalls: 0, rerankTokens: 0, rerankSearchUnits: 0 });
    await memory.close();
  });
});
