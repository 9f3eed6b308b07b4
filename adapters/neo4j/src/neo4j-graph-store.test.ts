import { AdapterCallError } from '@engram/core';
import { describe, expect, it } from 'vitest';
import { toNeo4jError } from './neo4j-errors.js';
import { createNeo4jGraphStore } from './neo4j-graph-store.js';

// The store's logic is tested in @engram/cypher-compatible; these tests cover the driver wiring.
describe('createNeo4jGraphStore (no server)', () => {
  it('an unreachable server is a retryable AdapterCallError of neo4j', async () => {
    const store = createNeo4jGraphStore({
      url: 'bolt://127.0.0.1:1',
      driverConfig: { maxTransactionRetryTime: 0 },
    });
    expect(store.provider).toBe('neo4j');
    const error = await store
      .list({ namespace: 'memories', scope: { userId: 'u' }, limit: 1 })
      .catch((caught) => caught);
    expect(AdapterCallError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ isRetryable: true, source: 'neo4j', cause: expect.anything() });
    await store.close();
  }, 60_000);

  it('approximateSearchAbove turns the native vector index on', () => {
    expect(createNeo4jGraphStore().capabilities.nativeVectorIndex).toBe(false);
    expect(
      createNeo4jGraphStore({ approximateSearchAbove: 1000 }).capabilities.nativeVectorIndex,
    ).toBe(true);
    expect(() => createNeo4jGraphStore({ approximateSearchAbove: 0 })).toThrow(/positive integer/);
  });

  it('names neo4j in the errors it maps', () => {
    const error = toNeo4jError({ code: 'Neo.TransientError.Transaction.DeadlockDetected' }, 'list');
    expect(error.prefixedMessage).toMatch(/^\[engram\/neo4j\] list failed/);
    expect((error as AdapterCallError).isRetryable).toBe(true);
  });
});
