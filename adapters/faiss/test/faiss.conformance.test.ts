import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeVectorStore } from '@engram/conformance';
import { afterAll, expect } from 'vitest';
import { createFaissVectorStore } from '../src/index.js';

const directory = mkdtempSync(join(tmpdir(), 'engram-faiss-conformance-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

describeVectorStore({
  name: 'faiss',
  create: () => createFaissVectorStore({ path: directory }),
  server: 'embedded',
  additionalTests: ({ test, createCollection, dimensions }) => {
    test('a filter that selects many records is answered through a widening FAISS search', async () => {
      const collection = await createCollection('widening');
      const own = createFaissVectorStore({ path: directory, exactSearchThreshold: 10 });
      try {
        const records = Array.from({ length: 600 }, (_, index) => ({
          id: `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`,
          vector: Array.from({ length: dimensions }, (_, axis) => Math.sin(index * (axis + 1))),
          text: `record ${index}`,
          userId: index % 2 === 0 ? 'even' : 'odd',
          metadata: { index },
          createdAt: '2024-01-01T00:00:00.000Z',
          updatedAt: '2024-01-01T00:00:00.000Z',
        }));
        await own.upsert({ collection, records });
        const matches = await own.query({
          collection,
          vector: records[10]!.vector,
          topK: 5,
          scope: { userId: 'even' },
          filter: { op: 'gte', field: 'index', value: 590 },
        });
        expect(matches.map((match) => match.record.id).sort()).toEqual(
          records
            .slice(590)
            .filter((_, index) => index % 2 === 0)
            .map((record) => record.id),
        );
        const nearest = await own.query({
          collection,
          vector: records[10]!.vector,
          topK: 1,
          scope: { userId: 'even' },
        });
        expect(nearest[0]?.record.id).toBe(records[10]!.id);
        expect(nearest[0]?.score).toBeCloseTo(1, 5);
      } finally {
        await own.close();
      }
    });
  },
});
