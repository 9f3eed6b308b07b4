import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Embedder } from './embedder.js';
import {
  embedderRecordFile,
  fileReembedState,
  readEmbedderRecords,
  recordingEmbedder,
} from './embedder-record.js';
import { EmbedderMismatchError } from './errors.js';
import { createHashEmbedder } from './hash-embedder.js';
import { createInMemoryStore } from './in-memory-vector-store.js';
import { Memory } from './memory.js';
import type { ReembedProgress } from './reembed-memories.js';
import type { VectorStore } from './vector-store.js';

const directories: string[] = [];
function dataDirectory(): string {
  const directory = mkdtempSync(join(tmpdir(), 'engram-reembed-'));
  directories.push(directory);
  return directory;
}
afterEach(() => {
  for (const directory of directories.splice(0))
    rmSync(directory, { recursive: true, force: true });
});

/** Another model of the same length: the hash vector reversed, so every vector changes. */
function reversedEmbedder(options: { failOnCall?: number } = {}): Embedder & { calls: string[][] } {
  const hash = createHashEmbedder();
  const calls: string[][] = [];
  return {
    ...hash,
    provider: 'reversed',
    modelId: 'reversed-hash',
    maxEmbeddingsPerCall: 4,
    calls,
    async embed(embedOptions) {
      calls.push(embedOptions.values);
      if (calls.length === options.failOnCall) throw new Error('the process died here');
      const result = await hash.embed(embedOptions);
      return { ...result, embeddings: result.embeddings.map((vector) => [...vector].reverse()) };
    },
  };
}

const texts = Array.from(
  { length: 10 },
  (_, index) => `memory number ${index} about topic ${index}`,
);

/** A Memory over the embedded layout: one store, `embedders.json` in the data directory. */
function openMemory(dataDir: string, store: VectorStore, embedder: Embedder, name: string) {
  return new Memory({
    vectorStore: store,
    embedder: recordingEmbedder(embedder, dataDir, 'memories', name),
    llm: null,
    graphStore: null,
    reembedState: fileReembedState(dataDir, 'memories'),
  });
}

async function seeded(dataDir: string) {
  const store = createInMemoryStore();
  const memory = openMemory(dataDir, store, createHashEmbedder(), 'hash');
  await memory.import(texts.map((text, index) => ({ text, userId: index % 2 ? 'ann' : 'bob' })));
  return { store, memory };
}

async function allVectors(store: VectorStore, collection = 'memories') {
  const page = await store.list({ collection, limit: 100, includeVectors: true });
  return new Map(page.records.map((record) => [record.text, record.vector!]));
}

describe('Memory.reembed', () => {
  it('replaces every vector in place, records the new embedder, and search works after', async () => {
    const dataDir = dataDirectory();
    const { store, memory } = await seeded(dataDir);
    const embedder = reversedEmbedder();
    const progress: ReembedProgress[] = [];
    const result = await memory.reembed({
      embedder,
      embedderName: 'reversed',
      batchSize: 3,
      onProgress: (entry) => progress.push(entry),
    });
    expect(result).toMatchObject({ reembedded: 10, mode: 'in-place', resumed: false });
    expect(progress.map((entry) => entry.processed)).toEqual([3, 6, 9, 10]);
    expect(progress.every((entry) => entry.total === 10 && entry.phase === 'embed')).toBe(true);
    const hash = createHashEmbedder();
    for (const [text, vector] of await allVectors(store)) {
      const [expected] = (await hash.embed({ values: [text], purpose: 'document' })).embeddings;
      expect(vector).toEqual([...expected!].reverse());
    }
    expect(readEmbedderRecords(dataDir).memories).toMatchObject({
      name: 'reversed',
      provider: 'reversed',
      modelId: 'reversed-hash',
    });
    const found = await memory.search('topic 7', { userId: 'ann', limit: 1 });
    expect(found.results[0]?.memory).toBe(texts[7]);
    // The Memory embeds with the new embedder now; a fresh one with the old is refused.
    await memory.add('another memory', { userId: 'ann', infer: false });
    const old = openMemory(dataDir, store, createHashEmbedder(), 'hash');
    const refused = await old.add('old', { userId: 'ann', infer: false }).catch((error) => error);
    expect(EmbedderMismatchError.isInstance(refused)).toBe(true);
  });

  it('resumes after a crash from the last saved batch, and refuses new memories meanwhile', async () => {
    const dataDir = dataDirectory();
    const { store } = await seeded(dataDir);
    const crashing = reversedEmbedder({ failOnCall: 3 });
    const first = openMemory(dataDir, store, createHashEmbedder(), 'hash');
    await expect(first.reembed({ embedder: crashing, batchSize: 2 })).rejects.toThrow(
      'the process died here',
    );
    const file = JSON.parse(readFileSync(join(dataDir, embedderRecordFile), 'utf8'));
    expect(file.reembedding.memories).toMatchObject({ processed: 4, mode: 'in-place' });
    // A process still configured with the old embedder may read but not add.
    const writer = openMemory(dataDir, store, createHashEmbedder(), 'hash');
    await expect(writer.add('meanwhile', { userId: 'ann', infer: false })).rejects.toThrow(
      'is being re-embedded',
    );
    expect((await writer.list({ userId: 'ann' })).results).toHaveLength(5);

    const second = openMemory(dataDir, store, createHashEmbedder(), 'hash');
    const embedder = reversedEmbedder();
    const progress: ReembedProgress[] = [];
    const result = await second.reembed({
      embedder,
      batchSize: 2,
      onProgress: (entry) => progress.push(entry),
    });
    expect(result).toMatchObject({ reembedded: 10, resumed: true });
    expect(embedder.calls.flat()).toHaveLength(6);
    expect(progress[0]).toMatchObject({ processed: 6, resumed: true });
    const again = JSON.parse(readFileSync(join(dataDir, embedderRecordFile), 'utf8'));
    expect(again.reembedding).toBeUndefined();
    const after = openMemory(dataDir, store, reversedEmbedder(), 'reversed');
    await after.add('after', { userId: 'ann', infer: false });
    expect((await after.search('topic 3', { userId: 'ann', limit: 1 })).results[0]?.memory).toBe(
      texts[3],
    );
  });

  it('refuses to resume with another embedder than the interrupted run', async () => {
    const dataDir = dataDirectory();
    const { memory } = await seeded(dataDir);
    await expect(
      memory.reembed({ embedder: reversedEmbedder({ failOnCall: 1 }), batchSize: 2 }),
    ).rejects.toThrow();
    await expect(
      memory.reembed({ embedder: createHashEmbedder({ dimensions: 64 }), batchSize: 2 }),
    ).rejects.toThrow('is being re-embedded with reversed:reversed-hash');
  });

  it('moves to an embedder of another length through a staging collection, keeping history', async () => {
    const dataDir = dataDirectory();
    const { store, memory } = await seeded(dataDir);
    const [first] = (await memory.list({ userId: 'bob', limit: 1 })).results;
    await memory.update(first!.id, { userId: 'bob', text: 'memory number 0 about topic zero' });
    const small = createHashEmbedder({ dimensions: 64 });
    const phases = new Set<string>();
    const result = await memory.reembed({
      embedder: small,
      embedderName: 'hash:64',
      batchSize: 4,
      onProgress: (entry) => phases.add(entry.phase),
    });
    expect(result).toMatchObject({ reembedded: 10, mode: 'staged', dimensions: 64 });
    expect([...phases]).toEqual(['embed', 'prune', 'copy']);
    const vectors = await allVectors(store);
    expect(vectors.size).toBe(10);
    for (const vector of vectors.values()) expect(vector).toHaveLength(64);
    await expect(store.count({ collection: 'memories_reembed' })).rejects.toThrow();
    expect((await memory.history(first!.id)).map((event) => event.event)).toEqual([
      'ADD',
      'UPDATE',
    ]);
    expect((await memory.search('topic zero', { userId: 'bob', limit: 1 })).results[0]?.id).toBe(
      first!.id,
    );
    expect(readEmbedderRecords(dataDir).memories).toMatchObject({
      name: 'hash:64',
      dimensions: 64,
    });
  });

  it('without a data directory, an aborted run resumes in the same Memory', async () => {
    const store = createInMemoryStore();
    const memory = new Memory({
      vectorStore: store,
      embedder: createHashEmbedder(),
      llm: null,
      graphStore: null,
    });
    await memory.import(texts.map((text) => ({ text, userId: 'ann' })));
    const controller = new AbortController();
    await expect(
      memory.reembed({
        embedder: reversedEmbedder(),
        batchSize: 4,
        abortSignal: controller.signal,
        onProgress: () => controller.abort(),
      }),
    ).rejects.toThrow();
    const embedder = reversedEmbedder();
    const result = await memory.reembed({ embedder, batchSize: 4 });
    expect(result).toMatchObject({ reembedded: 10, resumed: true });
    expect(embedder.calls.flat()).toHaveLength(6);
  });
});
