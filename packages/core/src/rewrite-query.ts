import { InvalidArgumentError } from './errors.js';
import type { LLM, LLMMessage } from './llm.js';

/** What `rewriteQuery` accepts: on, or on with the conversation the question came from. */
export type RewriteQueryOption = boolean | { conversation: LLMMessage[] };

const instructions =
  'Rewrite the last user question as one standalone search query for a memory store: resolve pronouns and references from the conversation, keep names, dates and specifics, drop filler. Answer with the query only, on one line.';

/** The conversation's last turns, capped, so a long chat cannot make the call expensive. */
function recentTurns(conversation: LLMMessage[]): string {
  return conversation
    .slice(-8)
    .map((message) => `${message.role}: ${message.content.slice(0, 1000)}`)
    .join('\n');
}

/**
 * Turns a conversational question ("what did she say about it?") into a standalone query in one
 * small LLM call. An empty or overlong answer keeps the original query.
 */
export async function rewriteQuery(
  llm: LLM | undefined,
  query: string,
  option: RewriteQueryOption,
  abortSignal?: AbortSignal,
): Promise<string> {
  if (!llm) {
    throw new InvalidArgumentError({
      source: 'core',
      message:
        'rewriteQuery needs an LLM. Configure one (ENGRAM_LLM, or the llm option), or leave rewriteQuery off.',
    });
  }
  const conversation = typeof option === 'object' ? recentTurns(option.conversation) : '';
  const result = await llm.generate({
    messages: [
      { role: 'system', content: instructions },
      {
        role: 'user',
        content: `${conversation ? `Conversation:\n${conversation}\n\n` : ''}Question: ${query}`,
      },
    ],
    temperature: 0,
    maxOutputTokens: 100,
    ...(abortSignal ? { abortSignal } : {}),
  });
  const rewritten = result.text
    .trim()
    .replace(/^["'`]+|["'`]+$/g, '')
    .split('\n')[0]
    ?.trim();
  return rewritten && rewritten.length <= 2000 ? rewritten : query;
}
