import { AdapterCallError, ClosedError, InvalidArgumentError } from '@engram/core';
import { describe, expect, it } from 'vitest';
import { isRetryableNeo4jError, toNeo4jError } from './neo4j-errors.js';
import { createNeo4jGraphStore } from './neo4j-graph-store.js';
import { entityFromProperties, entityProperties, relationProperties } from './neo4j-records.js';

const time = '2024-05-01T00:00:00.000Z';

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (error: unknown) => error,
  );
}

describe('createNeo4jGraphStore (no server)', () => {
  it('does no I/O in the factory and refuses an empty scope before connecting', async () => {
    const store = createNeo4jGraphStore({ url: 'bolt://127.0.0.1:1' });
    expect(store.provider).toBe('neo4j');
    expect(store.capabilities.nativeVectorIndex).toBe(false);
    const error = await rejection(store.deleteScope({ scope: {} }));
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    await store.close();
  });

  it('close is idempotent, then every call throws ClosedError', async () => {
    const store = createNeo4jGraphStore({ url: 'bolt://127.0.0.1:1' });
    await store.close();
    await store[Symbol.asyncDispose]();
    const error = await rejection(store.list({ scope: { userId: 'u' }, limit: 1 }));
    expect(ClosedError.isInstance(error)).toBe(true);
  });

  it('an unreachable server is a retryable AdapterCallError', async () => {
    const store = createNeo4jGraphStore({
      url: 'bolt://127.0.0.1:1',
      driverConfig: { maxTransactionRetryTime: 0 },
    });
    const error = await rejection(store.list({ scope: { userId: 'u' }, limit: 1 }));
    expect(AdapterCallError.isInstance(error)).toBe(true);
    expect((error as AdapterCallError).isRetryable).toBe(true);
    expect((error as AdapterCallError).source).toBe('neo4j');
    expect((error as Error).cause).toBeDefined();
    await store.close();
  }, 60_000);

  it('approximateSearchAbove turns the native vector index on', () => {
    expect(
      createNeo4jGraphStore({ approximateSearchAbove: 1000 }).capabilities.nativeVectorIndex,
    ).toBe(true);
    expect(() => createNeo4jGraphStore({ approximateSearchAbove: 0 })).toThrow(/positive integer/);
  });
});

describe('neo4j errors', () => {
  it.each([
    [{ code: 'ServiceUnavailable' }, true],
    [{ code: 'SessionExpired' }, true],
    [{ code: 'Neo.TransientError.Transaction.DeadlockDetected' }, true],
    [{ code: 'Neo.ClientError.Statement.SyntaxError' }, false],
    [{ code: 'Neo.ClientError.Schema.ConstraintValidationFailed' }, false],
    [{ cause: { code: 'ECONNREFUSED' } }, true],
    [new Error('plain'), false],
  ])('%o retryable: %s', (error, retryable) => {
    expect(isRetryableNeo4jError(error)).toBe(retryable);
    const mapped = toNeo4jError(error, 'list');
    expect(AdapterCallError.isInstance(mapped)).toBe(true);
    expect(mapped.prefixedMessage).toMatch(/^\[engram\/neo4j\] list failed/);
  });
});

describe('neo4j records', () => {
  it('writes scope fields only when set and metadata as JSON, and reads them back', () => {
    const entity = {
      id: 'e1',
      name: 'alice',
      type: 'person',
      embedding: [0.5, -1],
      userId: 'u',
      mentions: 2,
      metadata: { note: 'café ✓', nested: { list: [1, null] } },
      createdAt: time,
      updatedAt: time,
    };
    const properties = entityProperties(entity);
    expect(properties).not.toHaveProperty('agentId');
    expect(properties.metadata).toBe(JSON.stringify(entity.metadata));
    expect(entityFromProperties(properties)).toEqual(entity);
  });

  it('leaves invalidatedAt out while a relation is valid', () => {
    const relation = {
      id: 'r1',
      sourceId: 's',
      relationship: 'knows',
      destinationId: 'd',
      runId: 'r',
      mentions: 1,
      createdAt: time,
      updatedAt: time,
      invalidatedAt: null,
    };
    expect(relationProperties(relation)).not.toHaveProperty('invalidatedAt');
    expect(relationProperties({ ...relation, invalidatedAt: time }).invalidatedAt).toBe(time);
  });

  it('refuses an embedding with non-finite values', () => {
    expect(() =>
      entityProperties({
        id: 'e',
        name: 'n',
        type: 't',
        embedding: [Number.NaN],
        mentions: 1,
        createdAt: time,
        updatedAt: time,
      }),
    ).toThrow(/finite/);
  });
});
