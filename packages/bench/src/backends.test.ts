import { describe, expect, it } from 'vitest';
import { launcherFailure } from './backend-servers.js';
import {
  type BackendResult,
  benchRecordId,
  mergeResults,
  previousBackendResults,
  selectBackends,
  vectorBackends,
} from './backends.js';
import { createClusteredCorpus } from './clustered.js';
import { exactTopK } from './exact-top-k.js';

const row = (backend: string, size: number, dimensions: number, load = '1.00 -> 1.00') =>
  ({ backend, size, dimensions, settings: '', ranAt: '2026-12-01 00:00', load }) as BackendResult;

describe('backends workload helpers', () => {
  it('gives every corpus index the same UUID-shaped id', () => {
    expect(benchRecordId(0)).toBe('00000000-0000-4000-8000-000000000000');
    expect(benchRecordId(1_234_567)).toBe('00000000-0000-4000-8000-000001234567');
    expect(benchRecordId(42)).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });

  it('selects backends in table order and names unknown ones', () => {
    const known = ['sqlite', 'lancedb', 'pgvector'];
    expect(selectBackends(undefined, known)).toEqual(known);
    expect(selectBackends(['pgvector', 'sqlite'], known)).toEqual(['sqlite', 'pgvector']);
    expect(() => selectBackends(['qdrant', 'sqlite'], known)).toThrow(/"qdrant".*sqlite/);
  });

  it('knows a factory and settings for every vector backend that runs here', () => {
    expect(vectorBackends.map((backend) => backend.name)).toEqual([
      'sqlite',
      'lancedb',
      'pgvector',
      'pgvector-ivfflat',
      'milvus',
      'milvus-ivfflat',
      'elasticsearch',
      'weaviate',
      'redis',
      'chroma',
      'qdrant',
    ]);
    for (const backend of vectorBackends) {
      expect(backend.factory).toMatch(/^create/);
      expect(backend.settings.length).toBeGreaterThan(20);
    }
    const weaviate = vectorBackends.find((backend) => backend.name === 'weaviate')!;
    expect(
      weaviate.options({ url: 'http://127.0.0.1:8080/?grpcPort=50051', directory: '' }),
    ).toEqual({ url: 'http://127.0.0.1:8080/', grpcPort: 50051 });
  });

  it('computes the exact top-k by brute force', () => {
    const corpus = createClusteredCorpus({ users: 5, dimensions: 16, topics: 10 });
    const queries = [corpus.query(0).vector, corpus.query(1).vector];
    const exact = exactTopK(corpus, 200, queries, 10);
    for (const [queryIndex, query] of queries.entries()) {
      const scored = Array.from({ length: 200 }, (_, index) => {
        const vector = corpus.memory(index).vector;
        return { index, score: vector.reduce((sum, value, axis) => sum + value * query[axis]!, 0) };
      }).sort((left, right) => right.score - left.score);
      expect(exact[queryIndex]).toEqual(scored.slice(0, 10).map((entry) => entry.index));
    }
  });

  it('keeps earlier rows of other sizes and replaces rows run again', () => {
    const earlier = [row('sqlite', 100_000, 384, 'old'), row('pgvector', 1_000_000, 1536, 'old')];
    const merged = mergeResults([row('sqlite', 100_000, 384, 'new')], earlier);
    expect(merged.map((entry) => `${entry.backend}:${entry.load}`)).toEqual([
      'pgvector:old',
      'sqlite:new',
    ]);
  });

  it('reads the rows an earlier run left in the document', () => {
    const data = { vector: [row('redis', 2000, 384)], graph: [] };
    const document = `text\n<!-- backends-data: ${JSON.stringify(data)} -->\nmore`;
    expect(previousBackendResults(document).vector).toEqual(data.vector);
    expect(previousBackendResults('nothing here')).toEqual({ vector: [], graph: [] });
    expect(previousBackendResults('<!-- backends-data: {broken -->')).toEqual({
      vector: [],
      graph: [],
    });
  });

  it("reports a launcher's error line as the reason a row was not measured", () => {
    const output = '[milvus] downloading\n[milvus] error: no space left on device\n[milvus] tail';
    expect(launcherFailure(output)).toBe('error: no space left on device');
    expect(launcherFailure('[redis] something odd\n')).toBe('something odd');
    expect(launcherFailure('')).toBe('no output');
  });
});
