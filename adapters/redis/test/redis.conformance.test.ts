import { randomUUID } from 'node:crypto';
import { describeVectorStore, providedServer } from '@engram/conformance';
import { keywordText } from '@engram/core';
import { createClient } from 'redis';
import { expect } from 'vitest';
import { createRedisVectorStore } from '../src/index.js';
import { createIndexCommand, encodeName, keywordTextField } from '../src/redis-commands.js';

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
        const texts = ['我最喜欢吃四川火锅', '저는 서울에서 일해요', 'Loves hiking in the Alps'];
        await store.upsert({
          collection,
          records: texts.map((text, position) => ({
            id: randomUUID(),
            vector: Array.from({ length: dimensions }, (_, axis) => (axis === position ? 1 : 0)),
            text,
            keywordText: keywordText(text),
            userId: 'reader',
            metadata: {},
            createdAt: '2024-01-01T00:00:00.000Z',
            updatedAt: '2024-01-01T00:00:00.000Z',
          })),
        });
        for (const [word, expected] of [
          ['火锅', texts[0]],
          ['서울', texts[1]],
          ['hiking', texts[2]],
        ] as const) {
          const matches = await store.query({
            collection,
            text: keywordText(word),
            topK: 3,
            scope: { userId: 'reader' },
          });
          expect(matches[0]?.record.text, word).toBe(expected);
        }
      } finally {
        await store.dropCollection({ collection }).catch(() => undefined);
        await store.close();
        await admin.quit();
      }
    });
  },
});
