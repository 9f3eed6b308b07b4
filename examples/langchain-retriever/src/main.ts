// Engram in LangChain.js, offline: memories retrieved into a prompt by a runnable chain, and a
// LangGraph store whose items are Engram memories. A scripted function stands in for the chat
// model; swap in any LangChain chat model (`ChatOpenAI`, ...) to run it for real.
import { pathToFileURL } from 'node:url';
import { createHashEmbedder, createInMemoryStore, Memory } from '@engram/core';
import { EngramRetriever } from '@engram/langchain';
import { EngramStore } from '@engram/langchain/store';
import type { Document } from '@langchain/core/documents';
import { ChatPromptTemplate } from '@langchain/core/prompts';
import { RunnableLambda, RunnablePassthrough, RunnableSequence } from '@langchain/core/runnables';

/** Runs the example, printing through `log`. */
export async function runExample(log: (line: string) => void = console.log): Promise<void> {
  const memory = new Memory({
    vectorStore: createInMemoryStore(),
    embedder: createHashEmbedder(),
    llm: null,
    graphStore: null,
  });
  try {
    for (const fact of [
      'Alice is allergic to peanuts',
      'Alice hikes in the Alps every summer',
      'Alice works night shifts as a nurse',
    ]) {
      await memory.add(fact, { userId: 'alice', infer: false });
    }

    const retriever = new EngramRetriever({ memory, userId: 'alice', k: 2 });
    const prompt = ChatPromptTemplate.fromMessages([
      ['system', 'You help Alice. What you remember about her:\n{memories}'],
      ['human', '{question}'],
    ]);
    const scriptedModel = RunnableLambda.from(
      async (value: Awaited<ReturnType<typeof prompt.invoke>>) => {
        const system = String(value.toChatMessages()[0]?.content ?? '');
        return `(model saw ${system.split('\n').length - 1} memories)`;
      },
    );
    const chain = RunnableSequence.from([
      {
        memories: retriever.pipe(
          RunnableLambda.from((documents: Document[]) =>
            documents.map((document) => `- ${document.pageContent}`).join('\n'),
          ),
        ),
        question: new RunnablePassthrough(),
      },
      prompt,
      scriptedModel,
    ]);
    log(`chain: ${await chain.invoke('Which snack is safe on my hike?')}`);

    const documents = await retriever.invoke('peanut allergy');
    const top = documents[0];
    log(`top document: ${top?.pageContent} (score ${top?.metadata.score.toFixed(2)})`);

    const store = new EngramStore({ memory, userIdIndex: 1 });
    await store.put(['preferences', 'alice'], 'units', { text: 'Alice prefers metric units' });
    const found = await store.search(['preferences', 'alice'], { query: 'units' });
    log(`store search: ${found.map((item) => item.value.text).join(', ')}`);
    const aliceNow = await memory.list({ userId: 'alice' });
    log(`memories of alice: ${aliceNow.results.length}`);
  } finally {
    await memory.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await runExample();
}
