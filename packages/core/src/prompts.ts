import type { JSONSchema, LLMMessage } from './llm.js';

/** Conversation message as accepted by `Memory.add`. */
export interface Message {
  role: 'user' | 'assistant' | 'system';
  content: string;
}

/** What the extraction and single-call prompts say is worth remembering. */
const factRules = `- Record what the user states or clearly implies about themselves: identity, preferences, habits, plans, relationships, work, health, possessions, opinions, and anything they ask you to remember.
- Take facts from the user's messages only. Read the assistant's messages just to understand what the user meant; never record what the assistant said, suggested or assumed.
- Each fact is one short sentence that stands on its own without the conversation, e.g. "Is vegetarian", "Has a sister named Maya", "Plans a trip to Lisbon in May 2026".
- Turn relative dates ("next Friday", "last year") into absolute ones using today's date.
- Write each fact in the language the user wrote in.
- Leave out greetings, small talk, questions that carry no information about the user, and anything trivial or momentary.`;

/** The four decisions of the reconciliation and single-call prompts. */
const decisionRules = `- ADD: the fact is new information. Give its text and no id.
- UPDATE: the fact refines, corrects or replaces an existing memory about the same subject. Give that memory's id and the complete new text, keeping what is still true (e.g. "Likes pizza" and the fact "Loves pepperoni pizza" become "Loves pepperoni pizza").
- DELETE: the fact shows that an existing memory is no longer true and nothing replaces it. Give that memory's id.
- NONE: the fact is already stored. Give the id of the memory that holds it.`;

const idRule =
  'Use only ids from the list of existing memories. When a fact contradicts a memory and states what is true now, prefer UPDATE over DELETE plus ADD.';

const decisionsShape = `Answer with JSON only, in this form:
{"memory": [{"event": "ADD", "id": "", "text": "..."}, {"event": "UPDATE", "id": "2", "text": "..."}, {"event": "DELETE", "id": "0", "text": ""}, {"event": "NONE", "id": "1", "text": ""}]}`;

/** Default system prompt of the fact-extraction call. `{today}` is replaced per call. */
export const defaultExtractionPrompt = `You extract durable memories about the user from a conversation, for a long-term memory store.

Today's date is {today}.

Rules:
${factRules}
- If nothing is worth remembering, answer with an empty list.

Answer with JSON only, exactly in this form: {"facts": ["first fact", "second fact"]}`;

/** Default system prompt of the reconciliation call. */
export const defaultReconcilePrompt = `You keep a user's long-term memory up to date. You receive the memories already stored, each with a short id, and new facts just learned. For every new fact decide how the memory changes:

${decisionRules}

${idRule} Keep the language the facts are written in.

${decisionsShape}`;

/**
 * Default system prompt of the single call of `addMode: 'single-call'`, which extracts facts and
 * decides how they change the stored memories at once. `{today}` is replaced per call.
 */
export const defaultSingleCallPrompt = `You keep a user's long-term memory up to date. You receive the memories already stored, each with a short id, and a new conversation. Find the durable facts about the user in the conversation and decide how each changes the memory.

Today's date is {today}.

Which facts to keep:
${factRules}

For every fact, one decision:
${decisionRules}

${idRule} If nothing is worth remembering, answer with an empty list.

${decisionsShape}`;

/** Name of the JSON schema of the extraction call; scripted test models can dispatch on it. */
export const extractionSchemaName = 'engram_facts';
/** Name of the JSON schema of the reconciliation call. */
export const reconcileSchemaName = 'engram_memory_changes';

/** Name of the JSON schema of the single call of `addMode: 'single-call'`. */
export const singleCallSchemaName = 'engram_memory_actions';

export const extractionSchema: JSONSchema = {
  type: 'object',
  properties: { facts: { type: 'array', items: { type: 'string' } } },
  required: ['facts'],
  additionalProperties: false,
};

export const reconcileSchema: JSONSchema = {
  type: 'object',
  properties: {
    memory: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          event: { type: 'string', enum: ['ADD', 'UPDATE', 'DELETE', 'NONE'] },
          id: { type: 'string' },
          text: { type: 'string' },
        },
        required: ['event', 'id', 'text'],
        additionalProperties: false,
      },
    },
  },
  required: ['memory'],
  additionalProperties: false,
};

/** The single call answers in the reconciliation's shape: the decisions themselves. */
export const singleCallSchema: JSONSchema = reconcileSchema;

/** The conversation as the extraction call reads it. */
export function transcript(messages: readonly Message[]): string {
  return messages
    .filter((message) => message.role !== 'system')
    .map((message) => `${message.role}: ${message.content}`)
    .join('\n');
}

export function extractionMessages(
  messages: readonly Message[],
  today: string,
  prompt = defaultExtractionPrompt,
): LLMMessage[] {
  return [
    { role: 'system', content: prompt.replaceAll('{today}', today) },
    { role: 'user', content: `Conversation:\n${transcript(messages)}` },
  ];
}

export function reconcileMessages(
  existing: readonly { id: string; text: string }[],
  facts: readonly string[],
  prompt = defaultReconcilePrompt,
): LLMMessage[] {
  return [
    { role: 'system', content: prompt },
    {
      role: 'user',
      content: `Existing memories:\n${JSON.stringify(existing)}\n\nNew facts:\n${JSON.stringify(facts)}`,
    },
  ];
}

/** The single call of `addMode: 'single-call'`: the related memories and the conversation. */
export function singleCallMessages(
  existing: readonly { id: string; text: string }[],
  messages: readonly Message[],
  today: string,
  prompt = defaultSingleCallPrompt,
): LLMMessage[] {
  return [
    { role: 'system', content: prompt.replaceAll('{today}', today) },
    {
      role: 'user',
      content: `Existing memories:\n${JSON.stringify(existing)}\n\nConversation:\n${transcript(messages)}`,
    },
  ];
}

/** Says what was wrong with the previous answer, for one more attempt. */
export function retryMessage(shape: string): LLMMessage {
  return {
    role: 'user',
    content: `Your previous answer could not be used. Answer again with JSON only, exactly in this form: ${shape}`,
  };
}
