import { describe, expect, it } from 'vitest';
import { createMemoryFromEnvironment } from './create-memory-from-environment.js';
import { InvalidArgumentError } from './errors.js';
import { GraphMemory } from './graph-memory.js';
import { createHashEmbedder } from './hash-embedder.js';
import { createInMemoryGraphStore } from './in-memory-graph-store.js';
import { createInMemoryStore } from './in-memory-vector-store.js';
import type { LLMGenerateOptions } from './llm.js';
import { Memory } from './memory.js';
import {
  createScriptedLLM,
  extractionInput,
  isExtractionRequest,
  isGraphExtractionRequest,
  isGraphInvalidationRequest,
} from './testing/index.js';

type Triple = [string, string, string];

/** Answers graph extraction from a table keyed by the user's message; facts are left empty. */
function graphModel(
  table: Record<string, Triple[]>,
  invalidate: (existing: string[], added: string[]) => string[],
) {
  return createScriptedLLM({
    fallback: (options: LLMGenerateOptions) => {
      if (isExtractionRequest(options)) return { facts: [] };
      if (isGraphExtractionRequest(options)) {
        const message = extractionInput(options).replace(/^user: /, '');
        const triples = table[message] ?? [];
        return {
          entities: [],
          relations: triples.map(([source, relationship, destination]) => ({
            source,
            relationship,
            destination,
          })),
        };
      }
      if (isGraphInvalidationRequest(options)) {
        const content = options.messages.at(-1)!.content;
        const match = /^Existing relations:\n([\s\S]*?)\n\nNew relations:\n([\s\S]*)$/.exec(
          content,
        )!;
        const existing = JSON.parse(match[1]!) as { id: string; relation: string }[];
        const added = JSON.parse(match[2]!) as string[];
        const chosen = invalidate(
          existing.map((entry) => entry.relation),
          added,
        );
        return {
          invalidate: existing
            .filter((entry) => chosen.includes(entry.relation))
            .map((entry) => entry.id),
        };
      }
      throw new Error('unexpected request');
    },
  });
}

describe('graph memory', () => {
  it('merges entities, invalidates contradicted relations, counts mentions, and keeps users apart', async () => {
    const graphStore = createInMemoryGraphStore();
    const llm = graphModel(
      {
        'I work at Acme and live in Oslo': [
          ['alice', 'works_at', 'Acme'],
          ['alice', 'lives_in', 'Oslo'],
        ],
        'I moved to Bergen': [['Alice', 'lives_in', 'bergen']],
        'Alice Smith still works at ACME': [['alice smith', 'Works At', 'acme']],
        'I work at Acme too': [['bob', 'works_at', 'acme']],
      },
      (existing, added) =>
        existing.filter((relation) =>
          added.some(
            (newRelation) =>
              newRelation.split(' ')[1] === 'lives_in' && relation.includes('lives_in'),
          ),
        ),
    );
    const memory = new Memory({
      vectorStore: createInMemoryStore(),
      graphStore,
      collection: 'memories',
      graphThreshold: 0.6,
      llm,
      embedder: createHashEmbedder(),
    });

    const first = await memory.add('I work at Acme and live in Oslo', { userId: 'alice' });
    expect(first.relations?.added.map((relation) => relation.relationship).sort()).toEqual([
      'lives_in',
      'works_at',
    ]);

    const moved = await memory.add('I moved to Bergen', { userId: 'alice' });
    expect(moved.relations?.invalidated).toMatchObject([
      { source: 'alice', relationship: 'lives_in', destination: 'oslo' },
    ]);
    expect(moved.relations?.added).toMatchObject([
      { source: 'alice', relationship: 'lives_in', destination: 'bergen' },
    ]);

    const again = await memory.add('Alice Smith still works at ACME', { userId: 'alice' });
    expect(again.relations?.added).toEqual([]);

    await memory.add('I work at Acme too', { userId: 'bob' });

    const aliceRelations = (await memory.list({ userId: 'alice' })).relations!;
    expect(
      aliceRelations.map((r) => `${r.source} ${r.relationship} ${r.destination}`).sort(),
    ).toEqual(['alice lives_in bergen', 'alice works_at acme']);
    const all = await graphStore.list({
      namespace: 'memories',
      scope: { userId: 'alice' },
      limit: 100,
      includeInvalidated: true,
    });
    const worksAt = all.triples.find((triple) => triple.relation.relationship === 'works_at')!;
    expect(worksAt.relation.mentions).toBe(2);
    expect(worksAt.source.mentions).toBeGreaterThanOrEqual(2);
    expect(
      all.triples.find((triple) => triple.destination.name === 'oslo')!.relation.invalidatedAt,
    ).not.toBeNull();

    const view = await memory.graph({ userId: 'alice', includeInvalidated: true });
    expect(
      view!
        .map(
          (r) => `${r.source} ${r.relationship} ${r.destination} ${r.invalidatedAt ? 'x' : 'ok'}`,
        )
        .sort(),
    ).toEqual(['alice lives_in bergen ok', 'alice lives_in oslo x', 'alice works_at acme ok']);
    expect(view!.find((r) => r.relationship === 'works_at')).toMatchObject({ mentions: 2 });
    expect(await memory.graph({ userId: 'alice' })).toHaveLength(2);
    expect(
      await new Memory({
        vectorStore: createInMemoryStore(),
        embedder: createHashEmbedder(),
      }).graph({ userId: 'alice' }),
    ).toBeNull();

    const bobRelations = (await memory.list({ userId: 'bob' })).relations!;
    expect(bobRelations.map((r) => `${r.source} ${r.relationship} ${r.destination}`)).toEqual([
      'bob works_at acme',
    ]);

    const search = await memory.search('where does alice live?', { userId: 'alice' });
    expect(search.relations?.[0]).toMatchObject({
      relationship: 'lives_in',
      destination: 'bergen',
    });
    expect(search.relations?.every((relation) => relation.source !== 'bob')).toBe(true);

    await memory.deleteAll({ userId: 'alice' });
    expect((await memory.list({ userId: 'alice' })).relations).toEqual([]);
    expect((await memory.list({ userId: 'bob' })).relations).toHaveLength(1);
  });

  it('keeps collections apart in one graph store, even for the same user', async () => {
    const graphStore = createInMemoryGraphStore();
    const vectorStore = createInMemoryStore();
    const llm = graphModel(
      {
        'I work at Acme': [['alice', 'works_at', 'acme']],
        'I live in Oslo': [['alice', 'lives_in', 'oslo']],
        'I moved to Bergen': [['alice', 'lives_in', 'bergen']],
      },
      (existing) => existing.filter((relation) => relation.includes('lives_in')),
    );
    const open = (collection: string) =>
      new Memory({
        vectorStore,
        graphStore,
        collection,
        graphThreshold: 0.6,
        llm,
        embedder: createHashEmbedder(),
      });
    const projectA = open('p_a');
    const projectB = open('p_b');
    const described = (
      relations: { source: string; relationship: string; destination: string }[] = [],
    ) => relations.map((r) => `${r.source} ${r.relationship} ${r.destination}`).sort();

    await projectA.add('I work at Acme', { userId: 'alice' });
    await projectA.add('I live in Oslo', { userId: 'alice' });
    const moved = await projectB.add('I moved to Bergen', { userId: 'alice' });
    // B never saw A's "lives in Oslo", so there is nothing of B's to invalidate.
    expect(moved.relations?.invalidated).toEqual([]);

    expect(described((await projectA.list({ userId: 'alice' })).relations)).toEqual([
      'alice lives_in oslo',
      'alice works_at acme',
    ]);
    expect(described((await projectB.list({ userId: 'alice' })).relations)).toEqual([
      'alice lives_in bergen',
    ]);
    const search = await projectB.search('where does alice work?', { userId: 'alice' });
    expect(described(search.relations)).toEqual(['alice lives_in bergen']);

    await projectB.deleteAll({ userId: 'alice' });
    expect((await projectB.list({ userId: 'alice' })).relations).toEqual([]);
    expect(described((await projectA.list({ userId: 'alice' })).relations)).toEqual([
      'alice lives_in oslo',
      'alice works_at acme',
    ]);
    await projectA.reset({ userId: 'alice' });
    expect((await projectA.list({ userId: 'alice' })).relations).toEqual([]);
  });

  it('keeps the vector path working when graph extraction fails', async () => {
    const llm = createScriptedLLM({
      fallback: (options: LLMGenerateOptions) => {
        if (isExtractionRequest(options)) return { facts: ['Likes tea'] };
        return 'not json';
      },
    });
    const memory = new Memory({
      vectorStore: createInMemoryStore(),
      graphStore: createInMemoryGraphStore(),
      llm,
      embedder: createHashEmbedder(),
    });
    const result = await memory.add('I like tea', { userId: 'carol' });
    expect(result.results.map((change) => change.memory)).toEqual(['Likes tea']);
    expect(result.relations).toEqual({ added: [], invalidated: [] });
    expect(result.warnings?.join(' ')).toContain('engram_graph');
  });

  it('refuses an empty namespace', () => {
    for (const namespace of ['', ' ']) {
      expect(
        () =>
          new GraphMemory({
            store: createInMemoryGraphStore(),
            namespace,
            embed: async (values) => values.map(() => [1]),
            threshold: 0.7,
            now: () => new Date(),
            retries: 0,
          }),
      ).toThrow(InvalidArgumentError);
    }
  });

  it('is selected by ENGRAM_GRAPH=memory', async () => {
    const memory = await createMemoryFromEnvironment(
      { ENGRAM_GRAPH: 'memory' },
      { vectorStore: createInMemoryStore(), llm: null },
    );
    await memory.add('x', { userId: 'a' });
    expect((await memory.list({ userId: 'a' })).relations).toEqual([]);
  });
});
