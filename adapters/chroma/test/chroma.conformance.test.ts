import { describeVectorStore, providedServer } from '@engram/conformance';
import { ChromaClient } from 'chromadb';
import { expect } from 'vitest';
import { createChromaVectorStore } from '../src/index.js';

const { url, ...server } = providedServer();

describeVectorStore({
  name: 'chroma',
  create: () => createChromaVectorStore({ url }),
  ...server,
  additionalTests: ({ test, createCollection, store, dimensions }) => {
    test('creates collections in the cosine space and records their dimensions', async () => {
      const collection = await createCollection('space');
      const address = new URL(url!);
      const client = new ChromaClient({ host: address.hostname, port: Number(address.port) });
      const created = await client.getCollection({ name: collection });
      expect(created.configuration.hnsw?.space).toBe('cosine');
      expect(created.metadata?.['engram:dimensions']).toBe(dimensions);
      expect(await store().count({ collection })).toBe(0);
    });
  },
});
