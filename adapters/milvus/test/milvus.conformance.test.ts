import { randomUUID } from 'node:crypto';
import { axisVector, describeVectorStore, providedServer } from '@engram/conformance';
import { MilvusClient } from '@zilliz/milvus2-sdk-node';
import { expect } from 'vitest';
import { createMilvusVectorStore, type MilvusVectorStore } from '../src/index.js';

const { url, ...server } = providedServer();

describeVectorStore({
  name: 'milvus',
  create: () => createMilvusVectorStore({ address: url }),
  ...server,
  // Every read waits for Strong consistency, on two shared cores.
  timeout: 90_000,
  additionalTests: ({ test, store, createCollection, dimensions }) => {
    test('new collections have a COSINE vector index, indexed scope fields and Strong consistency', async () => {
      const collection = await createCollection('schema');
      const client = new MilvusClient({ address: url!, logLevel: 'error' });
      try {
        const description = await client.describeCollection({ collection_name: collection });
        expect(description.consistency_level).toBe('Strong');
        const indexes = await client.describeIndex({ collection_name: collection });
        const byField = new Map(
          indexes.index_descriptions.map((index) => [
            index.field_name,
            Object.fromEntries(index.params.map((param) => [param.key, param.value])),
          ]),
        );
        expect(byField.get('vector')).toMatchObject({ metric_type: 'COSINE', index_type: 'HNSW' });
        for (const field of ['user_id', 'agent_id', 'run_id']) {
          expect(byField.has(field), `index on ${field}`).toBe(true);
        }
      } finally {
        await client.closeConnection();
      }
    });

    test('buildIndex flushes and resolves once the vector index covers every row', async () => {
      const collection = await createCollection('build_index');
      const now = new Date().toISOString();
      await store().upsert({
        collection,
        records: Array.from({ length: 40 }, (_, index) => ({
          id: randomUUID(),
          vector: axisVector(dimensions, index % dimensions),
          text: `record ${index}`,
          metadata: {},
          createdAt: now,
          updatedAt: now,
        })),
      });
      const built = await (store() as MilvusVectorStore).buildIndex({ collection });
      expect(built.totalRows).toBe(40);
      expect(built.indexedRows).toBe(40);
      const matches = await store().query({
        collection,
        vector: axisVector(dimensions, 1),
        topK: 3,
      });
      expect(matches).toHaveLength(3);
      await expect(
        (store() as MilvusVectorStore).buildIndex({ collection: 'no_such_collection' }),
      ).rejects.toThrow(/does not exist/);
    });

    test('a list limit beyond the Milvus query window returns every record', async () => {
      const collection = await createCollection('big_limit');
      const now = new Date().toISOString();
      const records = Array.from({ length: 30 }, () => ({
        id: randomUUID(),
        vector: axisVector(dimensions, 0),
        text: 'record',
        metadata: {},
        createdAt: now,
        updatedAt: now,
      }));
      await store().upsert({ collection, records });
      const page = await store().list({ collection, limit: 20_000 });
      expect(page.records).toHaveLength(30);
      expect(page.nextCursor).toBeUndefined();
    });
  },
});
