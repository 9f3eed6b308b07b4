import { describeVectorStore } from '@engram/conformance';
import { expect, inject } from 'vitest';
import { createQdrantVectorStore } from '../src/index.js';

const service = inject('engramService');

describeVectorStore({
  name: 'qdrant',
  create: () => createQdrantVectorStore({ url: service.url }),
  server: service.origin,
  ...(service.skip ? { skip: service.skip } : {}),
  additionalTests: ({ test, store, createCollection, dimensions }) => {
    test('records with ids that are not UUIDs round-trip through hashed point ids', async () => {
      const collection = await createCollection('string_ids');
      const now = new Date().toISOString();
      const vector = Array.from({ length: dimensions }, (_, index) => (index === 0 ? 1 : 0));
      const ids = ['memory-1', 'Memory-1', 'ÄÖÜ/42'];
      await store().upsert({
        collection,
        records: ids.map((id) => ({
          id,
          vector,
          text: id,
          metadata: {},
          createdAt: now,
          updatedAt: now,
        })),
      });
      const records = await store().get({ collection, ids });
      expect(records.map((record) => record.id)).toEqual(ids);
      expect(await store().delete({ collection, ids: ['memory-1', 'missing'] })).toEqual({
        deleted: 1,
      });
    });
  },
});
