import { z } from '@hono/zod-openapi';
import { maxTextCharacters, mem0AddRequestSchema, memoryIdSchema } from './api-schemas.js';

/* Shapes of the mem0 platform API (what mem0's official clients send and read), snake_case. */

const entityId = z.string().min(1).max(256);

const filtersSchema = z.record(z.string().max(256), z.unknown()).openapi({
  description:
    'mem0 filters: `{"user_id": "alice"}`, `{"AND": [{"user_id": "alice"}, {"metadata": {"topic": "food"}}]}`; `user_id`, `agent_id` and `run_id` select the scope, `app_id` and `metadata` conditions filter it (`eq`, `ne`, `gt`, `gte`, `lt`, `lte`, `in`, `nin`, `contains`, `OR`, `NOT`).',
  example: { user_id: 'alice' },
});

const metadataSchema = z.record(z.string().max(256), z.unknown());

/** Fields of the platform API Engram does not implement; sent with a value, they are a 400. */
const unsupported = z.unknown().optional().openapi({
  description: 'Not supported by Engram: leave it out (a value other than null is refused).',
});

const expirationDate = z
  .string()
  .regex(/^\d{4}-\d\d-\d\d([T ][0-9:.]+(Z|[+-]\d\d:?\d\d)?)?$/)
  .nullable()
  .optional()
  .openapi({
    description:
      'When the memory expires: a date (`2030-01-31`: kept through that day, UTC) or an ISO-8601 time. null: never.',
  });

export const platformAddRequestSchema = z
  .object({
    messages: mem0AddRequestSchema.shape.messages,
    user_id: entityId.optional(),
    agent_id: entityId.optional(),
    run_id: entityId.optional(),
    app_id: entityId.optional().openapi({ description: 'Kept as the metadata key `app_id`.' }),
    filters: filtersSchema.optional().openapi({
      description: 'Entity ids may also be given here, as mem0 clients do.',
    }),
    metadata: metadataSchema.optional(),
    infer: z.boolean().optional(),
    async_mode: z.boolean().optional().openapi({
      description:
        'Default: true when `infer` is not false. Asynchronous adds answer `PENDING` with an `event_id` to poll at `GET /v1/event/{event_id}/`.',
    }),
    output_format: z.string().max(16).nullable().optional(),
    version: z.string().max(16).nullable().optional(),
    expiration_date: expirationDate,
    timestamp: unsupported,
    immutable: unsupported,
    structured_data_schema: unsupported,
    custom_instructions: unsupported,
    agent_custom_instructions: unsupported,
    custom_categories: unsupported,
    includes: unsupported,
    excludes: unsupported,
  })
  .openapi('Mem0PlatformAddRequest');

export const platformChangeSchema = z.object({
  id: z.string(),
  event: z.enum(['ADD', 'UPDATE', 'DELETE']),
  memory: z.string(),
  data: z.object({ memory: z.string() }),
  previous_memory: z.string().optional(),
});

export const platformAddResponseSchema = z
  .object({
    message: z.string(),
    status: z.enum(['PENDING', 'SUCCEEDED']),
    event_id: z.string().optional(),
    results: z.array(platformChangeSchema).optional(),
  })
  .openapi('Mem0PlatformAddResponse');

export const platformMemorySchema = z
  .object({
    id: z.string(),
    memory: z.string(),
    hash: z.string().optional(),
    user_id: z.string().nullable(),
    agent_id: z.string().nullable(),
    app_id: z.string().nullable(),
    run_id: z.string().nullable(),
    metadata: z.record(z.string(), z.unknown()),
    categories: z.array(z.string()),
    created_at: z.string(),
    updated_at: z.string(),
    expiration_date: z
      .string()
      .nullable()
      .openapi({ description: 'When the memory expires (ISO-8601), or null.' }),
  })
  .openapi('Mem0PlatformMemory');

export const platformSearchRequestSchema = z
  .object({
    query: z.string().min(1).max(maxTextCharacters).regex(/\S/),
    filters: filtersSchema.optional(),
    user_id: entityId.optional(),
    agent_id: entityId.optional(),
    run_id: entityId.optional(),
    app_id: entityId.optional(),
    metadata: metadataSchema.optional().openapi({ description: 'Metadata the results must hold.' }),
    top_k: z.number().int().min(1).max(1000).optional(),
    limit: z.number().int().min(1).max(1000).optional(),
    threshold: z.number().min(0).max(1).nullable().optional(),
    rerank: z.boolean().optional(),
    keyword_search: z.boolean().optional(),
    output_format: z.string().max(16).nullable().optional(),
    version: z.string().max(16).nullable().optional(),
    fields: z.array(z.string().max(64)).max(64).optional(),
    latest_only: z.boolean().optional(),
    show_expired: z.boolean().optional(),
    categories: unsupported,
    reference_date: unsupported,
  })
  .openapi('Mem0PlatformSearchRequest');

export const platformSearchResponseSchema = z
  .object({ results: z.array(platformMemorySchema.extend({ score: z.number() })) })
  .openapi('Mem0PlatformSearchResponse');

const pageNumber = z.coerce.number().int().min(1).max(1_000_000);
const pageSize = z.coerce.number().int().min(1).max(1000);

export const platformListQuerySchema = z.object({
  page: pageNumber.optional(),
  page_size: pageSize.optional().openapi({ description: 'Default 100, at most 1000.' }),
});

export const platformListRequestSchema = z
  .object({
    filters: filtersSchema.optional(),
    page: pageNumber.optional(),
    page_size: pageSize.optional(),
    fields: z.array(z.string().max(64)).max(64).optional(),
    show_expired: z.boolean().optional(),
    latest_only: z.boolean().optional(),
    start_date: unsupported,
    end_date: unsupported,
    categories: unsupported,
    keywords: unsupported,
  })
  .openapi('Mem0PlatformListRequest');

export const platformListResponseSchema = z
  .object({
    count: z.number().int(),
    next: z.string().nullable(),
    previous: z.string().nullable(),
    results: z.array(platformMemorySchema.extend({ session_id: z.string().nullable() })),
  })
  .openapi('Mem0PlatformMemoryPage');

export const platformUpdateRequestSchema = z
  .object({
    text: z.string().min(1).max(maxTextCharacters).regex(/\S/).optional(),
    metadata: metadataSchema.optional(),
    expiration_date: expirationDate,
    timestamp: unsupported,
  })
  .openapi('Mem0PlatformUpdateRequest');

export const platformMemoryIdParamsSchema = z.object({
  memory_id: memoryIdSchema.openapi({ param: { name: 'memory_id', in: 'path' } }),
});

export const platformDeleteQuerySchema = z.object({
  delete_linked: z.enum(['true', 'false', 'True', 'False']).optional().openapi({
    description: 'Accepted; Engram keeps no chains of superseded memories, so nothing more goes.',
  }),
});

export const platformDeleteAllQuerySchema = z.object({
  user_id: entityId.optional(),
  agent_id: entityId.optional(),
  run_id: entityId.optional(),
  app_id: entityId.optional(),
  org_id: z.string().max(256).optional(),
  project_id: z.string().max(256).optional(),
});

export const platformHistorySchema = z
  .array(
    z.object({
      id: z.string(),
      memory_id: z.string(),
      input: z.array(z.object({ role: z.string(), content: z.string() })),
      old_memory: z.string().nullable(),
      new_memory: z.string().nullable(),
      user_id: z.string().nullable(),
      agent_id: z.string().nullable(),
      run_id: z.string().nullable(),
      categories: z.array(z.string()),
      event: z.string(),
      metadata: z.null(),
      created_at: z.string(),
      updated_at: z.string(),
    }),
  )
  .openapi('Mem0PlatformHistory');

export const platformBatchUpdateRequestSchema = z
  .object({
    memories: z
      .array(
        z.object({
          memory_id: memoryIdSchema,
          text: z.string().min(1).max(maxTextCharacters).regex(/\S/).optional(),
          metadata: metadataSchema.optional(),
        }),
      )
      .min(1)
      .max(1000),
  })
  .openapi('Mem0PlatformBatchUpdateRequest');

export const platformBatchDeleteRequestSchema = z
  .object({
    memories: z
      .array(z.object({ memory_id: memoryIdSchema }))
      .min(1)
      .max(1000),
  })
  .openapi('Mem0PlatformBatchDeleteRequest');

export const platformMessageSchema = z
  .object({ message: z.string() })
  .openapi('Mem0PlatformMessage');

export const platformPingSchema = z
  .object({ status: z.literal('ok'), org_id: z.string(), project_id: z.string() })
  .openapi('Mem0PlatformPing');

export const platformEventIdParamsSchema = z.object({
  event_id: z
    .string()
    .min(1)
    .max(128)
    .openapi({ param: { name: 'event_id', in: 'path' } }),
});

export const platformEventSchema = z
  .object({
    id: z.string(),
    event_type: z.literal('ADD'),
    status: z.enum(['PENDING', 'RUNNING', 'SUCCEEDED', 'FAILED']),
    results: z.array(platformChangeSchema),
    created_at: z.string(),
    updated_at: z.string(),
    completed_at: z.string().nullable(),
    error: z.string().nullable(),
  })
  .openapi('Mem0PlatformEvent');

export const platformErrorSchema = z
  .object({
    error: z.string(),
    detail: z.string(),
    code: z.string().openapi({ example: 'invalid_argument' }),
  })
  .openapi('Mem0PlatformError', {
    description: 'mem0 clients show `detail` (Python) or the body (JavaScript).',
  });
