import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeVectorStore } from '@engram/conformance';
import { afterAll, expect } from 'vitest';
import { createLanceDBVectorStore, type LanceDBVectorStore } from '../src/index.js';

const directory = mkdtempSync(join(tmpdir(), 'engram-lancedb-conformance-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

describeVectorStore({
  name: 'lancedb',
  create: () => createLanceDBVectorStore({ uri: directory }),
  server: 'embedded',
  additionalTests: ({ test, store, createCollection, dimensions }) => {
    test('optimize builds the vector index past the threshold and search still finds every match', async () => {
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
      } finally {
        await own.close();
      }
    });
  },
});
