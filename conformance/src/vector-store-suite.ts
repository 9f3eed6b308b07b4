import type { VectorStore } from '@engram/core';
import { afterAll, beforeAll, describe } from 'vitest';
import type { VectorStoreHarness, VectorStoreTestContext } from './harness.js';
import {
  defaultTimeout,
  storeHolder,
  suiteTitle,
  testRegistrar,
  uniqueCollectionName,
} from './support.js';
import { adjacentSection } from './vector-store-adjacent.js';
import { expirySection } from './vector-store-expiry.js';
import { filtersSection } from './vector-store-filters.js';
import { scopeIsolationSection } from './vector-store-scope.js';
import {
  atomicHistorySection,
  batchSection,
  closeSection,
  collectionsSection,
  concurrencySection,
  deleteSection,
  keywordSearchSection,
  paginationSection,
  payloadsSection,
  querySection,
} from './vector-store-sections.js';
import { statsSection } from './vector-store-stats.js';

/** Default vector length: small keeps real servers fast. */
const defaultDimensions = 8;

/**
 * Registers the shared `VectorStore` conformance suite for one adapter. Call it at the top level
 * of the adapter's test file. One store is created for the file and every test uses its own
 * collection, so several suites can run in parallel against one server.
 */
export function describeVectorStore(harness: VectorStoreHarness): void {
  const dimensions = harness.dimensions ?? defaultDimensions;
  const timeout = harness.timeout ?? defaultTimeout;
  const prefix = harness.collectionPrefix ?? 'engram_conformance';
  const test = testRegistrar(harness.skip, timeout);
  const collections: string[] = [];
  const store = storeHolder<VectorStore>();
  const context: VectorStoreTestContext = {
    harness,
    dimensions,
    store: store.current,
    async createCollection(label) {
      const collection = uniqueCollectionName(prefix, label);
      collections.push(collection);
      await store.current().ensureCollection({ collection, dimensions });
      return collection;
    },
    test,
  };

  describe(suiteTitle('VectorStore', harness), () => {
    if (harness.skip === undefined) {
      beforeAll(async () => {
        store.set(await harness.create());
      }, timeout);
      afterAll(async () => {
        const created = store.created;
        if (!created) return;
        for (const collection of collections) {
          try {
            await created.dropCollection({ collection });
          } catch {
            // cleanup is best effort; a failure here must not hide the test results
          }
        }
        await created.close();
      }, timeout * 4);
    }

    describe('collections', () => collectionsSection(context));
    describe('payloads', () => payloadsSection(context));
    describe('query', () => querySection(context));
    describe('scope isolation', () => scopeIsolationSection(context));
    describe('filters', () => filtersSection(context));
    describe('expiry', () => expirySection(context));
    describe('pagination', () => paginationSection(context));
    describe('delete', () => deleteSection(context));
    describe('batch', () => batchSection(context));
    describe('concurrency', () => concurrencySection(context));
    describe('keyword search', () => keywordSearchSection(context));
    describe('atomic history', () => atomicHistorySection(context));
    describe('stats', () => statsSection(context));
    describe('adjacent', () => adjacentSection(context));
    describe('close', () => closeSection(context));
    if (harness.additionalTests) {
      const additionalTests = harness.additionalTests;
      describe('additional', () => additionalTests(context));
    }
  });
}
