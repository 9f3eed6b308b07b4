import { AdapterCallError } from '@engram/core';
import type { Driver } from 'neo4j-driver';
import { describe, expect, it } from 'vitest';
import { toMemgraphError } from './memgraph-errors.js';
import { createMemgraphGraphStore } from './memgraph-graph-store.js';

/**
 * A stand-in driver (not a server) whose schema statements fail with the given message; other
 * statements, run in write transactions, answer no rows.
 */
function failingDriver(message: string) {
  const texts: string[] = [];
  const written: string[] = [];
  const run = async (text: string) => {
    texts.push(text);
    throw Object.assign(new Error(message), { code: 'Memgraph.ClientError.MemgraphError' });
  };
  const executeWrite = (work: (transaction: unknown) => Promise<unknown>) =>
    work({
      run: async (text: string) => {
        written.push(text);
        return { records: [] };
      },
    });
  const session = () => ({ run, executeWrite, close: async () => {} });
  return { driver: { session, close: async () => {} } as unknown as Driver, texts, written };
}

// The store's logic is tested in @engram/cypher-compatible; these tests cover the driver wiring.
describe('createMemgraphGraphStore (no server)', () => {
  it('an unreachable server (named in MEMGRAPH_URL) is a retryable AdapterCallError', async () => {
    const env = { MEMGRAPH_URL: 'bolt://127.0.0.1:1' };
    const store = createMemgraphGraphStore({ env, driverConfig: { maxTransactionRetryTime: 0 } });
    expect([store.provider, store.capabilities.nativeVectorIndex]).toEqual(['memgraph', false]);
    await expect(
      store.list({ namespace: 'memories', scope: { userId: 'u' }, limit: 1 }),
    ).rejects.toSatisfy(
      (error: AdapterCallError) =>
        AdapterCallError.isInstance(error) &&
        error.isRetryable &&
        error.source === 'memgraph' &&
        error.cause !== undefined,
    );
    await store.close();
  }, 60_000);

  it('ensureSchema runs every statement outside transactions and tolerates existing ones', async () => {
    const existing = failingDriver('Index already exists.');
    await createMemgraphGraphStore({ driver: existing.driver }).ensureSchema({ dimensions: 8 });
    expect(existing.texts).toHaveLength(6);
    // Then nodes and edges stored before namespaces get the default collection's.
    expect(existing.written).toEqual([
      expect.stringMatching(/n\.namespace IS NULL SET n\.namespace = \$namespace/),
      expect.stringMatching(/edge\.namespace IS NULL SET edge\.namespace = \$namespace/),
    ]);
    const broken = failingDriver('permission denied');
    const error = await createMemgraphGraphStore({ driver: broken.driver })
      .ensureSchema({ dimensions: 8 })
      .catch((caught) => caught);
    expect((error as Error).message).toBe(
      'ensureSchema failed (Memgraph.ClientError.MemgraphError): permission denied',
    );
  });

  it('names memgraph in the errors it maps', () => {
    const error = toMemgraphError({ code: 'Memgraph.TransientError.MemgraphError' }, 'list');
    expect(error.prefixedMessage).toMatch(/^\[engram\/memgraph\] list failed/);
    expect((error as AdapterCallError).isRetryable).toBe(true);
  });
});
