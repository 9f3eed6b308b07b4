import { axisVector, describeVectorStore, providedServer } from '@engram/conformance';
import { expect } from 'vitest';
import { createMongoDBVectorStore } from '../src/index.js';

const { url, ...server } = providedServer();

describeVectorStore({
  name: 'mongodb',
  create: () => createMongoDBVectorStore({ url, database: 'engram_conformance' }),
  ...server,
  // every collection builds two search indexes before its first write
  timeout: 120_000,
  additionalTests: ({ test, store, createCollection, dimensions }) => {
    test('a write is visible to $vectorSearch and $search as soon as upsert returns', async () => {
      const collection = await createCollection('read_your_writes');
      const now = new Date().toISOString();
      const vector = axisVector(dimensions, 1);
      const id = 'fresh-write';
      await store().upsert({
        collection,
        records: [
          {
            id,
            vector,
            text: 'quokka marmalade',
            userId: 'fresh',
            metadata: {},
            createdAt: now,
            updatedAt: now,
          },
        ],
      });
      const [byVector] = await store().query({
        collection,
        vector,
        topK: 1,
        scope: { userId: 'fresh' },
      });
      expect(byVector?.record.id).toBe(id);
      expect(byVector?.score).toBeGreaterThan(0.999);
      const [byText] = await store().query({
        collection,
        text: 'quokka',
        topK: 1,
        scope: { userId: 'fresh' },
      });
      expect(byText?.record.id).toBe(id);
    });
  },
});
