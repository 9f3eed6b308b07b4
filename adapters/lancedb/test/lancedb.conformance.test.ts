import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeVectorStore } from '@engram/conformance';
import { keywordText } from '@engram/core';
import { afterAll, expect } from 'vitest';
import { createLanceDBVectorStore, type LanceDBVectorStore } from '../src/index.js';

const directory = mkdtempSync(join(tmpdir(), 'engram-lancedb-conformance-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

describeVectorStore({
  name: 'lancedb',
  create: () => createLanceDBVectorStore({ uri: directory }),
  server: 'embedded',
  additionalTests: ({ test, store, createCollection, dimensions }) => {
    test('optimize builds the vector index past the threshold, search still finds every match, ef and nprobes apply', async () => {
      const collection = await createCollection('optimize');
      const own = createLanceDBVectorStore({ uri: directory, vectorIndexThreshold: 300 });
      try {
        const records = Array.from({ length: 400 }, (_, index) => ({
          id: `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`,
          vector: Array.from({ length: dimensions }, (_, axis) => Math.sin(index * (axis + 1))),
          text: `record ${index}`,
          userId: index % 2 === 0 ? 'even' : 'odd',
          metadata: { index },
          createdAt: '2024-01-01T00:00:00.000Z',
          updatedAt: '2024-01-01T00:00:00.000Z',
        }));
        await own.upsert({ collection, records });
        await (own as LanceDBVectorStore).optimize({ collection });
        const matches = await own.query({
          collection,
          vector: records[10]!.vector,
          topK: 5,
          scope: { userId: 'even' },
          filter: { op: 'lt', field: 'index', value: 50 },
        });
        expect(matches[0]?.record.id).toBe(records[10]!.id);
        expect(matches).toHaveLength(5);
        for (const match of matches) expect(match.record.userId).toBe('even');
        expect(await store().count({ collection, scope: { userId: 'odd' } })).toBe(200);
        // More search effort on the same index: the same nearest record first.
        const thorough = createLanceDBVectorStore({ uri: directory, ef: 100, nprobes: 4 });
        try {
          const [best] = await thorough.query({ collection, vector: records[7]!.vector, topK: 3 });
          expect(best?.record.id).toBe(records[7]!.id);
        } finally {
          await thorough.close();
        }
      } finally {
        await own.close();
      }
    });

    test('query({ text }) finds a Korean noun with its particle attached', async () => {
      const collection = await createCollection('keyword_korean');
      const texts = [
        '저는 서울에서 일해요',
        '주말에는 부산으로 여행을 가요',
        '매일 아침 커피를 마셔요',
      ];
      const records = texts.map((text, index) => ({
        id: `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`,
        vector: Array.from({ length: dimensions }, (_, axis) => Math.cos(index + axis)),
        text,
        keywordText: keywordText(text),
        userId: 'reader',
        metadata: {},
        createdAt: '2024-01-01T00:00:00.000Z',
        updatedAt: '2024-01-01T00:00:00.000Z',
      }));
      await store().upsert({ collection, records });
      for (const [word, expected] of [
        ['서울', texts[0]],
        ['부산', texts[1]],
        ['커피는', texts[2]],
      ] as const) {
        const matches = await store().query({
          collection,
          text: keywordText(word),
          topK: 3,
          scope: { userId: 'reader' },
        });
        expect(matches[0]?.record.text, word).toBe(expected);
      }
    });
  },
});
