import { localModelsForTests } from '@engram/adapter-kit/testing';
import { createHashEmbedder, createInMemoryStore, Memory } from '@engram/core';
import { afterAll, describe, expect, it } from 'vitest';
import { createLlamaCppLLM } from '../src/index.js';

const { modelsDir, skipNote } = localModelsForTests();

const factsSchema = {
  type: 'object',
  properties: { facts: { type: 'array', items: { type: 'string' } } },
  required: ['facts'],
  additionalProperties: false,
};

describe.skipIf(!modelsDir)(`SmolLM2-135M-Instruct from ENGRAM_MODELS_DIR${skipNote}`, () => {
  const llm = createLlamaCppLLM({ model: 'local:SmolLM2-135M-Instruct' });
  afterAll(() => llm.close());

  it('answers JSON that follows the schema, and reports its tokens', async () => {
    const result = await llm.generate({
      messages: [
        { role: 'system', content: 'Extract facts about the user as JSON: {"facts": [...]}.' },
        { role: 'user', content: 'I love hiking in the Swiss Alps every summer.' },
      ],
      responseFormat: { type: 'json', schema: factsSchema, name: 'facts' },
      temperature: 0,
    });
    expect(JSON.parse(result.text)).toEqual(result.object);
    expect(Array.isArray((result.object as { facts: unknown }).facts)).toBe(true);
    expect(result.usage.inputTokens).toBeGreaterThan(10);
    expect(result.usage.outputTokens).toBeGreaterThan(0);
  });

  it('runs a whole Memory.add with inference, every answer parsing', async () => {
    const memory = new Memory({
      vectorStore: createInMemoryStore(),
      embedder: createHashEmbedder(),
      llm,
    });
    for (const text of [
      'I love hiking in the Swiss Alps every summer.',
      'My favourite food is spicy ramen.',
    ]) {
      const result = await memory.add([{ role: 'user', content: text }], { userId: 'alice' });
      expect(result.warnings ?? []).toEqual([]);
    }
    await memory.close();
  });
});
