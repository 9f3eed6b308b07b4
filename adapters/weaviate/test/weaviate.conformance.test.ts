import { randomUUID } from 'node:crypto';
import {
  axisVector,
  describeVectorStore,
  expectFoundWithoutKeywordText,
  expectKeywordLanguages,
  providedServer,
  recordsWithoutKeywordText,
} from '@engram/conformance';
import { expect } from 'vitest';
import { createWeaviateVectorStore } from '../src/index.js';
import { connectWeaviate } from '../src/weaviate-connection.js';
import { toClassName } from '../src/weaviate-names.js';
import {
  collectionDefinition,
  keywordTextFilled,
  keywordTextProperty,
  toObject,
} from '../src/weaviate-schema.js';

const { url, ...server } = providedServer();

/** The launcher and the container hand over `http://host:port/?grpcPort=N`. */
function connection(serviceUrl: string | undefined) {
  if (!serviceUrl) return {};
  const url = new URL(serviceUrl);
  const grpcPort = url.searchParams.get('grpcPort');
  url.search = '';
  return { url: url.toString(), ...(grpcPort ? { grpcPort: Number(grpcPort) } : {}) };
}

describeVectorStore({
  name: 'weaviate',
  create: () => createWeaviateVectorStore(connection(url)),
  timeout: 60_000,
  ...server,
  additionalTests: ({ test, store, createCollection, dimensions }) => {
    test('a collection made before keywordText existed gets it and finds CJK and Korean words', async () => {
      const collection = `engram_conformance_kw_migration_${randomUUID().slice(0, 8)}`;
      const className = toClassName(collection);
      const client = await connectWeaviate(connection(url));
      const own = createWeaviateVectorStore(connection(url));
      try {
        // The collection as the adapter made it before: no keywordText property, and objects
        // written without one.
        const definition = collectionDefinition(className, collection, dimensions);
        definition.properties = definition.properties.filter(
          (property) => property.name !== keywordTextProperty.name,
        );
        definition.description = `engram:${JSON.stringify({ collection, dimensions })}`;
        await client.collections.create(definition as never);
        const old = recordsWithoutKeywordText(dimensions);
        const inserted = await client.collections
          .use(className)
          .data.insertMany(old.map((record) => toObject(record).object) as never);
        expect(inserted.hasErrors).toBe(false);
        await expectKeywordLanguages(own, collection, dimensions);
        await expectFoundWithoutKeywordText(own, collection, old);
        const config = await client.collections.use(className).config.get();
        expect(keywordTextFilled(config.description)).toBe(true);
      } finally {
        await own.dropCollection({ collection }).catch(() => undefined);
        await own.close();
        await client.close();
      }
    });

    test('scope ids and strings keep surrounding whitespace, empty strings and newlines exact', async () => {
      const collection = await createCollection('exact_text');
      const record = (userId: string, note: string) => ({
        id: randomUUID(),
        vector: axisVector(dimensions, 0),
        text: note,
        userId,
        metadata: { note },
        createdAt: '2024-01-01T00:00:00.000Z',
        updatedAt: '2024-01-01T00:00:00.000Z',
      });
      const plain = record('alice', 'a');
      const padded = record(' alice ', ' a ');
      const empty = record('bob', '');
      const multiline = record('bob', 'first line\nsecond line');
      await store().upsert({ collection, records: [plain, padded, empty, multiline] });
      expect(await store().count({ collection, scope: { userId: 'alice' } })).toBe(1);
      expect(await store().count({ collection, scope: { userId: ' alice ' } })).toBe(1);
      const [stored] = await store().get({ collection, ids: [padded.id] });
      expect(stored?.userId).toBe(' alice ');
      const ids = async (filter: Parameters<ReturnType<typeof store>['count']>[0]['filter']) =>
        (await store().list({ collection, limit: 10, ...(filter ? { filter } : {}) })).records
          .map((found) => found.id)
          .sort();
      expect(await ids({ op: 'eq', field: 'note', value: 'a' })).toEqual([plain.id]);
      expect(await ids({ op: 'eq', field: 'note', value: '' })).toEqual([empty.id]);
      expect(await ids({ op: 'contains', field: 'note', value: 'line\nsecond' })).toEqual([
        multiline.id,
      ]);
      expect(await ids({ op: 'lt', field: 'note', value: 'a' })).toEqual(
        [padded.id, empty.id].sort(),
      );
    });
    test('collection names that differ only by case stay apart', async () => {
      const lower = await createCollection('case');
      const upper = lower.toUpperCase();
      await store().ensureCollection({ collection: upper, dimensions: dimensions + 1 });
      try {
        await store().ensureCollection({ collection: lower, dimensions });
        expect(await store().count({ collection: upper })).toBe(0);
      } finally {
        await store().dropCollection({ collection: upper });
      }
    });
  },
});
