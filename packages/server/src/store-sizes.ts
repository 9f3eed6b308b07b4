import { EngramError, type VectorStore } from '@engram/core';

/**
 * Bytes each project's collection takes, as stores that implement `VectorStore.stats` report it
 * (pgvector, Redis, Elasticsearch, OpenSearch, ...). Projects whose store cannot tell, or whose
 * collection does not exist yet, are left out.
 */
export async function reportedStoreSizes(
  stores: Iterable<[project: string, store: VectorStore, collection: string]>,
): Promise<Array<{ project: string; bytes: number }>> {
  const results: Array<{ project: string; bytes: number }> = [];
  for (const [project, store, collection] of stores) {
    if (!store.stats) continue;
    try {
      const { bytes } = await store.stats({ collection });
      if (bytes !== undefined) results.push({ project, bytes });
    } catch (error) {
      if (!EngramError.isInstance(error)) throw error;
    }
  }
  return results;
}
