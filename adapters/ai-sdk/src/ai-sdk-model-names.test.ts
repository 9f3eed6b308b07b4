import { InvalidArgumentError } from '@engram/core';
import { type FakeOpenAIServer, startFakeOpenAI } from '@engram/fake-openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createEmbedderFromName,
  createLLMFromName,
  defaultEmbedderName,
  defaultLLMName,
} from './ai-sdk-model-names.js';

let server: FakeOpenAIServer;

beforeAll(async () => {
  server = await startFakeOpenAI({
    apiKey: 'sk-test',
    chat: (request) => `answered by ${request.model}`,
  });
});

beforeEach(() => {
  server.requests.length = 0;
});

afterAll(async () => {
  await server.close();
});

function openAIEnv(extra: Record<string, string> = {}) {
  return { env: { OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: server.url, ...extra } };
}

function ollamaEnv() {
  // Ollama is reached at <base>/v1, so the fake's root stands in for the Ollama server.
  return { env: { OLLAMA_BASE_URL: server.url.replace(/\/v1$/, ''), OLLAMA_API_KEY: 'sk-test' } };
}

describe('by-name configuration', () => {
  it('exports the default names', () => {
    expect(defaultLLMName).toBe('openai:gpt-4.1-mini');
    expect(defaultEmbedderName).toBe('openai:text-embedding-3-small');
  });

  it('builds an OpenAI chat LLM from the environment object', async () => {
    const llm = createLLMFromName(defaultLLMName, openAIEnv());
    expect(llm.provider).toBe('openai.chat');
    expect(llm.modelId).toBe('gpt-4.1-mini');
    const result = await llm.generate({ messages: [{ role: 'user', content: 'hi' }] });
    expect(result.text).toBe('answered by gpt-4.1-mini');
    expect(server.requests[0]?.path).toBe('/v1/chat/completions');
    expect(server.requests[0]?.headers.authorization).toBe('Bearer sk-test');
  });

  it('builds an OpenAI embedder with the known dimensions', async () => {
    const embedder = createEmbedderFromName(defaultEmbedderName, openAIEnv());
    expect(embedder.dimensions).toBe(1536);
    expect(embedder.modelId).toBe('text-embedding-3-small');
    // The fake answers 384 dimensions by default, so the check must catch it.
    await expect(embedder.embed({ values: ['x'], purpose: 'document' })).rejects.toThrow(
      /returned vectors of 384 dimensions/,
    );
  });

  it('sends explicit dimensions to text-embedding-3 models', async () => {
    const embedder = createEmbedderFromName(
      'openai:text-embedding-3-large?dimensions=512',
      openAIEnv(),
    );
    expect(embedder.dimensions).toBe(512);
    const result = await embedder.embed({ values: ['a', 'b'], purpose: 'document' });
    expect(result.embeddings.map((embedding) => embedding.length)).toEqual([512, 512]);
    expect(server.requests[0]?.body).toMatchObject({
      model: 'text-embedding-3-large',
      dimensions: 512,
    });
  });

  it('reads dimensions of unknown models from ENGRAM_EMBEDDER_DIMENSIONS', async () => {
    const embedder = createEmbedderFromName(
      'openai:bge-small',
      openAIEnv({ ENGRAM_EMBEDDER_DIMENSIONS: '384' }),
    );
    expect(embedder.dimensions).toBe(384);
    const result = await embedder.embed({ values: ['a'], purpose: 'query' });
    expect(result.embeddings[0]).toHaveLength(384);
    // Only text-embedding-3 models can shorten their vectors, so nothing is asked of others.
    expect(server.requests[0]?.body).not.toHaveProperty('dimensions');
  });

  it('reaches Ollama through its OpenAI-compatible /v1 API', async () => {
    const llm = createLLMFromName('ollama:llama3.2:3b', ollamaEnv());
    expect(llm.provider).toBe('ollama.chat');
    expect(llm.modelId).toBe('llama3.2:3b');
    const result = await llm.generate({ messages: [{ role: 'user', content: 'hi' }] });
    expect(result.text).toBe('answered by llama3.2:3b');
    expect(server.requests[0]?.path).toBe('/v1/chat/completions');

    const embedder = createEmbedderFromName('ollama:all-minilm:latest', ollamaEnv());
    expect(embedder.dimensions).toBe(384);
    expect(embedder.provider).toBe('ollama.embedding');
    const embedded = await embedder.embed({ values: ['x', 'y'], purpose: 'document' });
    expect(embedded.embeddings).toHaveLength(2);
    expect(server.requests[1]?.path).toBe('/v1/embeddings');
  });

  it('defaults Ollama to localhost:11434 and accepts a base URL that already ends in /v1', async () => {
    const fromV1 = createLLMFromName('ollama:qwen3', {
      env: { OLLAMA_BASE_URL: `${server.url}/`, OLLAMA_API_KEY: 'sk-test' },
    });
    expect((await fromV1.generate({ messages: [{ role: 'user', content: 'x' }] })).text).toBe(
      'answered by qwen3',
    );
    expect(createEmbedderFromName('ollama:nomic-embed-text', { env: {} }).dimensions).toBe(768);
    expect(createEmbedderFromName('ollama:mxbai-embed-large', { env: {} }).dimensions).toBe(1024);
  });

  it('asks for OPENAI_API_KEY when it is missing', () => {
    for (const create of [createLLMFromName, createEmbedderFromName]) {
      const error = (() => {
        try {
          create(create === createLLMFromName ? defaultLLMName : defaultEmbedderName, {
            env: { OPENAI_API_KEY: '  ' },
          });
        } catch (caught) {
          return caught;
        }
      })();
      expect(InvalidArgumentError.isInstance(error)).toBe(true);
      expect(String(error)).toMatch(/\[engram\/ai-sdk\] .*set OPENAI_API_KEY/);
    }
  });

  it('lists the supported prefixes for an unknown or missing one', () => {
    expect(() => createLLMFromName('acme:model-1', { env: {} })).toThrow(
      /Unknown provider 'acme'.*'openai:', 'ollama:', 'anthropic:'/,
    );
    expect(() => createEmbedderFromName('anthropic:claude-sonnet-4-5', { env: {} })).toThrow(
      /Unknown provider 'anthropic' in embedder name/,
    );
    expect(() => createEmbedderFromName('text-embedding-3-small', { env: {} })).toThrow(
      /expected '<provider>:<model>'.*'openai:', 'ollama:'/,
    );
    expect(() => createLLMFromName('openai:', openAIEnv())).toThrow(InvalidArgumentError);
  });

  it('explains how to pass the dimensions of an unknown embedding model', () => {
    expect(() => createEmbedderFromName('openai:my-embedder', openAIEnv())).toThrow(
      /'openai:my-embedder\?dimensions=768'.*ENGRAM_EMBEDDER_DIMENSIONS/,
    );
    expect(() => createEmbedderFromName('openai:my-embedder?dimensions=abc', openAIEnv())).toThrow(
      /must be a positive integer/,
    );
    expect(() =>
      createEmbedderFromName('openai:my-embedder', openAIEnv({ ENGRAM_EMBEDDER_DIMENSIONS: '-1' })),
    ).toThrow(/ENGRAM_EMBEDDER_DIMENSIONS must be a positive integer/);
  });

  it('rejects unknown name parameters', () => {
    expect(() => createLLMFromName('openai:gpt-4.1-mini?dimensions=3', openAIEnv())).toThrow(
      /Unknown parameter 'dimensions'/,
    );
    expect(() =>
      createEmbedderFromName('openai:text-embedding-3-small?size=3', openAIEnv()),
    ).toThrow(/Unknown parameter 'size'.*Allowed: dimensions/);
  });
});
