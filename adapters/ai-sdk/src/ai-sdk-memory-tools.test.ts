import type { LanguageModelV3Content, LanguageModelV3GenerateResult } from '@ai-sdk/provider';
import { createHashEmbedder, createInMemoryStore, Memory } from '@engram/core';
import { generateText, stepCountIs } from 'ai';
import { MockLanguageModelV3 } from 'ai/test';
import { describe, expect, it } from 'vitest';
import { engramTools } from './ai-sdk-memory-tools.js';

const usage = {
  inputTokens: { total: 10, noCache: 10, cacheRead: undefined, cacheWrite: undefined },
  outputTokens: { total: 5, text: 5, reasoning: undefined },
};

function step(content: LanguageModelV3Content[]): LanguageModelV3GenerateResult {
  const toolCalls = content.some((part) => part.type === 'tool-call');
  return {
    content,
    finishReason: toolCalls
      ? { unified: 'tool-calls', raw: 'tool_calls' }
      : { unified: 'stop', raw: 'stop' },
    usage,
    warnings: [],
  };
}

function createMemory() {
  return new Memory({
    vectorStore: createInMemoryStore(),
    embedder: createHashEmbedder(),
    llm: null,
    graphStore: null,
  });
}

describe('engramTools', () => {
  it('lets the model store a memory, then find it again', async () => {
    const memory = createMemory();
    const tools = engramTools({ memory, userId: 'alice' });
    const model = new MockLanguageModelV3({
      doGenerate: [
        step([
          {
            type: 'tool-call',
            toolCallId: 'call-1',
            toolName: 'addMemory',
            input: JSON.stringify({ memory: 'Alice is vegetarian' }),
          },
        ]),
        step([
          {
            type: 'tool-call',
            toolCallId: 'call-2',
            toolName: 'searchMemories',
            input: JSON.stringify({ query: 'vegetarian diet', limit: 3 }),
          },
        ]),
        step([{ type: 'text', text: 'Noted: vegetarian.' }]),
      ],
    });
    const result = await generateText({
      model,
      tools,
      stopWhen: stepCountIs(5),
      prompt: 'Remember that I am vegetarian.',
    });
    expect(result.text).toBe('Noted: vegetarian.');
    const stored = await memory.list({ userId: 'alice' });
    expect(stored.results.map((item) => item.memory)).toEqual(['Alice is vegetarian']);

    const searchResult = result.steps[1]?.toolResults[0];
    expect(searchResult?.toolName).toBe('searchMemories');
    const output = searchResult?.output as { memories: { id: string; memory: string }[] };
    expect(output.memories.map((found) => found.memory)).toEqual(['Alice is vegetarian']);
    expect(output.memories[0]?.id).toBe(stored.results[0]?.id);
  });

  it('searches only the bound scope and caps the number of results', async () => {
    const memory = createMemory();
    await memory.add('Bob is vegetarian', { userId: 'bob', infer: false });
    for (const food of ['pasta', 'salad', 'curry']) {
      await memory.add(`Alice likes ${food}`, { userId: 'alice', infer: false });
    }
    const tools = engramTools({ memory, userId: 'alice', maxResults: 2 });
    const output = (await tools.searchMemories.execute?.(
      { query: 'likes vegetarian food', limit: 50 },
      { toolCallId: 'call', messages: [] },
    )) as { memories: { memory: string }[] };
    expect(output.memories).toHaveLength(2);
    expect(output.memories.every((found) => found.memory.startsWith('Alice'))).toBe(true);
  });

  it('refuses a missing scope', () => {
    expect(() => engramTools({ memory: createMemory() })).toThrow('At least one of userId');
  });
});
