import { createOpenAI } from '@ai-sdk/openai';
import { AdapterCallError, DimensionMismatchError, InvalidArgumentError } from '@engram/core';
import { type FakeOpenAIServer, startFakeOpenAI } from '@engram/fake-openai';
import type { EmbeddingModel } from 'ai';
import { afterEach, describe, expect, it } from 'vitest';
import { createAISDKEmbedder } from './ai-sdk-embedder.js';

const servers: FakeOpenAIServer[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function setup(embeddingDimensions = 384) {
  const server = await startFakeOpenAI({ embeddingDimensions });
  servers.push(server);
  const openai = createOpenAI({ apiKey: 'test-key', baseURL: server.url });
  return { server, model: openai.embedding('text-embedding-3-small') };
}

function inputsOf(server: FakeOpenAIServer): unknown[] {
  return server.requests.map((request) => (request.body as { input: unknown }).input);
}

describe('createAISDKEmbedder', () => {
  it('embeds a batch, in order, and reports usage', async () => {
    const { server, model } = await setup();
    const embedder = createAISDKEmbedder({ model, dimensions: 384 });
    expect(embedder).toMatchObject({
      specificationVersion: 'v1',
      provider: 'openai.embedding',
      modelId: 'text-embedding-3-small',
      dimensions: 384,
      maxEmbeddingsPerCall: 2048,
    });
    const values = ['likes green tea', 'lives in Lyon'];
    const result = await embedder.embed({ values, purpose: 'document' });
    expect(result.embeddings).toHaveLength(2);
    expect(result.embeddings[0]).toHaveLength(384);
    expect(result.usage?.tokens).toBeGreaterThan(0);
    expect(inputsOf(server)).toEqual([values]);
    const single = await embedder.embed({ values: ['lives in Lyon'], purpose: 'query' });
    expect(single.embeddings[0]).toEqual(result.embeddings[1]);
  });

  it('splits batches larger than maxEmbeddingsPerCall and keeps the order', async () => {
    const { server, model } = await setup();
    const embedder = createAISDKEmbedder({ model, dimensions: 384, maxEmbeddingsPerCall: 3 });
    expect(embedder.maxEmbeddingsPerCall).toBe(3);
    const values = ['a one', 'b two', 'c three', 'd four', 'e five', 'f six', 'g seven'];
    const result = await embedder.embed({ values, purpose: 'document' });
    expect(server.requests).toHaveLength(3);
    expect(
      inputsOf(server).sort((left, right) => String(left).localeCompare(String(right))),
    ).toEqual([['a one', 'b two', 'c three'], ['d four', 'e five', 'f six'], ['g seven']]);
    const oneByOne = await createAISDKEmbedder({ model, dimensions: 384 }).embed({
      values: ['e five'],
      purpose: 'document',
    });
    expect(result.embeddings).toHaveLength(7);
    expect(result.embeddings[4]).toEqual(oneByOne.embeddings[0]);
    const perCall = server.requests
      .slice(0, 3)
      .map((request) => (request.body as { input: string[] }).input.length);
    expect(perCall.reduce((sum, count) => sum + count, 0)).toBe(7);
  });

  it('takes the default batch size from the model', () => {
    const model = {
      specificationVersion: 'v3',
      provider: 'test',
      modelId: 'small-batches',
      maxEmbeddingsPerCall: 96,
      supportsParallelCalls: true,
      doEmbed: async () => ({ embeddings: [], warnings: [] }),
    } satisfies EmbeddingModel;
    expect(createAISDKEmbedder({ model, dimensions: 8 }).maxEmbeddingsPerCall).toBe(96);
  });

  it('throws DimensionMismatchError when vectors have another length', async () => {
    const { model } = await setup(256);
    const embedder = createAISDKEmbedder({ model, dimensions: 384 });
    const error = await embedder.embed({ values: ['x'], purpose: 'document' }).catch((e) => e);
    expect(DimensionMismatchError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ expected: 384, actual: 256, source: 'ai-sdk' });
  });

  it('passes provider options, chosen by purpose when given a function', async () => {
    const { server, model } = await setup();
    const purposes: string[] = [];
    const embedder = createAISDKEmbedder({
      model,
      dimensions: 64,
      providerOptions: (purpose) => {
        purposes.push(purpose);
        return { openai: { dimensions: 64 } };
      },
    });
    const result = await embedder.embed({ values: ['x'], purpose: 'query' });
    expect(result.embeddings[0]).toHaveLength(64);
    expect((server.requests[0]!.body as { dimensions: number }).dimensions).toBe(64);
    expect(purposes).toEqual(['query']);
  });

  it('maps HTTP failures to AdapterCallError with the retryable flag', async () => {
    const { server, model } = await setup();
    const embedder = createAISDKEmbedder({ model, dimensions: 384, maxRetries: 0 });
    server.failNext(1, 429);
    const rateLimited = await embedder
      .embed({ values: ['x'], purpose: 'document' })
      .catch((e) => e);
    expect(AdapterCallError.isInstance(rateLimited)).toBe(true);
    expect(rateLimited.isRetryable).toBe(true);
    server.failNext(1, 400);
    const badRequest = await embedder.embed({ values: ['x'], purpose: 'document' }).catch((e) => e);
    expect(AdapterCallError.isInstance(badRequest)).toBe(true);
    expect(badRequest.isRetryable).toBe(false);
  });

  it('answers an empty batch without a request', async () => {
    const { server, model } = await setup();
    const result = await createAISDKEmbedder({ model, dimensions: 384 }).embed({
      values: [],
      purpose: 'document',
    });
    expect(result.embeddings).toEqual([]);
    expect(server.requests).toHaveLength(0);
  });

  it('rejects invalid options', async () => {
    const { model } = await setup();
    expect(() => createAISDKEmbedder({ model, dimensions: 0 })).toThrow(InvalidArgumentError);
    expect(() => createAISDKEmbedder({ model, dimensions: 8, maxEmbeddingsPerCall: 1.5 })).toThrow(
      /maxEmbeddingsPerCall must be a positive integer/,
    );
  });
});
