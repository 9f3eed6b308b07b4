import { createInMemoryVectorStore, NotFoundError, type VectorStore } from '@engram/core';
import { describe, expect, it } from 'vitest';
import { reportedStoreSizes } from './store-sizes.js';

function withStats(stats: VectorStore['stats']): VectorStore {
  return Object.assign(createInMemoryVectorStore(), { stats });
}

describe('reportedStoreSizes', () => {
  it('reports the bytes stores measure and leaves out those that cannot tell', async () => {
    const measured = withStats(async ({ collection }) => ({
      vectors: 3,
      bytes: collection === 'p_alpha' ? 8192 : 4096,
    }));
    const countOnly = withStats(async () => ({ vectors: 3 }));
    const missing = withStats(async ({ collection }) => {
      throw new NotFoundError({ source: 'test', message: `no collection ${collection}` });
    });
    const { stats: _, ...withoutStats } = createInMemoryVectorStore();
    const sizes = await reportedStoreSizes([
      ['alpha', measured, 'p_alpha'],
      ['beta', measured, 'p_beta'],
      ['gamma', countOnly, 'p_gamma'],
      ['delta', missing, 'p_delta'],
      ['epsilon', withoutStats as VectorStore, 'p_epsilon'],
    ]);
    expect(sizes).toEqual([
      { project: 'alpha', bytes: 8192 },
      { project: 'beta', bytes: 4096 },
    ]);
  });

  it('lets errors that are not Engram errors through', async () => {
    const broken = withStats(async () => {
      throw new TypeError('bug');
    });
    await expect(reportedStoreSizes([['alpha', broken, 'p_alpha']])).rejects.toThrow('bug');
  });
});
