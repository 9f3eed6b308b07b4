// Long-term memory for an AI SDK model, offline: a local stand-in for the OpenAI API answers (as
// the chat model and as Engram's fact extractor), and Engram keeps memories in process with the
// hash embedder. With a real key, drop `baseURL` and
// the stand-in; nothing else changes.
import { pathToFileURL } from 'node:url';
import { createOpenAI } from '@ai-sdk/openai';
import { createAISDKLLM, engramMemory, engramTools } from '@engram/ai-sdk';
import { createHashEmbedder, createInMemoryStore, Memory } from '@engram/core';
import { type FakeChatRequest, startFakeOpenAI } from '@engram/fake-openai';
import { generateText, stepCountIs, streamText, wrapLanguageModel } from 'ai';

/**
 * A scripted model. As Engram's LLM it extracts every statement of the user (questions are not
 * facts) and adds each one; as the chat model it answers from the memories in its system prompt.
 */
function scriptedModel(request: FakeChatRequest): unknown {
  const format = request.responseFormat as { json_schema?: { name?: string } } | undefined;
  const lastUser = String(request.messages.findLast((message) => message.role === 'user')?.content);
  if (format?.json_schema?.name === 'engram_facts') {
    const facts = lastUser
      .split('\n')
      .filter((line) => line.startsWith('user: '))
      .flatMap((line) => line.slice(6).split(/(?<=[.?!])\s+/))
      .filter((sentence) => sentence.length > 0 && !sentence.endsWith('?'));
    return { facts };
  }
  if (format?.json_schema?.name === 'engram_memory_changes') {
    const facts = JSON.parse(lastUser.slice(lastUser.indexOf('New facts:') + 10)) as string[];
    return { memory: facts.map((text) => ({ event: 'ADD', id: '', text })) };
  }
  const remembered = request.messages
    .filter((message) => message.role === 'system')
    .flatMap((message) => String(message.content).split('\n'))
    .filter((line) => line.startsWith('- '))
    .map((line) => line.slice(2));
  if (remembered.length === 0) return 'Nice to meet you! I will keep that in mind.';
  return `From what I remember (${remembered.join(' ')}), try trail mix without peanuts.`;
}

/** Runs the example, printing through `log`. */
export async function runExample(log: (line: string) => void = console.log): Promise<void> {
  const server = await startFakeOpenAI({ apiKey: 'example-key', chat: scriptedModel });
  const openai = createOpenAI({ apiKey: 'example-key', baseURL: server.url });
  const memory = new Memory({
    vectorStore: createInMemoryStore(),
    embedder: createHashEmbedder(),
    // Extracts the facts worth keeping from each exchange.
    llm: createAISDKLLM({ model: openai.chat('gpt-4.1-mini') }),
    graphStore: null,
  });
  try {
    const middleware = engramMemory({ memory, userId: 'alice', tokenBudget: 500 });
    const model = wrapLanguageModel({ model: openai.chat('gpt-4.1-mini'), middleware });

    const first = await generateText({
      model,
      system: 'You are a friendly hiking assistant.',
      prompt: 'I am allergic to peanuts and I go hiking in the Alps every summer.',
    });
    log(`turn 1: ${first.text}`);
    // The exchange is stored in the background; a server would return first and let it finish.
    await middleware.flush();

    const second = streamText({
      model,
      system: 'You are a friendly hiking assistant.',
      prompt: 'What snack should I pack for my next hike?',
    });
    log(`turn 2: ${await second.text}`);
    await middleware.flush();

    const stored = await memory.list({ userId: 'alice' });
    log(`memories of alice: ${stored.results.length}`);

    // The same memory as tools, for an agent that decides itself when to recall.
    const tools = engramTools({ memory, userId: 'alice' });
    const recalled = await tools.searchMemories.execute?.(
      { query: 'allergy', limit: 1 },
      { toolCallId: 'example', messages: [] },
    );
    log(`searchMemories tool: ${JSON.stringify(recalled)}`);
    await generateText({ model, tools, stopWhen: stepCountIs(2), prompt: 'Anything to recall?' });
    await middleware.flush();
  } finally {
    await memory.close();
    await server.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await runExample();
}
