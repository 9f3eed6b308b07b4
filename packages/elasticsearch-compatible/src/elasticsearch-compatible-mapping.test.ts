import { describe, expect, it } from 'vitest';
import {
  cosineFromScore,
  dimensionsOfMapping,
  type ElasticsearchCompatibleMapping,
  elasticsearchCompatibleIndexBody,
} from './elasticsearch-compatible-mapping.js';

const mapping: ElasticsearchCompatibleMapping = {
  vectorType: 'test_vector',
  dimensionsKey: 'size',
  vectorParameters: { similarity: 'cosine' },
};

describe('index mapping', () => {
  it('reads the dimensions back from the mapping it writes, and nothing else', () => {
    const body = elasticsearchCompatibleIndexBody(mapping, { dimensions: 384 });
    expect(body).not.toHaveProperty('settings');
    expect(body.mappings.properties.vector).toEqual({
      type: 'test_vector',
      size: 384,
      similarity: 'cosine',
    });
    expect(dimensionsOfMapping(mapping, body.mappings)).toBe(384);
    expect(
      dimensionsOfMapping(mapping, { properties: { vector: { type: 'keyword', size: 3 } } }),
    ).toBeUndefined();
    expect(
      dimensionsOfMapping(mapping, { properties: { vector: { type: 'test_vector' } } }),
    ).toBeUndefined();
    expect(dimensionsOfMapping(mapping, undefined)).toBeUndefined();
  });

  it('lets the engine add its own index settings', () => {
    const withKnn = {
      ...mapping,
      indexSettings: (settings?: object) => ({ ...settings, knn: true }),
    };
    expect(elasticsearchCompatibleIndexBody(withKnn, { dimensions: 2 }).settings).toEqual({
      knn: true,
    });
    expect(
      elasticsearchCompatibleIndexBody(withKnn, { dimensions: 2, settings: { shards: 1 } })
        .settings,
    ).toEqual({ shards: 1, knn: true });
  });

  it('converts the k-NN score (1 + cos) / 2 back to the cosine', () => {
    expect(cosineFromScore(1)).toBe(1);
    expect(cosineFromScore(0.5)).toBe(0);
    expect(cosineFromScore(0)).toBe(-1);
    expect(cosineFromScore((1 + 0.8) / 2)).toBeCloseTo(0.8, 12);
  });
});
