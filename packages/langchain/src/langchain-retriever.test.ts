import { createHashEmbedder, createInMemoryStore, Memory } from '@engram/core';
import { Document } from '@langchain/core/documents';
import { BaseRetriever } from '@langchain/core/retrievers';
import { RunnableLambda } from '@langchain/core/runnables';
import { describe, expect, it } from 'vitest';
import { EngramRetriever } from './langchain-retriever.js';

async function seededMemory() {
  const memory = new Memory({
    vectorStore: createInMemoryStore(),
    embedder: createHashEmbedder(),
    llm: null,
    graphStore: null,
  });
  await memory.add('Alice is allergic to peanuts', {
    userId: 'alice',
    infer: false,
    metadata: { category: 'health' },
  });
  await memory.add('Alice loves hiking in the Alps', {
    userId: 'alice',
    infer: false,
    metadata: { category: 'hobby' },
  });
  await memory.add('Bob is allergic to shellfish', { userId: 'bob', infer: false });
  return memory;
}

describe('EngramRetriever', () => {
  it('is a LangChain retriever returning documents with memory metadata and scores', async () => {
    const memory = await seededMemory();
    const retriever = new EngramRetriever({ memory, userId: 'alice', k: 1 });
    expect(retriever).toBeInstanceOf(BaseRetriever);
    const documents = await retriever.invoke('peanut allergy');
    expect(documents).toHaveLength(1);
    const [document] = documents;
    expect(document).toBeInstanceOf(Document);
    expect(document?.pageContent).toBe('Alice is allergic to peanuts');
    expect(document?.id).toBe(document?.metadata.memoryId);
    expect(document?.metadata).toMatchObject({ category: 'health', userId: 'alice' });
    expect(document?.metadata.score).toBeGreaterThan(0);
    expect(typeof document?.metadata.createdAt).toBe('string');
  });

  it('searches only its scope and applies filters', async () => {
    const memory = await seededMemory();
    const bob = await new EngramRetriever({ memory, userId: 'bob' }).invoke('allergic');
    expect(bob.map((document) => document.pageContent)).toEqual(['Bob is allergic to shellfish']);
    const hobbies = await new EngramRetriever({
      memory,
      userId: 'alice',
      filters: { category: 'hobby' },
    }).invoke('anything about Alice');
    expect(hobbies.map((document) => document.pageContent)).toEqual([
      'Alice loves hiking in the Alps',
    ]);
  });

  it('composes in a runnable chain and reports to callbacks', async () => {
    const memory = await seededMemory();
    const events: string[] = [];
    const retriever = new EngramRetriever({
      memory,
      userId: 'alice',
      callbacks: [
        {
          handleRetrieverStart: () => {
            events.push('start');
          },
          handleRetrieverEnd: (documents) => {
            events.push(`end:${documents.length}`);
          },
        },
      ],
    });
    const chain = retriever.pipe(
      RunnableLambda.from((documents: Document[]) =>
        documents.map((document) => document.pageContent).join('\n'),
      ),
    );
    const context = await chain.invoke('hiking');
    expect(context).toContain('Alice loves hiking in the Alps');
    expect(events).toEqual(['start', 'end:2']);
  });

  it('refuses a missing scope or memory', async () => {
    const memory = await seededMemory();
    expect(() => new EngramRetriever({ memory })).toThrow('At least one of userId');
    expect(
      () => new EngramRetriever({ memory: undefined as unknown as Memory, userId: 'a' }),
    ).toThrow('needs `memory`');
  });
});
