import type { AddOptions, JsonValue, MemoryChange, Scope } from '@engram/core';
import { InvalidArgumentError, normalizeScope } from '@engram/core';
import { type Tool, tool } from 'ai';
import { z } from 'zod';
import type { MemoryLike } from './ai-sdk-memory-middleware.js';

/** Options of {@link engramTools}. */
export interface EngramToolsOptions extends Scope {
  /** Where memories are searched and stored. */
  memory: MemoryLike;
  /** Most results `searchMemories` returns, whatever the model asks for. Default 10. */
  maxResults?: number;
  /** Passed to `memory.add` by `addMemory`. Default: the Memory's own default. */
  infer?: boolean;
  /** Stored with every memory `addMemory` creates. */
  metadata?: Record<string, JsonValue>;
}

/** One memory as `searchMemories` hands it to the model. */
export interface FoundMemory {
  /** Memory id. */
  id: string;
  /** The memory text. */
  memory: string;
  /** Similarity to the query, higher is better. */
  score: number;
  /** ISO-8601 time of the last change. */
  updatedAt: string;
}

/** Input of the `searchMemories` tool. */
export interface SearchMemoriesInput {
  /** What to look for, in natural language. */
  query: string;
  /** How many memories to return. */
  limit?: number | undefined;
}

/** Input of the `addMemory` tool. */
export interface AddMemoryInput {
  /** The fact to remember, as one sentence. */
  memory: string;
}

/** The tools {@link engramTools} returns (a type, not an interface, so it is an AI SDK `ToolSet`). */
export type EngramTools = {
  /** Searches the scope's memories. */
  searchMemories: Tool<SearchMemoriesInput, { memories: FoundMemory[] }>;
  /** Stores a fact in the scope's memory. */
  addMemory: Tool<AddMemoryInput, { results: MemoryChange[] }>;
};

/**
 * AI SDK tools for agents that decide themselves when to recall and what to remember:
 * `searchMemories` and `addMemory`, both bound to one scope (the model never chooses whose
 * memories it reads).
 *
 * ```ts
 * await generateText({ model, tools: engramTools({ memory, userId: 'alice' }), prompt, stopWhen: stepCountIs(5) });
 * ```
 */
export function engramTools(options: EngramToolsOptions): EngramTools {
  const { memory } = options;
  if (!memory || typeof memory.search !== 'function' || typeof memory.add !== 'function') {
    throw new InvalidArgumentError({
      source: 'ai-sdk',
      message: 'engramTools needs `memory`: pass a Memory from @engram/core.',
    });
  }
  const scope = normalizeScope(options, { required: true, source: 'ai-sdk' });
  const maxResults = options.maxResults ?? 10;

  return {
    searchMemories: tool({
      description:
        'Search long-term memory for facts about the user (preferences, plans, history). Use before answering questions that may depend on what you were told earlier.',
      inputSchema: z.object({
        query: z.string().min(1).describe('What to look for, in natural language.'),
        limit: z.number().int().min(1).max(100).optional().describe('How many memories.'),
      }),
      execute: async ({ query, limit }, { abortSignal }) => {
        const found = await memory.search(query, {
          ...scope,
          limit: Math.min(limit ?? maxResults, maxResults),
          ...(abortSignal ? { abortSignal } : {}),
        });
        return {
          memories: found.results.map((result) => ({
            id: result.id,
            memory: result.memory,
            score: result.score,
            updatedAt: result.updatedAt,
          })),
        };
      },
    }),
    addMemory: tool({
      description:
        'Remember a durable fact about the user for future conversations (a preference, plan, or something they asked you to remember). One fact per call.',
      inputSchema: z.object({
        memory: z.string().min(1).describe('The fact to remember, as one sentence.'),
      }),
      execute: async ({ memory: text }, { abortSignal }) => {
        const addOptions: AddOptions = { ...scope };
        if (options.infer !== undefined) addOptions.infer = options.infer;
        if (options.metadata !== undefined) addOptions.metadata = options.metadata;
        if (abortSignal) addOptions.abortSignal = abortSignal;
        const added = await memory.add([{ role: 'user', content: text }], addOptions);
        return { results: added.results };
      },
    }),
  };
}
