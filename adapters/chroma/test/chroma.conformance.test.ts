import { describeVectorStore } from '@engram/conformance';
import { ChromaClient } from 'chromadb';
import { expect, inject } from 'vitest';
import { createChromaVectorStore } from '../src/index.js';

const service = inject('engramService');

describeVectorStore({
  name: 'chroma',
  create: () => createChromaVectorStore({ url: service.url }),
  server: service.origin,
  ...(service.skip ? { skip: service.skip } : {}),
  additionalTests: ({ test, createCollection, store, dimensions }) => {
    test('creates collections in the cosine space and records their dimensions', async () => {
      const collection = await createCollection('space');
      const url = new URL(service.url!);
      const client = new ChromaClient({ host: url.hostname, port: Number(url.port) });
      const created = await client.getCollection({ name: collection });
      expect(created.configuration.hnsw?.space).toBe('cosine');
      expect(created.metadata?.['engram:dimensions']).toBe(dimensions);
      expect(await store().count({ collection })).toBe(0);
    });
  },
});
