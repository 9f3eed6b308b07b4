import { randomBytes, randomUUID } from 'node:crypto';
import type {
  FilterExpression,
  Scope,
  StoredRecord,
  VectorRecord,
  VectorStore,
} from '@engram/core';
import { it } from 'vitest';
import type { RegisterTest } from './harness.js';

/** Default test timeout: real servers, two cores. */
export const defaultTimeout = 30_000;

/** Builds the `it` wrapper that turns every test into a skipped one with the reason in its title. */
export function testRegistrar(skip: string | undefined, timeout: number): RegisterTest {
  return (name, body, ownTimeout) => {
    if (skip !== undefined) {
      it.skip(`[skipped: ${skip}] ${name}`, () => {});
      return;
    }
    it(name, (context) => body(context), ownTimeout ?? timeout);
  };
}

/** Holds the store a suite creates in `beforeAll`; `current` reads it inside test bodies. */
export function storeHolder<Store>() {
  let store: Store | undefined;
  return {
    /** The store once created, or `undefined` (for cleanup, which may run without one). */
    get created(): Store | undefined {
      return store;
    },
    set(created: Store): Store {
      store = created;
      return created;
    },
    current(): Store {
      if (!store) throw new Error('The store is created in beforeAll; use it inside a test body.');
      return store;
    },
  };
}

/** The title of a suite's outer `describe`, naming the adapter and where its server came from. */
export function suiteTitle(contract: string, harness: { name: string; server?: string }): string {
  const server = harness.server ? ` [server: ${harness.server}]` : '';
  return `${contract} conformance: ${harness.name}${server}`;
}

/** A short random suffix of lowercase letters and digits, safe in every backend's names. */
export function randomSuffix(length = 10): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = randomBytes(length);
  let suffix = '';
  for (const byte of bytes) suffix += alphabet[byte % alphabet.length];
  return suffix;
}

/**
 * A collection name unique to one test: letters, digits and underscores only, starting with a
 * letter, short enough for Milvus, Weaviate and Elasticsearch naming rules.
 */
export function uniqueCollectionName(prefix: string, label: string): string {
  const cleanLabel = label
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .slice(0, 16);
  return `${prefix}_${cleanLabel}_${randomSuffix(8)}`;
}

/** A record id every backend accepts (Qdrant and others require UUIDs). */
export function newId(): string {
  return randomUUID();
}

/** A pseudo-random generator with a seed, so generated data can be reproduced from a failure. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 0x1_0000_0000;
  };
}

/** A unit-length vector; never all zeros, so cosine similarity is always defined. */
export function randomUnitVector(dimensions: number, random: () => number = Math.random): number[] {
  for (;;) {
    const vector = Array.from({ length: dimensions }, () => random() * 2 - 1);
    const norm = Math.hypot(...vector);
    if (norm > 1e-3) return vector.map((value) => value / norm);
  }
}

/** A unit vector along one axis. */
export function axisVector(dimensions: number, axis: number, sign = 1): number[] {
  const vector = new Array<number>(dimensions).fill(0);
  vector[axis % dimensions] = sign;
  return vector;
}

/** Normalizes a vector to unit length. */
export function normalize(vector: number[]): number[] {
  const norm = Math.hypot(...vector);
  return vector.map((value) => value / norm);
}

/** Options of {@link makeRecord}. */
export interface RecordSeed extends Partial<Omit<VectorRecord, 'vector'>> {
  vector?: number[];
}

/** A complete record with sensible defaults for whatever the seed leaves out. */
export function makeRecord(dimensions: number, seed: RecordSeed = {}): VectorRecord {
  const now = new Date().toISOString();
  const { vector, ...rest } = seed;
  return {
    id: newId(),
    text: 'a memory',
    metadata: {},
    createdAt: now,
    updatedAt: now,
    ...rest,
    vector: vector ?? randomUnitVector(dimensions),
  };
}

/** Splits an array into chunks of at most `size` items. */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  const step = Math.max(1, Math.floor(size));
  for (let start = 0; start < items.length; start += step) {
    chunks.push(items.slice(start, start + step));
  }
  return chunks;
}

/** Upserts records in chunks of the store's `maxBatchSize`. */
export async function upsertAll(
  store: VectorStore,
  collection: string,
  records: readonly VectorRecord[],
): Promise<void> {
  for (const batch of chunk(records, store.capabilities.maxBatchSize)) {
    await store.upsert({ collection, records: batch });
  }
}

/** Follows `nextCursor` to the end and returns every record; fails on a runaway cursor. */
export async function listAll(
  store: VectorStore,
  options: { collection: string; scope?: Scope; filter?: FilterExpression; limit?: number },
): Promise<StoredRecord[]> {
  const limit = options.limit ?? 500;
  const records: StoredRecord[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 10_000; page++) {
    const result = await store.list({ ...options, limit, ...(cursor ? { cursor } : {}) });
    records.push(...result.records);
    if (!result.nextCursor) return records;
    if (result.records.length === 0) {
      throw new Error('list returned an empty page with a nextCursor: the cursor never advances.');
    }
    cursor = result.nextCursor;
  }
  throw new Error('list kept returning a nextCursor after 10,000 pages.');
}

/** Ids, sorted, for order-insensitive comparison. */
export function sortedIds(records: readonly { id: string }[]): string[] {
  return records.map((record) => record.id).sort();
}

/** Runs `action` and returns what it threw; fails when it did not throw. */
export async function caught(action: () => Promise<unknown>): Promise<unknown> {
  try {
    await action();
  } catch (error) {
    return error;
  }
  throw new Error('Expected the call to throw, but it succeeded.');
}
