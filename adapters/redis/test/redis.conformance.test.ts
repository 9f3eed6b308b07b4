import { randomUUID } from 'node:crypto';
import { describeVectorStore, expectKeywordLanguages, providedServer } from '@engram/conformance';
import { createIndexCommand, encodeName, keywordTextField } from '@engram/redis-compatible';
import { createClient } from 'redis';
import { createRedisVectorStore } from '../src/index.js';

const { url, ...server } = providedServer();

describeVectorStore({
  name: 'redis',
  create: () => createRedisVectorStore({ ...(url ? { url } : {}) }),
  timeout: 60_000,
  ...server,
  additionalTests: ({ test, dimensions }) => {
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
      try {
        await admin.sendCommand(created);
        await expectKeywordLanguages(store, collection, dimensions);
      } finally {
        await store.dropCollection({ collection }).catch(() => undefined);
        await store.close();
        await admin.quit();
      }
    });
  },
});
