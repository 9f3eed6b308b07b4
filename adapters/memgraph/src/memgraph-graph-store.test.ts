import { AdapterCallError, ClosedError, InvalidArgumentError } from '@engram/core';
import { describe, expect, it } from 'vitest';
import { isRetryableMemgraphError, toMemgraphError } from './memgraph-errors.js';
import { createMemgraphGraphStore } from './memgraph-graph-store.js';
import { entityFromProperties, entityProperties, relationProperties } from './memgraph-records.js';

const time = '2024-05-01T00:00:00.000Z';

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (error: unknown) => error,
  );
}

describe('createMemgraphGraphStore (no server)', () => {
  it('does no I/O in the factory and refuses an empty scope before connecting', async () => {
    const store = createMemgraphGraphStore({ url: 'bolt://127.0.0.1:1' });
    expect(store.provider).toBe('memgraph');
    expect(store.capabilities.nativeVectorIndex).toBe(false);
    const error = await rejection(store.deleteScope({ scope: {} }));
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    await store.close();
  });

  it('close is idempotent, then every call throws ClosedError', async () => {
    const store = createMemgraphGraphStore({ url: 'bolt://127.0.0.1:1' });
    await store.close();
    await store[Symbol.asyncDispose]();
    const error = await rejection(store.list({ scope: { userId: 'u' }, limit: 1 }));
    expect(ClosedError.isInstance(error)).toBe(true);
  });

  it('an unreachable server is a retryable AdapterCallError', async () => {
    const store = createMemgraphGraphStore({
      url: 'bolt://127.0.0.1:1',
      driverConfig: { maxTransactionRetryTime: 0 },
    });
    const error = await rejection(store.list({ scope: { userId: 'u' }, limit: 1 }));
    expect(AdapterCallError.isInstance(error)).toBe(true);
    expect((error as AdapterCallError).isRetryable).toBe(true);
    expect((error as AdapterCallError).source).toBe('memgraph');
    expect((error as Error).cause).toBeDefined();
    await store.close();
  }, 60_000);
});

describe('memgraph errors', () => {
  it.each([
    [{ code: 'ServiceUnavailable' }, true],
    [{ code: 'SessionExpired' }, true],
    [{ code: 'Memgraph.TransientError.MemgraphError.MemgraphError' }, true],
    [{ code: 'Memgraph.ClientError.MemgraphError.MemgraphError' }, false],
    [{ cause: { code: 'ECONNREFUSED' } }, true],
    [new Error('plain'), false],
  ])('%o retryable: %s', (error, retryable) => {
    expect(isRetryableMemgraphError(error)).toBe(retryable);
    const mapped = toMemgraphError(error, 'list');
    expect(AdapterCallError.isInstance(mapped)).toBe(true);
    expect(mapped.prefixedMessage).toMatch(/^\[engram\/memgraph\] list failed/);
  });
});

describe('memgraph records', () => {
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
