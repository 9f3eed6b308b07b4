import type { FakeChatRequest } from '@engram/fake-openai';

/** Rough token count, the same rule the fake server uses for `usage`: four characters a token. */
export function estimateTokens(text: string): number {
  return text.length === 0 ? 0 : Math.max(1, Math.ceil(text.length / 4));
}

function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((part) =>
        part && typeof part === 'object' && 'text' in part ? String(part.text ?? '') : '',
      )
      .join('');
  }
  return '';
}

/** Every sentence of the `user:` lines of a transcript is one fact. */
export function factsOfTranscript(transcript: string): string[] {
  return transcript
    .split('\n')
    .filter((line) => line.startsWith('user: '))
    .flatMap((line) => line.slice('user: '.length).split('.'))
    .map((fact) => fact.trim())
    .filter((fact) => fact.length > 0);
}

const normalize = (text: string) => text.trim().replace(/\s+/g, ' ').toLowerCase();
const prefix = (text: string) => normalize(text).split(' ').slice(0, 2).join(' ');

/** NONE for a fact already stored, UPDATE of a stored memory with the same first two words, ADD otherwise. */
function reconcile(existing: { id: string; text: string }[], facts: string[]) {
  return {
    memory: facts.map((fact) => {
      const same = existing.find((memory) => normalize(memory.text) === normalize(fact));
      if (same) return { event: 'NONE', id: same.id, text: '' };
      const related = existing.find((memory) => prefix(memory.text) === prefix(fact));
      if (related) return { event: 'UPDATE', id: related.id, text: fact };
      return { event: 'ADD', id: '', text: fact };
    }),
  };
}

/**
 * A deterministic stand-in for the model that answers Engram's prompts (`engram_facts` and
 * `engram_memory_changes` of the default two-call add, `engram_memory_actions` of the
 * single-call add) and mem0's single "additive extraction" prompt (npm and PyPI), with the same
 * facts for the same conversation and the same decisions about them in both Engram modes.
 */
export function benchChat(request: FakeChatRequest): unknown {
  const format = request.responseFormat as
    | { type?: string; json_schema?: { name?: string } }
    | undefined;
  const lastUser = [...request.messages].reverse().find((message) => message.role === 'user');
  const content = contentText(lastUser?.content);
  const schema = format?.json_schema?.name;
  if (schema === 'engram_facts') {
    return { facts: factsOfTranscript(content.replace(/^Conversation:\n/, '')) };
  }
  if (schema === 'engram_memory_changes') {
    const match = /^Existing memories:\n([\s\S]*?)\n\nNew facts:\n([\s\S]*)$/.exec(content);
    if (!match) return { memory: [] };
    return reconcile(JSON.parse(match[1]!), JSON.parse(match[2]!));
  }
  if (schema === 'engram_memory_actions') {
    const match = /^Existing memories:\n([\s\S]*?)\n\nConversation:\n([\s\S]*)$/.exec(content);
    if (!match) return { memory: [] };
    return reconcile(JSON.parse(match[1]!), factsOfTranscript(match[2]!));
  }
  const newMessages = /## New Messages\n([\s\S]*?)\n\n## /.exec(content);
  if (newMessages) {
    return {
      memory: factsOfTranscript(newMessages[1]!).map((text, index) => ({
        id: String(index),
        text,
        attributed_to: 'user',
      })),
    };
  }
  return format ? {} : 'unexpected request';
}
