// Not a real server: these tests inject a fake `send` that records the openCypher queries and
// parameters the store sends to Neptune's data API and answers with canned rows. No Neptune
// server can run here (it is a managed AWS service); see the README's conformance section.

import { type ExecuteOpenCypherQueryCommand, NeptunedataClient } from '@aws-sdk/client-neptunedata';
import {
  AdapterCallError,
  type GraphEntity,
  type GraphRelation,
  InvalidArgumentError,
  NotFoundError,
} from '@engram/core';
import {
  type CypherDialect,
  entityProperties as cypherEntityProperties,
  relationProperties as cypherRelationProperties,
} from '@engram/cypher-compatible';
import { describe, expect, it } from 'vitest';
import { isRetryableNeptuneError } from './neptune-errors.js';
import { createNeptuneGraphStore, type NeptuneQueryClient } from './neptune-graph-store.js';

const dialect: CypherDialect = { flavour: 'neptune', similarity: 'client' };
const entityProperties = (value: GraphEntity) => cypherEntityProperties(value, dialect);
const relationProperties = (value: GraphRelation) => cypherRelationProperties(value, dialect);

const time = '2024-05-01T00:00:00.000Z';

interface SentQuery {
  query: string;
  parameters: Record<string, unknown>;
}

/** A stand-in for NeptunedataClient (not a real server): records requests, answers canned rows. */
function fakeClient(answer: (sent: SentQuery) => unknown[] | Error = () => []) {
  const sent: SentQuery[] = [];
  const client: NeptuneQueryClient = {
    async send(command: ExecuteOpenCypherQueryCommand) {
      const request = {
        query: command.input.openCypherQuery ?? '',
        parameters: JSON.parse(command.input.parameters ?? '{}') as Record<string, unknown>,
      };
      sent.push(request);
      const result = answer(request);
      if (result instanceof Error) throw result;
      return { results: result };
    },
  };
  return { client, sent };
}

function entity(id: string, embedding: number[], fields: Partial<GraphEntity> = {}): GraphEntity {
  return {
    id,
    name: id,
    type: 'person',
    embedding,
    namespace: 'p_acme',
    userId: 'alice',
    mentions: 1,
    createdAt: time,
    updatedAt: time,
    ...fields,
  };
}

function relation(id: string, fields: Partial<GraphRelation> = {}): GraphRelation {
  return {
    id,
    sourceId: 'a',
    relationship: 'knows',
    destinationId: 'b',
    namespace: 'p_acme',
    userId: 'alice',
    mentions: 1,
    createdAt: time,
    updatedAt: time,
    invalidatedAt: null,
    ...fields,
  };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (error: unknown) => error,
  );
}

describe('neptune graph store against a fake client (not a real server)', () => {
  it('a real NeptunedataClient fits the client option', () => {
    const client: NeptuneQueryClient = new NeptunedataClient({
      endpoint: 'https://127.0.0.1:8182',
      region: 'us-east-1',
    });
    expect(typeof client.send).toBe('function');
  });

  it('upserts entities with every property set, embedding and metadata as JSON strings', async () => {
    const { client, sent } = fakeClient();
    const store = createNeptuneGraphStore({ client });
    await store.upsertEntities({
      entities: [entity('a', [0.5, 1], { metadata: { note: 'café' }, agentId: 'bot' })],
    });
    expect(sent).toHaveLength(1);
    expect(sent[0]!.query).toBe(
      'UNWIND $entities AS entity MERGE (n:EngramEntity {id: entity.id}) SET n.name = entity.name, ' +
        'n.type = entity.type, n.embedding = entity.embedding, n.namespace = entity.namespace, ' +
        'n.userId = entity.userId, ' +
        'n.agentId = entity.agentId, n.runId = entity.runId, n.mentions = entity.mentions, ' +
        'n.metadata = entity.metadata, n.createdAt = entity.createdAt, n.updatedAt = entity.updatedAt',
    );
    expect(sent[0]!.parameters).toEqual({
      entities: [
        {
          id: 'a',
          name: 'a',
          type: 'person',
          embedding: '[0.5,1]',
          namespace: 'p_acme',
          userId: 'alice',
          agentId: 'bot',
          runId: null,
          mentions: 1,
          metadata: '{"note":"café"}',
          createdAt: time,
          updatedAt: time,
        },
      ],
    });
  });

  it('splits large upserts into batches', async () => {
    const { client, sent } = fakeClient();
    const store = createNeptuneGraphStore({ client, batchSize: 2 });
    await store.upsertEntities({
      entities: ['a', 'b', 'c', 'd', 'e'].map((id) => entity(id, [1])),
    });
    expect(sent.map((request) => (request.parameters.entities as unknown[]).length)).toEqual([
      2, 2, 1,
    ]);
  });

  it('upserts relations: checks endpoints first, then replaces by id in one query', async () => {
    const { client, sent } = fakeClient();
    const store = createNeptuneGraphStore({ client });
    await store.upsertRelations({ relations: [relation('r1')] });
    expect(sent).toHaveLength(2);
    expect(sent[0]!.query).toMatch(/RETURN relation\.id AS missing$/);
    expect(sent[0]!.parameters).toEqual({
      relations: [{ id: 'r1', sourceId: 'a', destinationId: 'b' }],
    });
    expect(sent[1]!.query).toMatch(
      /^UNWIND \$relations AS relation OPTIONAL MATCH \(\)-\[old:RELATES \{id: relation\.id\}\]->\(\) DELETE old WITH DISTINCT relation/,
    );
    expect(sent[1]!.query).toMatch(
      /CREATE \(source\)-\[edge:RELATES \{id: relation\.id\}\]->\(destination\) SET edge\.relationship = relation\.relationship/,
    );
    expect(sent[1]!.parameters).toEqual({ relations: [relationProperties(relation('r1'))] });
    expect((sent[1]!.parameters.relations as Record<string, unknown>[])[0]!.invalidatedAt).toBe(
      null,
    );
  });

  it('refuses relations whose entities are missing, before writing anything', async () => {
    const { client, sent } = fakeClient((request) =>
      request.query.includes('AS missing') ? [{ missing: 'r1' }] : [],
    );
    const store = createNeptuneGraphStore({ client });
    const error = await rejection(store.upsertRelations({ relations: [relation('r1')] }));
    expect(NotFoundError.isInstance(error)).toBe(true);
    expect(sent).toHaveLength(1);
  });

  it('ranks the scope’s entities by exact cosine, threshold and topK applied here', async () => {
    const stored = [
      entity('far', [0, 1]),
      entity('near', [1, 0.1]),
      entity('same', [1, 0]),
      entity('other-length', [1, 0, 0]),
      entity('zero', [0, 0]),
    ];
    const { client, sent } = fakeClient(() =>
      stored.map((item) => ({ entity: entityProperties(item) })),
    );
    const store = createNeptuneGraphStore({ client });
    const found = await store.findSimilarEntities({
      namespace: 'p_acme',
      scope: { userId: 'alice', runId: 'r1' },
      embedding: [1, 0],
      topK: 2,
      threshold: 0.5,
    });
    expect(sent[0]!.query).toBe(
      'MATCH (n:EngramEntity) WHERE n.namespace = $namespace AND n.userId = $userId AND n.runId = $runId RETURN properties(n) AS entity',
    );
    expect(sent[0]!.parameters).toEqual({ namespace: 'p_acme', userId: 'alice', runId: 'r1' });
    expect(found.map((match) => match.entity.id)).toEqual(['same', 'near']);
    expect(found[0]!.score).toBe(1);
    expect(found[1]!.score).toBeCloseTo(1 / Math.hypot(1, 0.1), 12);
    expect(found[1]!.entity.embedding).toEqual([1, 0.1]);
  });

  it('reads nodes returned as maps with ~properties too', async () => {
    const { client } = fakeClient(() => [
      {
        entity: {
          '~id': 'x',
          '~labels': ['EngramEntity'],
          '~properties': entityProperties(entity('a', [1])),
        },
      },
    ]);
    const store = createNeptuneGraphStore({ client });
    const found = await store.findSimilarEntities({
      namespace: 'p_acme',
      scope: { userId: 'alice' },
      embedding: [1],
      topK: 1,
    });
    expect(found[0]!.entity).toEqual(entity('a', [1]));
  });

  it('lists a page of the scope with one extra row to detect the next page', async () => {
    const rows = ['r1', 'r2', 'r3'].map((id) => ({
      relation: relationProperties(relation(id)),
      source: entityProperties(entity('a', [1])),
      destination: entityProperties(entity('b', [1])),
    }));
    const { client, sent } = fakeClient(() => rows);
    const store = createNeptuneGraphStore({ client });
    const page = await store.list({ namespace: 'p_acme', scope: { userId: 'alice' }, limit: 2 });
    expect(sent[0]!.query).toMatch(
      /WHERE edge\.namespace = \$namespace AND edge\.userId = \$userId AND edge\.invalidatedAt IS NULL RETURN .* ORDER BY edge\.id ASC LIMIT \$limit$/,
    );
    expect(sent[0]!.parameters).toEqual({ namespace: 'p_acme', userId: 'alice', limit: 3 });
    expect(page.triples.map((triple) => triple.relation.id)).toEqual(['r1', 'r2']);
    expect(page.triples[0]!.relation.invalidatedAt).toBeNull();
    expect(page.nextCursor).toBeDefined();
    await store.list({
      namespace: 'p_acme',
      scope: { userId: 'alice' },
      limit: 2,
      cursor: page.nextCursor!,
      includeInvalidated: true,
    });
    expect(sent[1]!.query).toMatch(
      /WHERE edge\.namespace = \$namespace AND edge\.userId = \$userId AND edge\.id > \$after RETURN/,
    );
    expect(sent[1]!.parameters).toEqual({
      namespace: 'p_acme',
      userId: 'alice',
      after: 'r2',
      limit: 3,
    });
    const error = await rejection(
      store.list({ namespace: 'p_acme', scope: { userId: 'alice' }, limit: 2, cursor: '!' }),
    );
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
  });

  it('neighbours, invalidate, deleteScope and list filter by namespace and scope with parameters', async () => {
    const { client, sent } = fakeClient((request) =>
      request.query.includes('deleted') ? [{ deleted: 2 }] : [],
    );
    const store = createNeptuneGraphStore({ client });
    const hostile = "alice' OR 1=1 //";
    await store.neighbours({
      namespace: 'p_acme',
      scope: { userId: hostile },
      entityIds: ['a'],
      limit: 5,
    });
    await store.invalidateRelations({
      namespace: 'p_acme',
      scope: { userId: hostile },
      relationIds: ['r1'],
      at: time,
    });
    const { deleted } = await store.deleteScope({
      namespace: 'p_acme',
      scope: { userId: hostile, agentId: 'bot' },
    });
    expect(deleted).toBe(4);
    expect(sent.map((request) => request.query)).toEqual([
      expect.stringMatching(
        /WHERE edge\.namespace = \$namespace AND edge\.userId = \$userId AND edge\.invalidatedAt IS NULL AND \(source\.id IN \$entityIds OR destination\.id IN \$entityIds\)/,
      ),
      expect.stringMatching(
        /edge\.id IN \$relationIds AND edge\.namespace = \$namespace AND edge\.userId = \$userId AND edge\.invalidatedAt IS NULL SET edge\.invalidatedAt = \$at, edge\.updatedAt = \$at$/,
      ),
      expect.stringMatching(
        /^MATCH \(\)-\[edge:RELATES\]->\(\) WHERE edge\.namespace = \$namespace AND edge\.userId = \$userId AND edge\.agentId = \$agentId/,
      ),
      expect.stringMatching(
        /^MATCH \(n:EngramEntity\) WHERE n\.namespace = \$namespace AND n\.userId = \$userId AND n\.agentId = \$agentId .*DETACH DELETE doomed/,
      ),
    ]);
    for (const request of sent) expect(request.query).not.toContain(hostile);
    expect(sent[0]!.parameters).toEqual({
      namespace: 'p_acme',
      userId: hostile,
      entityIds: ['a'],
      limit: 5,
    });
    expect(sent[1]!.parameters).toEqual({
      namespace: 'p_acme',
      userId: hostile,
      relationIds: ['r1'],
      at: time,
    });
    expect(sent[2]!.parameters).toEqual({ namespace: 'p_acme', userId: hostile, agentId: 'bot' });
    sent.length = 0;
    await store.list({ namespace: hostile, scope: { userId: 'alice' }, limit: 1 });
    expect(sent[0]!.query).not.toContain(hostile);
    expect(sent[0]!.parameters).toMatchObject({ namespace: hostile, userId: 'alice' });
  });

  it('needs an endpoint, but only when first used', async () => {
    const store = createNeptuneGraphStore({ env: {} });
    const error = await rejection(
      store.list({ namespace: 'p_acme', scope: { userId: 'alice' }, limit: 1 }),
    );
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(/NEPTUNE_ENDPOINT/);
  });

  it('maps SDK errors to AdapterCallError, retryable for throttling and conflicts', async () => {
    const throttled = Object.assign(new Error('slow down'), {
      name: 'ThrottlingException',
      $metadata: { httpStatusCode: 429 },
    });
    const { client } = fakeClient(() => throttled);
    const store = createNeptuneGraphStore({ client });
    const error = await rejection(
      store.list({ namespace: 'p_acme', scope: { userId: 'alice' }, limit: 1 }),
    );
    expect(AdapterCallError.isInstance(error)).toBe(true);
    expect((error as AdapterCallError).isRetryable).toBe(true);
    expect((error as AdapterCallError).source).toBe('neptune');
    expect((error as Error).cause).toBe(throttled);
  });
});

describe('neptune errors', () => {
  it.each([
    [{ name: 'ConcurrentModificationException', $metadata: { httpStatusCode: 500 } }, true],
    [{ name: 'MalformedQueryException', $metadata: { httpStatusCode: 400 } }, false],
    [{ name: 'InternalFailureException' }, true],
    [{ $metadata: { httpStatusCode: 503 } }, true],
    [{ name: 'Error', code: 'ECONNREFUSED' }, true],
    [{ name: 'AccessDeniedException', $metadata: { httpStatusCode: 403 } }, false],
  ])('%o retryable: %s', (error, retryable) => {
    expect(isRetryableNeptuneError(error)).toBe(retryable);
  });
});
