import type { HistoryStore, VectorStore } from '@engram/core';
import type { TestContext } from 'vitest';

/** Where the server a suite runs against came from; recorded for the adapter matrix. */
export type ServerOrigin = 'embedded' | 'native launcher' | 'environment' | 'container' | 'none';

/** A test body; `context.skip(reason)` reports it skipped at run time (e.g. for a capability). */
export type TestBody = (context: TestContext) => Promise<void> | void;

/** Registers one test the way the suite does: skipped with the harness's reason when it has one. */
export type RegisterTest = (name: string, body: TestBody, timeout?: number) => void;

/** What {@link describeVectorStore} needs from an adapter's test file. */
export interface VectorStoreHarness {
  /** Adapter name shown in test titles, e.g. `sqlite` or `qdrant`. */
  name: string;
  /**
   * Creates a fresh store. Called once per test file (shared by every test, which each use their
   * own collection) and once more by the `close` section, which closes its own store.
   */
  create: () => Promise<VectorStore> | VectorStore;
  /** Vector length of every collection the suite creates. Small keeps real servers fast. Default 8. */
  dimensions?: number;
  /**
   * Why the suite cannot run here (no server, no credentials). When set, every test is reported
   * as skipped with this reason in its title, never as passed.
   */
  skip?: string;
  /** Where the server came from, for the adapter matrix. */
  server?: ServerOrigin;
  /**
   * Timeout of an ordinary test in milliseconds; the bulk tests (pagination, batch) get four
   * times as much. Default 30,000.
   */
  timeout?: number;
  /** Prefix of every collection name the suite creates. Default `engram_conformance`. */
  collectionPrefix?: string;
  /**
   * Why the store's keyword index does not yet find a word inside Chinese or Japanese text (it
   * indexes `text` rather than `keywordText`). The test of that is then reported as skipped with
   * this reason, a known gap in the matrix, never as passed.
   */
  keywordTextGap?: string;
  /** The adapter's own extra tests, registered inside the suite with the same store and skip rule. */
  additionalTests?: (context: VectorStoreTestContext) => void;
}

/** What {@link VectorStoreHarness.additionalTests} receives. */
export interface VectorStoreTestContext {
  /** The harness the suite was called with. */
  harness: VectorStoreHarness;
  /** Vector length the suite uses. */
  dimensions: number;
  /** The shared store; only valid inside a test body (it is created in `beforeAll`). */
  store: () => VectorStore;
  /**
   * Creates (with `ensureCollection`) a collection with a unique name that the suite drops after
   * the file has run; only valid inside a test body.
   */
  createCollection: (label: string) => Promise<string>;
  /** Registers a test that follows the harness's skip rule and timeout. */
  test: RegisterTest;
}

/** What {@link describeHistoryStore} needs from an adapter's test file. */
export interface HistoryStoreHarness {
  /** Adapter name shown in test titles. */
  name: string;
  /** Creates a fresh history store. Called once per test file. */
  create: () => Promise<HistoryStore> | HistoryStore;
  /** Why the suite cannot run here. When set, every test is reported as skipped with this reason. */
  skip?: string;
  /** Where the server came from, for the adapter matrix. */
  server?: ServerOrigin;
  /** Timeout of each test in milliseconds. Default 30,000. */
  timeout?: number;
  /** The adapter's own extra tests, registered inside the suite with the same store and skip rule. */
  additionalTests?: (context: HistoryStoreTestContext) => void;
}

/** What {@link HistoryStoreHarness.additionalTests} receives. */
export interface HistoryStoreTestContext {
  /** The harness the suite was called with. */
  harness: HistoryStoreHarness;
  /** The shared store; only valid inside a test body. */
  store: () => HistoryStore;
  /** A scope id unique to this call, so tests never see each other's events. */
  uniqueId: (label: string) => string;
  /** Registers a test that follows the harness's skip rule and timeout. */
  test: RegisterTest;
}
