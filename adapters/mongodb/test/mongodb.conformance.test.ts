import { describeVectorStore } from '@engram/conformance';
import { expect, inject } from 'vitest';
import { createMongoDBVectorStore } from '../src/index.js';

const service = inject('engramService');

describeVectorStore({
  name: 'mongodb',
  create: () => createMongoDBVectorStore({ url: service.url, database: 'engram_conformance' }),
  server: service.origin,
  // every collection builds two search indexes before its first write
  timeout: 120_000,
  ...(service.skip ? { skip: service.skip } : {}),
  additionalTests: ({ test, store, createCollection, dimensions }) => {
    test('a write is visible to $vectorSearch and $search as soon as upsert returns', async () => {
      const collection = await createCollection('read_your_writes');
      const now = new Date().toISOString();
      const vector = Array.from({ length: dimensions }, (_, index) => (index === 1 ? 1 : 0));
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
