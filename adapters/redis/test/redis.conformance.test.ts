import { randomUUID } from 'node:crypto';
import {
  describeVectorStore,
  expectFoundWithoutKeywordText,
  expectKeywordLanguages,
  providedServer,
  recordsWithoutKeywordText,
} from '@engram/conformance';
import {
  createIndexCommand,
  encodeName,
  hashFields,
  keywordTextField,
  keywordTextFillKey,
} from '@engram/redis-compatible';
import { createClient } from 'redis';
import { expect } from 'vitest';
import { createRedisVectorStore } from '../src/index.js';

const { url, ...server } = providedServer();

describeVectorStore({
  name: 'redis',
  create: () => createRedisVectorStore({ ...(url ? { url } : {}) }),
  timeout: 60_000,
  ...server,
  additionalTests: ({ test, dimensions }) => {
    test('efRuntime sets the HNSW candidate list of vector queries', async () => {
      const store = createRedisVectorStore({ ...(url ? { url } : {}), efRuntime: 50 });
      const collection = `engram_conformance_ef_${randomUUID().slice(0, 8)}`;
      try {
        await store.ensureCollection({ collection, dimensions });
        const now = new Date().toISOString();
        const records = Array.from({ length: 30 }, (_, index) => ({
          id: randomUUID(),
          // Records whose axes repeat (more records than dimensions) differ in their other
          // values, so that no two vectors are equal and the nearest one is never a tie.
          vector: Array.from({ length: dimensions }, (_, axis) =>
            axis === index % dimensions ? 1 : 0.01 * (1 + Math.floor(index / dimensions)),
          ),
          text: `memory ${index}`,
          userId: index % 2 === 0 ? 'even' : 'odd',
          metadata: {},
          createdAt: now,
          updatedAt: now,
        }));
        await store.upsert({ collection, records });
        const [best] = await store.query({ collection, vector: records[3]!.vector, topK: 1 });
        expect(best?.record.id).toBe(records[3]!.id);
        const scoped = await store.query({
          collection,
          vector: records[4]!.vector,
          topK: 20,
          scope: { userId: 'even' },
        });
        expect(scoped).toHaveLength(15);
        expect(scoped[0]?.record.id).toBe(records[4]!.id);
      } finally {
        await store.dropCollection({ collection }).catch(() => {});
        await store.close();
      }
    });
    test('an index made before keyword_text existed gets it and finds CJK and Korean words', async () => {
      const collection = `engram_conformance_kw_migration_${randomUUID().slice(0, 8)}`;
      const encoded = encodeName(collection);
      const index = `engram:idx:${encoded}`;
      // The index as the adapter made it before: no keyword text field.
      const created = createIndexCommand(index, `engram:${encoded}:`, dimensions);
      const at = created.indexOf(keywordTextField);
      created.splice(at, 2);
      const admin = createClient(url ? { url } : {});
      await admin.connect();
      const store = createRedisVectorStore({ ...(url ? { url } : {}) });
      // Hashes written the old way: no keyword text field.
      const old = recordsWithoutKeywordText(dimensions);
      try {
        await admin.sendCommand(created);
        for (const record of old) {
          await admin.sendCommand([
            'HSET',
            `engram:${encoded}:${record.id}`,
            ...hashFields(record),
          ]);
        }
        await expectKeywordLanguages(store, collection, dimensions);
        await expectFoundWithoutKeywordText(store, collection, old);
        expect(await admin.get(keywordTextFillKey(index))).toBe('done');
      } finally {
        await store.dropCollection({ collection }).catch(() => undefined);
        await store.close();
        await admin.quit();
      }
    });
  },
});
