import { axisVector, describeVectorStore, providedServer } from '@engram/conformance';
import { expect } from 'vitest';
import { createQdrantVectorStore } from '../src/index.js';

const { url, ...server } = providedServer();

describeVectorStore({
  name: 'qdrant',
  create: () => createQdrantVectorStore({ url }),
  ...server,
  additionalTests: ({ test, store, createCollection, dimensions }) => {
    test('records with ids that are not UUIDs round-trip through hashed point ids', async () => {
      const collection = await createCollection('string_ids');
      const now = new Date().toISOString();
      const vector = axisVector(dimensions, 0);
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
