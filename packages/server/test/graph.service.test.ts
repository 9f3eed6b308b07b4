import { type FakeOpenAIServer, startFakeOpenAI } from '@engram/fake-openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGraphChat, graphServerEnvironment, type RelationsByMessage } from './graph-chat.js';
import {
  createKey,
  type EngramServer,
  startEngramServer,
  temporaryDataDir,
} from './service-harness.js';

// What each message says, as graph extraction answers it. Both projects have a user "alice".
const relationsByMessage: RelationsByMessage = {
  'I work at Acme': [['alice', 'works_at', 'acme']],
  'I live in Oslo': [['alice', 'lives_in', 'oslo']],
  'I moved to Bergen': [['alice', 'lives_in', 'bergen']],
  'I work at Globex': [['alice', 'works_at', 'globex']],
};

type Relation = { source: string; relationship: string; destination: string };

const described = (relations: Relation[] | undefined) =>
  (relations ?? []).map((r) => `${r.source} ${r.relationship} ${r.destination}`).sort();

let fake: FakeOpenAIServer;
let server: EngramServer;
let dataDir: { path: string; dispose(): Promise<void> };
let keys: { alpha: string; beta: string };

beforeAll(async () => {
  // A new "lives_in" outdates the ones the model is shown; nothing else is outdated.
  const chat = createGraphChat(
    relationsByMessage,
    (existing, added) => added.includes('lives_in') && existing.includes('lives_in'),
  );
  fake = await startFakeOpenAI({ chat });
  dataDir = await temporaryDataDir();
  keys = {
    alpha: createKey(dataDir.path, 'alpha').key,
    beta: createKey(dataDir.path, 'beta').key,
  };
  server = await startEngramServer(dataDir.path, {
    env: graphServerEnvironment(fake.url),
  });
}, 60_000);

afterAll(async () => {
  await server?.stop();
  await fake?.close();
  await dataDir?.dispose();
});

async function add(key: string, messages: string) {
  const answer = await server.request('/v1/memories', {
    method: 'POST',
    key,
    body: { messages, userId: 'alice' },
  });
  expect(answer.status, answer.text).toBe(200);
  return answer.body as {
    results: unknown[];
    relations?: { added: Relation[]; invalidated: Relation[] };
    warnings?: string[];
  };
}

async function listRelations(key: string) {
  const answer = await server.request('/v1/memories?userId=alice', { key });
  expect(answer.status, answer.text).toBe(200);
  return described((answer.body as { relations?: Relation[] }).relations);
}

async function searchRelations(key: string, query: string) {
  const answer = await server.request('/v1/search', {
    method: 'POST',
    key,
    body: { query, userId: 'alice' },
  });
  expect(answer.status, answer.text).toBe(200);
  return described((answer.body as { relations?: Relation[] }).relations);
}

describe('engram serve with graph memory (ENGRAM_GRAPH=kuzu): projects never share a graph', () => {
  it('two projects with a user "alice" each see, search and delete only their own relations', async () => {
    const first = await add(keys.alpha, 'I work at Acme');
    expect(first.warnings ?? []).toEqual([]);
    expect(described(first.relations?.added)).toEqual(['alice works_at acme']);
    await add(keys.alpha, 'I live in Oslo');

    // Soft assertions: a leak shows in every read it affects, not just the first.
    // Beta's move must not invalidate alpha's "lives in Oslo": beta never saw it.
    const moved = await add(keys.beta, 'I moved to Bergen');
    expect(moved.warnings ?? []).toEqual([]);
    expect.soft(moved.relations).toEqual({
      added: [expect.objectContaining({ relationship: 'lives_in', destination: 'bergen' })],
      invalidated: [],
    });
    await add(keys.beta, 'I work at Globex');

    expect
      .soft(await listRelations(keys.alpha))
      .toEqual(['alice lives_in oslo', 'alice works_at acme']);
    expect
      .soft(await listRelations(keys.beta))
      .toEqual(['alice lives_in bergen', 'alice works_at globex']);
    expect
      .soft(await searchRelations(keys.beta, 'where does alice work and live'))
      .toEqual(['alice lives_in bergen', 'alice works_at globex']);

    const deleted = await server.request('/v1/memories?userId=alice', {
      method: 'DELETE',
      key: keys.beta,
    });
    expect(deleted.status, deleted.text).toBe(200);
    expect.soft(await listRelations(keys.beta)).toEqual([]);
    expect.soft(await searchRelations(keys.beta, 'where does alice work')).toEqual([]);

    expect
      .soft(await listRelations(keys.alpha))
      .toEqual(['alice lives_in oslo', 'alice works_at acme']);
    expect
      .soft(await searchRelations(keys.alpha, 'where does alice work and live'))
      .toEqual(['alice lives_in oslo', 'alice works_at acme']);
  }, 120_000);

  it('documents relations in the OpenAPI spec of add, list and search', async () => {
    const answer = await server.request('/openapi.json');
    expect(answer.status).toBe(200);
    const schemas = (answer.body as { components: { schemas: Record<string, unknown> } }).components
      .schemas as Record<string, { properties?: Record<string, unknown> }>;
    expect(schemas.SearchResponse?.properties).toHaveProperty('relations');
    expect(schemas.MemoryPage?.properties).toHaveProperty('relations');
    expect(schemas.AddResult?.properties).toHaveProperty('relations');
    expect(schemas.Relation?.properties).toHaveProperty('relationship');
  });
});
