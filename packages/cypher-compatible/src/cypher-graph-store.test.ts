import {
  AbortedError,
  AdapterCallError,
  ClosedError,
  type GraphEntity,
  type GraphRelation,
  InvalidArgumentError,
  NotFoundError,
} from '@engram/core';
import { describe, expect, it } from 'vitest';
import type { CypherDialect } from './cypher-dialect.js';
import {
  type CypherConnection,
  type CypherGraphStoreOptions,
  createCypherGraphStore,
} from './cypher-graph-store.js';
import { type CypherRow, entityProperties, relationProperties } from './cypher-records.js';
import type { CypherStatement } from './cypher-statements.js';

const time = '2024-05-01T00:00:00.000Z';
const bolt: CypherDialect = { flavour: 'bolt', similarity: 'vector-function' };

interface Transaction {
  mode: 'read' | 'write';
  statements: CypherStatement[];
  abortSignal?: AbortSignal;
}

/** A stand-in connection (no server): records transactions, answers canned rows. */
function fakeStore(
  answer: (statement: CypherStatement) => CypherRow[] | Error = () => [],
  options: Partial<CypherGraphStoreOptions> = {},
) {
  const transactions: Transaction[] = [];
  const connection: CypherConnection = {
    async transaction(mode, work, abortSignal) {
      const transaction: Transaction = {
        mode,
        statements: [],
        ...(abortSignal && { abortSignal }),
      };
      transactions.push(transaction);
      return work(async (statement) => {
        transaction.statements.push(statement);
        const rows = answer(statement);
        if (rows instanceof Error) throw rows;
        return rows;
      });
    },
  };
  const store = createCypherGraphStore({ provider: 'test', dialect: bolt, connection, ...options });
  return { store, transactions };
}

function entity(id: string, embedding: number[]): GraphEntity {
  return {
    id,
    name: id,
    type: 't',
    embedding,
    namespace: 'p_a',
    userId: 'u',
    mentions: 1,
    createdAt: time,
    updatedAt: time,
  };
}

function relation(id: string): GraphRelation {
  const fields = {
    sourceId: 'a',
    relationship: 'knows',
    destinationId: 'b',
    namespace: 'p_a',
    userId: 'u',
  };
  return { id, ...fields, mentions: 1, createdAt: time, updatedAt: time, invalidatedAt: null };
}

function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (error: unknown) => error,
  );
}

describe('createCypherGraphStore against a fake connection', () => {
  it('refuses an empty scope or namespace and bad sizes before any statement', async () => {
    const { store, transactions } = fakeStore();
    for (const call of [
      store.deleteScope({ namespace: 'p_a', scope: {} }),
      store.deleteScope({ namespace: '', scope: { userId: 'u' } }),
      store.list({ namespace: ' ', scope: { userId: 'u' }, limit: 1 }),
      store.upsertEntities({ entities: [{ ...entity('a', [1]), namespace: '' }] }),
      store.upsertRelations({ relations: [{ ...relation('r1'), namespace: '' }] }),
      store.list({ namespace: 'p_a', scope: { userId: 'u' }, limit: 0 }),
      store.findSimilarEntities({
        namespace: 'p_a',
        scope: { userId: 'u' },
        embedding: [1],
        topK: 1.5,
      }),
      store.ensureSchema({ dimensions: -1 }),
      store.upsertEntities({ entities: [entity('a', [Number.NaN])] }),
    ]) {
      expect(InvalidArgumentError.isInstance(await rejection(call))).toBe(true);
    }
    expect(transactions).toHaveLength(0);
    expect(() => fakeStore(undefined, { approximateSearchAbove: 0 })).toThrow(/positive integer/);
  });

  it('closes once, then every call throws ClosedError; an aborted signal throws AbortedError', async () => {
    let closes = 0;
    const { store, transactions } = fakeStore(undefined, { onClose: () => void closes++ });
    const controller = new AbortController();
    controller.abort();
    const aborted = await rejection(
      store.list({
        namespace: 'p_a',
        scope: { userId: 'u' },
        limit: 1,
        abortSignal: controller.signal,
      }),
    );
    expect(AbortedError.isInstance(aborted)).toBe(true);
    await store.close();
    await store[Symbol.asyncDispose]();
    expect(closes).toBe(1);
    const closed = await rejection(
      store.list({ namespace: 'p_a', scope: { userId: 'u' }, limit: 1 }),
    );
    expect(ClosedError.isInstance(closed)).toBe(true);
    expect(transactions).toHaveLength(0);
  });

  it('maps what the connection throws, naming the call', async () => {
    const { store } = fakeStore(() => new Error('boom'));
    const error = await rejection(
      store.list({ namespace: 'p_a', scope: { userId: 'u' }, limit: 1 }),
    );
    expect(AdapterCallError.isInstance(error)).toBe(true);
    expect((error as AdapterCallError).prefixedMessage).toBe('[engram/test] list failed: boom');
  });

  it('ensureSchema runs the schema, then gives legacy nodes and edges the default namespace', async () => {
    const schema: number[] = [];
    const { store, transactions } = fakeStore(undefined, {
      ensureSchema: async ({ dimensions }) => void schema.push(dimensions),
    });
    await store.ensureSchema({ dimensions: 3 });
    expect(schema).toEqual([3]);
    expect(transactions).toHaveLength(1);
    expect(transactions[0]!.mode).toBe('write');
    expect(transactions[0]!.statements.map((statement) => statement.parameters)).toEqual([
      { namespace: 'memories' },
      { namespace: 'memories' },
    ]);
    expect(transactions[0]!.statements.map((statement) => statement.text).join(' ')).toMatch(
      /n\.namespace IS NULL SET n\.namespace = \$namespace.*edge\.namespace IS NULL SET edge\.namespace = \$namespace/,
    );
  });

  it('writes entities in one transaction, in batches, and nothing for an empty list', async () => {
    const { store, transactions } = fakeStore(undefined, { batchSize: 2 });
    await store.upsertEntities({ entities: [] });
    await store.upsertEntities({ entities: ['a', 'b', 'c'].map((id) => entity(id, [1])) });
    expect(transactions).toHaveLength(1);
    expect(transactions[0]!.mode).toBe('write');
    expect(
      transactions[0]!.statements.map((statement) => (statement.parameters.entities as []).length),
    ).toEqual([2, 1]);
  });

  it('writes relations after checking their endpoints, all in one transaction', async () => {
    const controller = new AbortController();
    const { store, transactions } = fakeStore();
    await store.upsertRelations({ relations: [relation('r1')], abortSignal: controller.signal });
    expect(transactions).toHaveLength(1);
    expect(transactions[0]!.abortSignal).toBe(controller.signal);
    const [missing, remove, create] = transactions[0]!.statements;
    expect(missing!.text).toMatch(/AS missing$/);
    expect(remove!.parameters).toEqual({ ids: ['r1'] });
    expect(create!.parameters).toEqual({ relations: [relationProperties(relation('r1'), bolt)] });
  });

  it('refuses relations whose entities are missing, inside the transaction, before writing', async () => {
    const { store, transactions } = fakeStore((statement) =>
      statement.text.includes('AS missing') ? [{ missing: 'r1' }] : [],
    );
    const error = await rejection(store.upsertRelations({ relations: [relation('r1')] }));
    expect(NotFoundError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(/Relations r1 name entities that do not exist/);
    expect(transactions[0]!.statements).toHaveLength(1);
  });

  it('searches exactly up to approximateSearchAbove, through the index above it', async () => {
    let size = 3;
    const found = [{ entity: entityProperties(entity('a', [1]), bolt), score: 0.5 }];
    const { store, transactions } = fakeStore(
      (statement) => (statement.text.includes('count(n)') ? [{ count: size }] : found),
      { approximateSearchAbove: 3 },
    );
    expect(store.capabilities.nativeVectorIndex).toBe(true);
    const query = { namespace: 'p_a', scope: { userId: 'u' }, embedding: [1], topK: 1 };
    expect(await store.findSimilarEntities(query)).toEqual([
      { entity: entity('a', [1]), score: 0.5 },
    ]);
    size = 4;
    await store.findSimilarEntities(query);
    // Too few matches from the index: the scope is scanned instead.
    await store.findSimilarEntities({ ...query, topK: 2 });
    await store.findSimilarEntities({ ...query, topK: 2, threshold: 0.1 });
    const kinds = transactions.map(({ statements: [statement] }) =>
      statement!.text.includes('count(n)')
        ? 'count'
        : statement!.text.startsWith('CALL db.index')
          ? 'index'
          : 'exact',
    );
    expect(kinds).toEqual([
      'count',
      'exact',
      'count',
      'index',
      'count',
      'index',
      'exact',
      'count',
      'index',
    ]);
  });

  it('ranks the scope’s entities itself with the client similarity', async () => {
    const stored = [entity('far', [0, 1]), entity('same', [1, 0]), entity('long', [1, 0, 0])];
    const { store } = fakeStore(
      () => stored.map((item) => ({ entity: entityProperties(item, bolt) })),
      {
        dialect: { flavour: 'bolt', similarity: 'client' },
      },
    );
    const found = await store.findSimilarEntities({
      namespace: 'p_a',
      scope: { userId: 'u' },
      embedding: [1, 0],
      topK: 5,
      threshold: -1,
    });
    expect(found.map((match) => [match.entity.id, match.score])).toEqual([
      ['same', 1],
      ['far', 0],
    ]);
  });

  it('pages with a cursor, and counts what deleteScope removed', async () => {
    const triple = (id: string) => ({
      relation: relationProperties(relation(id), bolt),
      source: entityProperties(entity('a', [1]), bolt),
      destination: entityProperties(entity('b', [1]), bolt),
    });
    const { store, transactions } = fakeStore((statement) =>
      statement.text.includes('deleted') ? [{ deleted: 2 }] : ['r1', 'r2', 'r3'].map(triple),
    );
    const page = await store.list({ namespace: 'p_a', scope: { userId: 'u' }, limit: 2 });
    expect(page.triples.map((item) => item.relation.id)).toEqual(['r1', 'r2']);
    await store.list({
      namespace: 'p_a',
      scope: { userId: 'u' },
      limit: 2,
      cursor: page.nextCursor!,
    });
    expect(transactions[1]!.statements[0]!.parameters).toEqual({
      namespace: 'p_a',
      userId: 'u',
      after: 'r2',
      limit: 3,
    });
    expect(await store.deleteScope({ namespace: 'p_a', scope: { userId: 'u' } })).toEqual({
      deleted: 4,
    });
    expect(transactions[2]!.mode).toBe('write');
    expect(
      await store.neighbours({ namespace: 'p_a', scope: { userId: 'u' }, entityIds: [], limit: 1 }),
    ).toEqual([]);
    await store.invalidateRelations({
      namespace: 'p_a',
      scope: { userId: 'u' },
      relationIds: [],
      at: time,
    });
    expect(transactions).toHaveLength(3);
  });
});
