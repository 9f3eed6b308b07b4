import { Client } from '@elastic/elasticsearch';
import { axisVector, describeVectorStore, providedServer } from '@engram/conformance';
import { AbortedError, InvalidArgumentError } from '@engram/core';
import { expect } from 'vitest';
import { createElasticsearchVectorStore } from '../src/index.js';

const { url, ...server } = providedServer();

describeVectorStore({
  name: 'elasticsearch',
  create: () => createElasticsearchVectorStore({ ...(url ? { url } : {}) }),
  timeout: 60_000,
  ...server,
  additionalTests: ({ test, store, createCollection, dimensions }) => {
    test('creates the index with the documented mapping', async () => {
      const collection = await createCollection('mapping');
      const client = new Client({ node: url! });
      try {
        const response = await client.indices.getMapping({ index: collection });
        const properties = response[collection]?.mappings.properties ?? {};
        expect(properties.vector).toMatchObject({
          type: 'dense_vector',
          dims: dimensions,
          similarity: 'cosine',
          index_options: { type: 'hnsw' },
        });
        expect(properties.metadata).toMatchObject({ type: 'object', enabled: false });
        expect(properties.user_id).toMatchObject({ type: 'keyword' });
        expect(properties.text).toMatchObject({ type: 'text' });
      } finally {
        await client.close();
      }
    });

    test('keeps odd metadata keys and long strings, and still filters the rest', async () => {
      const collection = await createCollection('odd_keys');
      const long = 'x'.repeat(9_000);
      const metadata = { 'a.b': 1, '': 'empty key', $dollar: true, long, tag: 'kept' };
      await store().upsert({
        collection,
        records: [
          {
            id: '00000000-0000-4000-8000-000000000001',
            vector: axisVector(dimensions, 0),
            text: 'odd',
            metadata,
            createdAt: '2024-01-01T00:00:00.000Z',
            updatedAt: '2024-01-01T00:00:00.000Z',
          },
        ],
      });
      const [record] = await store().get({
        collection,
        ids: ['00000000-0000-4000-8000-000000000001'],
      });
      expect(record?.metadata).toEqual(metadata);
      expect(
        await store().count({ collection, filter: { op: 'eq', field: 'tag', value: 'kept' } }),
      ).toBe(1);
      expect(await store().count({ collection, filter: { op: 'exists', field: 'long' } })).toBe(1);
    });

    test('refuses an index that is not an Engram collection', async () => {
      const collection = await createCollection('foreign');
      await store().dropCollection({ collection });
      const client = new Client({ node: url! });
      try {
        await client.indices.create({
          index: collection,
          mappings: { properties: { title: { type: 'text' } } },
        });
        const error = await store()
          .ensureCollection({ collection, dimensions })
          .catch((caught: unknown) => caught);
        expect(InvalidArgumentError.isInstance(error), String(error)).toBe(true);
      } finally {
        await client.indices.delete({ index: collection }, { ignore: [404] });
        await client.close();
      }
    });

    test('an aborted signal rejects with AbortedError', async () => {
      const collection = await createCollection('abort');
      const controller = new AbortController();
      controller.abort();
      const error = await store()
        .count({ collection, abortSignal: controller.signal })
        .catch((caught: unknown) => caught);
      expect(AbortedError.isInstance(error)).toBe(true);
      const inFlight = new AbortController();
      const pending = store()
        .list({ collection, limit: 10, abortSignal: inFlight.signal })
        .catch((caught: unknown) => caught);
      inFlight.abort();
      expect(AbortedError.isInstance(await pending), 'aborted in flight').toBe(true);
    });
  },
});
