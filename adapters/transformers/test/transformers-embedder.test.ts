import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { localModelsForTests } from '@engram/adapter-kit/testing';
import { createInMemoryStore, EngramError, Memory } from '@engram/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTransformersEmbedder, locateTransformersModel } from '../src/index.js';
import { resolveTransformersModel } from '../src/transformers-models.js';

const { modelsDir, skipNote } = localModelsForTests();

const hiking = 'I love hiking in the Swiss Alps every summer';
const ramen = 'My favourite food is spicy ramen';
const question = 'what does she like to do outdoors';

function cosine(left: number[], right: number[]): number {
  return left.reduce((sum, value, index) => sum + value * right[index]!, 0);
}

describe.skipIf(!modelsDir)(`all-MiniLM-L6-v2 from ENGRAM_MODELS_DIR${skipNote}`, () => {
  const embedder = createTransformersEmbedder({ modelsDir: modelsDir! });
  afterAll(() => embedder.close());

  it('gives unit vectors of 384 dimensions with the reference values', async () => {
    const { embeddings, usage } = await embedder.embed({ values: [hiking], purpose: 'document' });
    const [vector] = embeddings;
    expect(vector).toHaveLength(384);
    expect(Math.hypot(...vector!)).toBeCloseTo(1, 5);
    // Computed once with this model; the ONNX model run in Python agrees to 4.5e-8.
    expect(vector!.slice(0, 4).map((value) => Number(value.toFixed(4)))).toEqual(REFERENCE);
    expect(usage?.tokens).toBeGreaterThan(5);
  });

  it('ranks the hiking memory above the ramen one for an outdoors question', async () => {
    const { embeddings } = await embedder.embed({ values: [hiking, ramen], purpose: 'document' });
    const [query] = (await embedder.embed({ values: [question], purpose: 'query' })).embeddings;
    const hikingScore = cosine(query!, embeddings[0]!);
    const ramenScore = cosine(query!, embeddings[1]!);
    expect(hikingScore).toBeCloseTo(0.318, 2);
    expect(ramenScore).toBeCloseTo(0.151, 2);
  });

  it('gives the same vectors in a batch as one at a time', async () => {
    const texts = [hiking, ramen, question, 'ok'];
    const batched = (await embedder.embed({ values: texts, purpose: 'document' })).embeddings;
    for (const [index, text] of texts.entries()) {
      const [single] = (await embedder.embed({ values: [text], purpose: 'document' })).embeddings;
      expect(cosine(single!, batched[index]!)).toBeGreaterThan(0.99999);
    }
  });

  it('finds the hiking memory first through Memory.search', async () => {
    const memory = new Memory({ vectorStore: createInMemoryStore(), embedder, llm: null });
    await memory.add(hiking, { userId: 'alice', infer: false });
    await memory.add(ramen, { userId: 'alice', infer: false });
    const { results } = await memory.search(question, { userId: 'alice' });
    expect(results[0]?.memory).toBe(hiking);
    await memory.close();
  });
});

/** Serves the model directory in the hub's URL layout, `/<hub id>/resolve/main/<file>`. */
function fakeHub(root: string, options: { tamper?: string } = {}) {
  const requests: string[] = [];
  const server: Server = createServer((request, response) => {
    requests.push(request.url ?? '');
    const match = /^\/Xenova\/all-MiniLM-L6-v2\/resolve\/main\/(.+)$/.exec(request.url ?? '');
    let body: Buffer;
    try {
      body = readFileSync(join(root, 'all-MiniLM-L6-v2', match?.[1] ?? '\0'));
    } catch {
      response.writeHead(404).end();
      return;
    }
    if (match?.[1] === options.tamper) body = Buffer.concat([body, Buffer.from('x')]);
    response.writeHead(200, { 'content-length': body.length }).end(body);
  });
  return {
    requests,
    async start(): Promise<string> {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe.skipIf(!modelsDir)(`fetching the model once from a hub${skipNote}`, () => {
  let cacheDir: string;
  beforeAll(() => {
    cacheDir = mkdtempSync(join(tmpdir(), 'engram-models-cache-'));
  });
  afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));

  it('fetches, verifies, and then runs offline from the cache', async () => {
    const hub = fakeHub(modelsDir!);
    const remoteHost = await hub.start();
    const fetched = createTransformersEmbedder({ cacheDir, remoteHost, env: {}, progress: false });
    expect(fetched.isModelAvailable()).toBe(false);
    await fetched.prepare();
    expect(hub.requests).toContain(
      '/Xenova/all-MiniLM-L6-v2/resolve/main/onnx/model_quantized.onnx',
    );
    await hub.close();
    await fetched.close();

    const model = resolveTransformersModel('local');
    const location = locateTransformersModel(model, { cacheDir, dtype: 'q8' });
    expect(location).toEqual({ root: cacheDir, name: 'all-MiniLM-L6-v2' });
    const onnx = readFileSync(join(cacheDir, 'all-MiniLM-L6-v2/onnx/model_quantized.onnx'));
    expect(createHash('sha256').update(onnx).digest('hex')).toBe(
      model.sha256?.['onnx/model_quantized.onnx'],
    );

    // The hub is gone: the cached copy is enough.
    const offline = createTransformersEmbedder({ cacheDir, remoteHost, env: {} });
    expect(offline.isModelAvailable()).toBe(true);
    const { embeddings } = await offline.embed({ values: [hiking], purpose: 'document' });
    expect(embeddings[0]).toHaveLength(384);
    await offline.close();
  });

  it('keeps nothing when a file does not match its checksum', async () => {
    const emptyCache = mkdtempSync(join(tmpdir(), 'engram-models-cache-'));
    const hub = fakeHub(modelsDir!, { tamper: 'onnx/model_quantized.onnx' });
    const remoteHost = await hub.start();
    const embedder = createTransformersEmbedder({
      cacheDir: emptyCache,
      remoteHost,
      env: {},
      progress: false,
    });
    const failure = await embedder.prepare().catch((error: unknown) => error);
    await hub.close();
    expect(EngramError.isInstance(failure)).toBe(true);
    expect(String((failure as Error).message)).toMatch(/sha256 [0-9a-f]{64}, expected 8199be6f/);
    expect(embedder.isModelAvailable()).toBe(false);
    rmSync(emptyCache, { recursive: true, force: true });
  });

  it('says what to do when ENGRAM_MODELS_DIR lacks the model', async () => {
    const embedder = createTransformersEmbedder({
      env: { ENGRAM_MODELS_DIR: cacheDir },
      model: 'e5-small-v2',
    });
    await expect(embedder.prepare()).rejects.toThrow(/pnpm models/);
  });
});

const REFERENCE = [-0.0398, 0.0353, 0.0397, 0.0682];
