import {
  extractionSchemaName,
  graphExtractionSchemaName,
  graphInvalidationSchemaName,
} from '@engram/core';
import type { FakeChatRequest } from '@engram/fake-openai';

/** Graph relations as `[source, relationship, destination]`, by the message that states them. */
export type RelationsByMessage = Record<string, [string, string, string][]>;

function lastUserText(request: FakeChatRequest): string {
  const last = [...request.messages].reverse().find((message) => message.role === 'user');
  return typeof last?.content === 'string' ? last.content : '';
}

/**
 * A scripted model for graph memory: each message is one fact, always added; its relations come
 * from `relationsByMessage`; an existing relation is invalidated when `invalidates(existing,
 * added)` says so (both as `source relationship destination` lines, `added` all of them).
 */
export function createGraphChat(
  relationsByMessage: RelationsByMessage,
  invalidates: (existing: string, added: string) => boolean,
): (request: FakeChatRequest) => unknown {
  return (request) => {
    const format = request.responseFormat as { json_schema?: { name?: string } } | undefined;
    const content = lastUserText(request);
    const message = content.replace(/^Conversation:\nuser: /, '');
    switch (format?.json_schema?.name) {
      case extractionSchemaName:
        return { facts: [message] };
      case graphExtractionSchemaName:
        return {
          entities: [],
          relations: (relationsByMessage[message] ?? []).map(
            ([source, relationship, destination]) => ({ source, relationship, destination }),
          ),
        };
      case graphInvalidationSchemaName: {
        const [, existing, added] = /Existing relations:\n(.*)\n\nNew relations:\n(.*)$/s.exec(
          content,
        )!;
        return {
          invalidate: (JSON.parse(existing!) as { id: string; relation: string }[])
            .filter((entry) => invalidates(entry.relation, added!))
            .map((entry) => entry.id),
        };
      }
      default: {
        const facts = JSON.parse(content.slice(content.indexOf('New facts:\n') + 11)) as string[];
        return { memory: facts.map((text) => ({ event: 'ADD', id: '', text })) };
      }
    }
  };
}

/** Environment of a `serve` with graph memory on Kuzu and the scripted model at `modelUrl`. */
export function graphServerEnvironment(modelUrl: string): NodeJS.ProcessEnv {
  return {
    ENGRAM_LLM: 'openai:gpt-4.1-mini',
    ENGRAM_EMBEDDER: 'hash',
    ENGRAM_GRAPH: 'kuzu',
    OPENAI_API_KEY: 'sk-test',
    OPENAI_BASE_URL: modelUrl,
  };
}
