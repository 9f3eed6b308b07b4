import { z } from '@hono/zod-openapi';

/** Longest memory, query or message text accepted, in characters (the engine's own limits). */
export const maxTextCharacters = 20_000;
const maxMessageCharacters = 200_000;

const scopeId = (name: string) =>
  z
    .string()
    .min(1)
    .max(256)
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are refused
    .regex(/^[^\u0000-\u001f\u007f]*\S[^\u0000-\u001f\u007f]*$/, {
      message: `${name} must hold visible characters and no control characters`,
    });

const metadata = z
  .record(z.string().max(256), z.unknown())
  .openapi({ description: 'JSON object stored with the memory.', example: { topic: 'food' } });

const filters = z.record(z.string().max(256), z.unknown()).openapi({
  description:
    'Metadata filter: `{"topic": "food"}`, operators such as `{"score": {"gte": 3}}`, or `{"AND": [...]}` / `{"OR": [...]}`.',
});

export const memoryIdSchema = z
  .string()
  .min(1)
  .max(256)
  .openapi({ param: { name: 'id', in: 'path' }, example: '6a1b1c2e-0000-4000-8000-000000000000' });

export const idParamsSchema = z.object({ id: memoryIdSchema });

export const jobIdParamsSchema = z.object({
  id: z
    .string()
    .min(1)
    .max(128)
    .openapi({ param: { name: 'id', in: 'path' }, example: 'job_2b7c9f' }),
});

/** A chat message. */
export const messageSchema = z
  .object({
    role: z.enum(['user', 'assistant', 'system']),
    content: z.string().max(maxMessageCharacters),
  })
  .openapi('Message');

/** What `messages` may be; the engine's own words, so the API and the engine agree. */
export const messagesShapeMessage =
  'messages must be a string or an array of { role: "user" | "assistant" | "system", content: string } objects';

const messagesSchema = z
  .union([z.string().min(1).max(maxMessageCharacters), z.array(messageSchema).min(1).max(1000)], {
    error: `${messagesShapeMessage} (1 to 1000 messages, at most ${maxMessageCharacters} characters in all)`,
  })
  .openapi({
    description: 'A text, or a conversation as `{role, content}` messages.',
    example: [{ role: 'user', content: 'I am vegetarian and allergic to peanuts.' }],
  });

// The range is checked by the engine, so the API's 400 says what the engine (and the CLI) says.
const thresholdSchema = z.number().optional().openapi({
  minimum: 0,
  maximum: 1,
  description:
    "Leave out results whose vector similarity (`scores.vector`) is below this, from 0 to 1. Default: the embedder's relevance cut-off (0.2 for all-MiniLM-L6-v2 and OpenAI text-embedding-3, none for the hash embedder; see the README's search section); 0 turns it off.",
});

const scopeFields = {
  userId: scopeId('userId').optional().openapi({ example: 'alice' }),
  agentId: scopeId('agentId').optional(),
  runId: scopeId('runId').optional(),
};

const scopeFieldsSnake = {
  user_id: scopeId('user_id').optional().openapi({ example: 'alice' }),
  agent_id: scopeId('agent_id').optional(),
  run_id: scopeId('run_id').optional(),
};

export const scopeQuerySchema = z.object(scopeFields);
export const scopeQuerySnakeSchema = z.object(scopeFieldsSnake);

/**
 * The optional scope of a route on one memory: given, the memory must belong to it, else the
 * answer is the 404 of a missing id.
 */
export const byIdScopeQuerySchema = z.object({
  userId: scopeFields.userId.openapi({
    description: 'Only answer when the memory belongs to this user (else 404).',
  }),
  agentId: scopeFields.agentId,
  runId: scopeFields.runId,
});

/** {@link byIdScopeQuerySchema} with mem0's snake_case names. */
export const byIdScopeQuerySnakeSchema = z.object({
  user_id: scopeFieldsSnake.user_id.openapi({
    description: 'Only answer when the memory belongs to this user (else 404).',
  }),
  agent_id: scopeFieldsSnake.agent_id,
  run_id: scopeFieldsSnake.run_id,
});

const eraseField = {
  erase: z.enum(['true', 'false']).optional().openapi({
    description:
      '`true` also erases the texts of the history events (they keep id, kind, scope, actor and time).',
  }),
};

export const eraseQuerySchema = z.object(eraseField);
export const scopeEraseQuerySchema = z.object({ ...scopeFields, ...eraseField });
export const scopeEraseQuerySnakeSchema = z.object({ ...scopeFieldsSnake, ...eraseField });

/** {@link byIdScopeQuerySchema} with `erase`, for deleting one memory. */
export const byIdEraseQuerySchema = byIdScopeQuerySchema.extend(eraseField);
/** {@link byIdScopeQuerySnakeSchema} with `erase`. */
export const byIdEraseQuerySnakeSchema = byIdScopeQuerySnakeSchema.extend(eraseField);

export const resetRequestSchema = z.object(scopeFields).strict().openapi('ResetRequest', {
  description: 'The scope to forget: at least one of userId, agentId, runId.',
});

export const addRequestSchema = z
  .object({
    messages: messagesSchema,
    ...scopeFields,
    metadata: metadata.optional(),
    infer: z.boolean().optional().openapi({
      description:
        'Extract and reconcile facts with the LLM. Default: true when one is configured.',
    }),
    async: z.boolean().optional().openapi({
      description: 'Queue the add and answer 202 with a job id at once.',
    }),
    expiresAt: z.iso.datetime({ offset: true }).optional().openapi({
      description:
        'When the memories expire (ISO-8601): afterwards search, list and get leave them out, and the expiry cleanup deletes them.',
    }),
  })
  .openapi('AddRequest');

export const memoryItemSchema = z
  .object({
    id: z.string(),
    memory: z.string(),
    hash: z.string().optional(),
    userId: z.string().optional(),
    agentId: z.string().optional(),
    runId: z.string().optional(),
    metadata: z.record(z.string(), z.unknown()),
    createdAt: z.string(),
    updatedAt: z.string(),
    expiresAt: z.string().optional().openapi({ description: 'When the memory expires.' }),
  })
  .openapi('Memory');

export const memoryChangeSchema = z
  .object({
    id: z.string(),
    memory: z.string(),
    event: z.enum(['ADD', 'UPDATE', 'DELETE']),
    previousMemory: z.string().optional(),
  })
  .openapi('MemoryChange');

export const relationSchema = z
  .object({
    id: z.string(),
    source: z.string().openapi({ example: 'alice' }),
    relationship: z.string().openapi({ example: 'works_at' }),
    destination: z.string().openapi({ example: 'acme' }),
    score: z.number().optional().openapi({
      description: 'Relevance to the search query (search only), higher is better.',
    }),
  })
  .openapi('Relation', {
    description:
      "A relation of the scope's knowledge graph, `source -[relationship]-> destination`. Graph memory is on when the server runs with ENGRAM_GRAPH; each project has its own graph.",
  });

export const graphChangesSchema = z
  .object({
    added: z.array(relationSchema),
    invalidated: z.array(relationSchema).openapi({
      description: 'Relations the new messages contradict; kept for history, left out of answers.',
    }),
  })
  .openapi('GraphChanges');

export const usageSchema = z
  .object({
    llmCalls: z.number().int(),
    inputTokens: z.number().int(),
    outputTokens: z.number().int(),
    embeddingCalls: z.number().int(),
    embeddingTokens: z.number().int(),
    rerankCalls: z.number().int(),
    rerankTokens: z.number().int(),
    rerankSearchUnits: z.number().openapi({ description: 'Search units (Cohere rerank).' }),
    redactions: z.number().int().optional().openapi({
      description: 'Sensitive spans replaced before storage, when redaction is on (ENGRAM_REDACT).',
    }),
  })
  .openapi('Usage', {
    description: 'Model calls and tokens the operation cost, as the providers reported them.',
  });

export const addResultSchema = z
  .object({
    results: z.array(memoryChangeSchema),
    relations: graphChangesSchema.optional().openapi({
      description: 'What graph memory changed; present when graph memory is on.',
    }),
    warnings: z.array(z.string()).optional(),
    usage: usageSchema.optional(),
  })
  .openapi('AddResult');

export const jobSchema = z
  .object({
    id: z.string(),
    status: z.enum(['queued', 'running', 'completed', 'failed']),
    attempts: z.number().int(),
    createdAt: z.string(),
    finishedAt: z.string().optional(),
    result: addResultSchema.optional(),
    error: z.object({ code: z.string(), message: z.string() }).optional(),
  })
  .openapi('Job');

export const jobAcceptedSchema = z
  .object({
    jobId: z.string(),
    status: z.literal('queued'),
    statusUrl: z.string(),
  })
  .openapi('JobAccepted');

export const searchRequestSchema = z
  .object({
    query: z.string().min(1).max(maxTextCharacters).regex(/\S/),
    ...scopeFields,
    filters: filters.optional(),
    limit: z.number().int().min(1).max(1000).optional(),
    threshold: thresholdSchema,
    keywordSearch: z.boolean().optional(),
    rerank: z.boolean().optional(),
    rewriteQuery: z.boolean().optional().openapi({
      description:
        'Rewrite a conversational question into a standalone query with one small LLM call first (needs an LLM; its tokens are in usage). Default false.',
    }),
    explain: z.boolean().optional().openapi({
      description:
        "Add each result's `explanation`: every signal's raw value, normalized value, weight and contribution.",
    }),
    context: z
      .union([
        z.boolean(),
        z
          .object({
            before: z.number().int().min(0).max(10).optional(),
            after: z.number().int().min(0).max(10).optional(),
            hits: z.number().int().min(0).max(10).optional(),
          })
          .strict(),
      ])
      .optional()
      .openapi({
        description:
          'Add the memories of the scope written just before/after the first `hits` results (by creation time), each right after its hit with `neighbourOf` set, within `limit`. `true` means `{ "before": 0, "after": 1, "hits": 2 }`. Default off: a neighbour is kept whatever its relevance to the query.',
      }),
  })
  .openapi('SearchRequest');

export const searchScoresSchema = z
  .object({
    vector: z.number().openapi({
      description:
        'Vector similarity to the query (1 = same direction); what `threshold` applies to.',
    }),
    keyword: z.number().optional().openapi({
      description: "Keyword (BM25-style) relevance, when the memory matched the query's words.",
    }),
    fused: z.number().openapi({
      description:
        '`(1 - keywordWeight) * vector + keywordWeight * keyword / best keyword of the query`: the order without a reranker.',
    }),
    rerank: z.number().optional().openapi({
      description: "The reranker's score, when a reranker ran; it orders the results then.",
    }),
  })
  .openapi('SearchScores');

export const scoreExplanationSchema = z
  .object({
    rankedBy: z.enum(['fusion', 'rerank', 'context']),
    threshold: z
      .number()
      .openapi({ description: 'The similarity cut-off that applied (0: none).' }),
    contributions: z.array(
      z.object({
        signal: z.enum(['vector', 'keyword', 'rerank']),
        raw: z.number(),
        normalized: z.number(),
        weight: z.number(),
        contribution: z.number(),
      }),
    ),
  })
  .openapi('ScoreExplanation');

export const searchResultSchema = memoryItemSchema
  .extend({
    score: z.number().openapi({
      description:
        'The score the results are ordered by: `scores.fused`, or `scores.rerank` when a reranker ran.',
    }),
    scores: searchScoresSchema,
    keywordScore: z.number().optional().openapi({ description: 'Same as `scores.keyword`.' }),
    rerankScore: z.number().optional().openapi({ description: 'Same as `scores.rerank`.' }),
    explanation: scoreExplanationSchema.optional(),
    neighbourOf: z.string().optional().openapi({
      description:
        "Set on a memory added as the neighbour of a hit (`context`): the hit's id. Its `score` is the hit's; `scores` are its own.",
    }),
  })
  .openapi('SearchResult');

export const searchResponseSchema = z
  .object({
    results: z.array(searchResultSchema),
    relations: z.array(relationSchema).optional().openapi({
      description:
        'Graph relations of the scope that match the query, best first; present when graph memory is on.',
    }),
    usage: usageSchema.optional(),
    rewrittenQuery: z.string().optional().openapi({
      description: 'The query searched for, when rewriteQuery rewrote it.',
    }),
  })
  .openapi('SearchResponse');

export const listQuerySchema = z.object({
  ...scopeFields,
  limit: z.coerce.number().int().min(1).max(1000).optional(),
  cursor: z.string().min(1).max(2048).optional(),
  filters: z.string().min(2).max(8192).optional().openapi({
    description:
      'Metadata filter as JSON, the same as `filters` of `/v1/search`: `{"topic":"food"}`, `{"score":{"gte":3}}`, `{"AND":[...]}`.',
    example: '{"topic":"food"}',
  }),
});

export const listResponseSchema = z
  .object({
    results: z.array(memoryItemSchema),
    nextCursor: z.string().optional(),
    relations: z.array(relationSchema).optional().openapi({
      description:
        "The scope's valid graph relations, on the first page only (up to `limit`); present when graph memory is on.",
    }),
  })
  .openapi('MemoryPage');

export const updateRequestSchema = z
  .object({
    text: z.string().min(1).max(maxTextCharacters).regex(/\S/).optional(),
    metadata: metadata.optional(),
    expiresAt: z.iso.datetime({ offset: true }).nullable().optional().openapi({
      description: 'New expiry time; null makes the memory never expire.',
    }),
  })
  .openapi('UpdateRequest');

export const deleteResultSchema = z
  .object({ id: z.string(), deleted: z.literal(true) })
  .openapi('DeleteResult');

export const deleteAllResultSchema = z
  .object({ deleted: z.number().int() })
  .openapi('DeleteAllResult');

export const historyEventSchema = z
  .object({
    id: z.string(),
    memoryId: z.string().nullable(),
    event: z.enum(['ADD', 'UPDATE', 'DELETE', 'INFERENCE_FAILED', 'APPLIED']),
    previousText: z.string().nullable(),
    newText: z.string().nullable(),
    userId: z.string().optional(),
    agentId: z.string().optional(),
    runId: z.string().optional(),
    actor: z.string().optional(),
    detail: z.string().optional(),
    createdAt: z.string(),
  })
  .openapi('HistoryEvent');

export const historyResponseSchema = z
  .object({ results: z.array(historyEventSchema) })
  .openapi('History');

export const exportQuerySchema = z.object({
  ...scopeFields,
  format: z.enum(['jsonl', 'json']).optional().openapi({
    description: '`jsonl` (default) streams every memory; `json` answers one page.',
  }),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
  cursor: z.string().min(1).max(2048).optional(),
});

export const importRequestSchema = z
  .object({
    items: z
      .array(
        z.object({
          text: z.string().min(1).max(maxTextCharacters).regex(/\S/),
          ...scopeFields,
          metadata: metadata.optional(),
          id: z.string().min(1).max(256).optional(),
          createdAt: z.iso.datetime({ offset: true }).optional(),
          updatedAt: z.iso.datetime({ offset: true }).optional(),
          expiresAt: z.iso.datetime({ offset: true }).optional(),
        }),
      )
      .max(1000),
  })
  .openapi('ImportRequest');

export const errorSchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: 'invalid_argument' }),
      message: z.string(),
    }),
  })
  .openapi('Error');

/* mem0-compatible shapes (snake_case). */

export const mem0AddRequestSchema = z
  .object({
    messages: messagesSchema,
    ...scopeFieldsSnake,
    metadata: metadata.optional(),
    infer: z.boolean().optional(),
  })
  .openapi('Mem0AddRequest');

export const mem0ListQuerySchema = z.object({
  ...scopeFieldsSnake,
  limit: z.coerce.number().int().min(1).max(1000).optional().openapi({
    description: 'Most memories returned. Default 100, as mem0.',
  }),
});

export const mem0MemorySchema = z
  .object({
    id: z.string(),
    memory: z.string(),
    hash: z.string().optional(),
    user_id: z.string().optional(),
    agent_id: z.string().optional(),
    run_id: z.string().optional(),
    metadata: z.record(z.string(), z.unknown()),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('Mem0Memory');

export const mem0AddResultSchema = z
  .object({
    results: z.array(
      z.object({
        id: z.string(),
        memory: z.string(),
        event: z.enum(['ADD', 'UPDATE', 'DELETE']),
        previous_memory: z.string().optional(),
      }),
    ),
  })
  .openapi('Mem0AddResult');

export const mem0SearchRequestSchema = z
  .object({
    query: z.string().min(1).max(maxTextCharacters).regex(/\S/),
    ...scopeFieldsSnake,
    filters: filters.optional(),
    limit: z.number().int().min(1).max(1000).optional(),
    threshold: thresholdSchema,
  })
  .openapi('Mem0SearchRequest');

export const mem0SearchResponseSchema = z
  .object({
    results: z.array(mem0MemorySchema.extend({ score: z.number() })),
  })
  .openapi('Mem0SearchResponse');

export const mem0ListResponseSchema = z
  .object({ results: z.array(mem0MemorySchema) })
  .openapi('Mem0MemoryList');

export const mem0UpdateRequestSchema = z
  .object({
    text: z.string().min(1).max(maxTextCharacters).regex(/\S/).optional(),
    data: z.string().min(1).max(maxTextCharacters).regex(/\S/).optional().openapi({
      description: 'Same as `text` (the name mem0 uses).',
    }),
    metadata: metadata.optional(),
  })
  .openapi('Mem0UpdateRequest');

export const mem0HistoryResponseSchema = z
  .array(
    z.object({
      id: z.string(),
      memory_id: z.string().nullable(),
      old_memory: z.string().nullable(),
      new_memory: z.string().nullable(),
      event: z.string(),
      created_at: z.string(),
      actor_id: z.string().nullable(),
      is_deleted: z.boolean(),
    }),
  )
  .openapi('Mem0History');

export const messageResponseSchema = z.object({ message: z.string() }).openapi('MessageResponse');
