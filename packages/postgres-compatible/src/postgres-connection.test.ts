import { AdapterCallError } from '@engram/core';
import { describe, expect, it, vi } from 'vitest';
import {
  holdPool,
  onceSucceeded,
  type PostgresPool,
  type PostgresPoolClient,
  transaction,
  withPoolClient,
} from './postgres-connection.js';
import { qualifiedName, quoteIdentifier } from './postgres-identifiers.js';

function fakeClient(failing: string[] = []) {
  const statements: string[] = [];
  const client = {
    statements,
    query: vi.fn(async (text: string) => {
      statements.push(text);
      if (failing.includes(text)) throw Object.assign(new Error(text), { code: '42601' });
      return { rows: [] };
    }),
    release: vi.fn(),
  };
  return client satisfies PostgresPoolClient;
}

function fakePool(client: PostgresPoolClient) {
  return {
    query: vi.fn(async () => ({ rows: [] })),
    connect: vi.fn(async () => client),
    end: vi.fn(async () => {}),
    on: vi.fn(),
  } satisfies PostgresPool;
}

describe('holdPool', () => {
  it('creates the pool once on first use, listens to its errors and ends only that one', async () => {
    const created = fakePool(fakeClient());
    const create = vi.fn(() => created);
    const holder = holdPool({ source: 'test', create });
    expect(create).not.toHaveBeenCalled();
    expect(holder.get()).toBe(created);
    expect(holder.get()).toBe(created);
    expect(create).toHaveBeenCalledTimes(1);
    expect(created.on).toHaveBeenCalledWith('error', expect.any(Function));
    await holder.end();
    expect(created.end).toHaveBeenCalledTimes(1);

    const given = fakePool(fakeClient());
    const borrowed = holdPool({ source: 'test', pool: given, create });
    expect(borrowed.get()).toBe(given);
    await borrowed.end();
    expect(given.end).not.toHaveBeenCalled();
  });

  it('wraps a failure to end the pool', async () => {
    const failing = fakePool(fakeClient());
    failing.end.mockRejectedValueOnce(new Error('stuck'));
    const holder = holdPool({ source: 'test', create: () => failing });
    holder.get();
    await expect(holder.end()).rejects.toSatisfy(
      (error) => AdapterCallError.isInstance(error) && error.message === 'close failed: stuck',
    );
  });
});

describe('transactions', () => {
  it('commits, or rolls back and rethrows', async () => {
    const client = fakeClient();
    expect(await transaction(client, async () => 1, 'BEGIN READ ONLY')).toBe(1);
    await expect(
      transaction(client, async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(client.statements).toEqual(['BEGIN READ ONLY', 'COMMIT', 'BEGIN', 'ROLLBACK']);
  });

  it('gives a client back, and destroys one whose connection failed or could not roll back', async () => {
    const healthy = fakeClient(['SELECT bad']);
    await expect(
      withPoolClient(fakePool(healthy), (client) => client.query('SELECT bad')),
    ).rejects.toThrow();
    expect(healthy.release).toHaveBeenLastCalledWith(false);

    const dropped = fakeClient();
    await expect(
      withPoolClient(fakePool(dropped), async () => {
        throw new Error('Connection terminated unexpectedly');
      }),
    ).rejects.toThrow();
    expect(dropped.release).toHaveBeenLastCalledWith(true);

    const stuck = fakeClient(['ROLLBACK', 'SELECT bad']);
    await expect(
      withPoolClient(fakePool(stuck), (client) =>
        transaction(client, () => client.query('SELECT bad')),
      ),
    ).rejects.toThrow('SELECT bad');
    expect(stuck.release).toHaveBeenLastCalledWith(true);
  });
});

describe('onceSucceeded', () => {
  it('shares a success and retries after a failure', async () => {
    let calls = 0;
    const ready = onceSucceeded(async () => {
      calls++;
      if (calls === 1) throw new Error('not yet');
      return calls;
    });
    await expect(ready()).rejects.toThrow('not yet');
    expect(await Promise.all([ready(), ready()])).toEqual([2, 2]);
    expect(calls).toBe(2);
  });
});

describe('identifiers', () => {
  it('quotes names literally', () => {
    expect(quoteIdentifier('a"b')).toBe('"a""b"');
    expect(qualifiedName('public', 'engram_history')).toBe('"public"."engram_history"');
  });
});
