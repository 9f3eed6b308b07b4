import { type HistoryEvent, type MemoryItem, normalizeScope, type Scope } from '@engram/core';
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import {
  addRequestSchema,
  addResultSchema,
  deleteAllResultSchema,
  deleteResultSchema,
  errorSchema,
  exportQuerySchema,
  historyResponseSchema,
  idParamsSchema,
  importRequestSchema,
  jobAcceptedSchema,
  jobIdParamsSchema,
  jobSchema,
  listQuerySchema,
  listResponseSchema,
  memoryItemSchema,
  scopeQuerySchema,
  searchRequestSchema,
  searchResponseSchema,
  updateRequestSchema,
} from './api-schemas.js';
import { type AppContext, type AppEnv, runAdd } from './app-context.js';
import { ApiError } from './http-errors.js';

const json = <T extends z.ZodType>(schema: T, description: string) => ({
  content: { 'application/json': { schema } },
  description,
});

const errorResponse = (description: string) => json(errorSchema, description);

/** Error answers every authenticated route may give. */
export const errorResponses = {
  400: errorResponse('The request is malformed; the message says which field to fix.'),
  401: errorResponse('No valid API key.'),
  413: errorResponse('The request body is too large.'),
  422: errorResponse(
    'The configured store does not support what was asked (e.g. a filter operator).',
  ),
  429: errorResponse('Rate limit reached; retry after `Retry-After` seconds.'),
  500: errorResponse('Internal error.'),
  502: errorResponse('A model or database call failed.'),
  503: errorResponse('A backend is unavailable or the server is shutting down; retry.'),
};

const notFound = { 404: errorResponse('No such memory in this project.') };

/** Security requirement of every `/v1` and mem0 route. */
export const security: Array<Record<string, string[]>> = [{ bearerAuth: [] }, { apiKeyHeader: [] }];

const body = <T extends z.ZodType>(schema: T) => ({
  body: { content: { 'application/json': { schema } }, required: true },
});

export function scopeOf(input: {
  userId?: string | undefined;
  agentId?: string | undefined;
  runId?: string | undefined;
}): Scope {
  const scope: Scope = {};
  if (input.userId !== undefined) scope.userId = input.userId;
  if (input.agentId !== undefined) scope.agentId = input.agentId;
  if (input.runId !== undefined) scope.runId = input.runId;
  return scope;
}

/** The memory of a project by id, or a 404 (also for ids that belong to other projects). */
export async function requireMemory(
  context: AppContext,
  project: string,
  id: string,
): Promise<MemoryItem> {
  const memory = await context.projects.memory(project);
  const item = await memory.get(id);
  if (!item) throw new ApiError(404, 'not_found', `No memory with id "${id}" in this project.`);
  return item;
}

/** History of a memory of the project; a 404 when the id is unknown to the project. */
export async function projectHistory(
  context: AppContext,
  project: string,
  id: string,
): Promise<HistoryEvent[]> {
  const memory = await context.projects.memory(project);
  // A history store shared by several projects cannot tell them apart: only memories that
  // exist in this project's collection are answered.
  if (context.projects.sharedHistory) await requireMemory(context, project, id);
  const events = await memory.history(id);
  if (events.length === 0) {
    throw new ApiError(404, 'not_found', `No memory with id "${id}" in this project.`);
  }
  return events;
}

const addRoute = createRoute({
  method: 'post',
  path: '/v1/memories',
  tags: ['memories'],
  summary: 'Remember a conversation',
  description:
    "With an LLM configured, extracts facts and reconciles them with the scope's memories; otherwise (or with `infer: false`) stores the messages as they are. With `async: true`, answers 202 with a job id at once.",
  security,
  request: body(addRequestSchema),
  responses: {
    200: json(addResultSchema, 'What changed.'),
    202: json(jobAcceptedSchema, 'Queued; poll the job.'),
    ...errorResponses,
  },
});

const searchRoute = createRoute({
  method: 'post',
  path: '/v1/search',
  tags: ['memories'],
  summary: 'Find the memories that matter for a query',
  security,
  request: body(searchRequestSchema),
  responses: { 200: json(searchResponseSchema, 'Best matches first.'), ...errorResponses },
});

const listRoute = createRoute({
  method: 'get',
  path: '/v1/memories',
  tags: ['memories'],
  summary: "List a scope's memories, a page at a time",
  security,
  request: { query: listQuerySchema },
  responses: {
    200: json(listResponseSchema, 'One page; pass `nextCursor` back as `cursor`.'),
    ...errorResponses,
  },
});

const getRoute = createRoute({
  method: 'get',
  path: '/v1/memories/{id}',
  tags: ['memories'],
  summary: 'One memory',
  security,
  request: { params: idParamsSchema },
  responses: { 200: json(memoryItemSchema, 'The memory.'), ...notFound, ...errorResponses },
});

const updateRoute = createRoute({
  method: 'patch',
  path: '/v1/memories/{id}',
  tags: ['memories'],
  summary: "Change a memory's text and/or merge metadata",
  security,
  request: { params: idParamsSchema, ...body(updateRequestSchema) },
  responses: {
    200: json(memoryItemSchema, 'The memory after the change.'),
    ...notFound,
    ...errorResponses,
  },
});

const deleteRoute = createRoute({
  method: 'delete',
  path: '/v1/memories/{id}',
  tags: ['memories'],
  summary: 'Delete one memory',
  security,
  request: { params: idParamsSchema },
  responses: { 200: json(deleteResultSchema, 'Deleted.'), ...notFound, ...errorResponses },
});

const deleteAllRoute = createRoute({
  method: 'delete',
  path: '/v1/memories',
  tags: ['memories'],
  summary: 'Delete every memory of a scope',
  security,
  request: { query: scopeQuerySchema },
  responses: { 200: json(deleteAllResultSchema, 'How many were deleted.'), ...errorResponses },
});

const historyRoute = createRoute({
  method: 'get',
  path: '/v1/memories/{id}/history',
  tags: ['memories'],
  summary: 'Every change of one memory, oldest first',
  security,
  request: { params: idParamsSchema },
  responses: { 200: json(historyResponseSchema, 'The changes.'), ...notFound, ...errorResponses },
});

const exportRoute = createRoute({
  method: 'get',
  path: '/v1/export',
  tags: ['memories'],
  summary: 'Export a scope',
  description:
    '`format=jsonl` (default) streams every memory of the scope, one JSON object per line (what `/v1/import` and `engram import` read); `format=json` answers one page with a cursor.',
  security,
  request: { query: exportQuerySchema },
  responses: {
    200: {
      content: {
        'application/x-ndjson': { schema: z.string() },
        'application/json': { schema: listResponseSchema },
      },
      description: 'The memories.',
    },
    ...errorResponses,
  },
});

const importRoute = createRoute({
  method: 'post',
  path: '/v1/import',
  tags: ['memories'],
  summary: 'Store memories as they are (no inference), keeping given ids and times',
  security,
  request: body(importRequestSchema),
  responses: { 200: json(addResultSchema, 'What was stored.'), ...errorResponses },
});

const jobRoute = createRoute({
  method: 'get',
  path: '/v1/jobs/{id}',
  tags: ['jobs'],
  summary: 'State of an asynchronous add',
  security,
  request: { params: jobIdParamsSchema },
  responses: {
    200: json(jobSchema, 'The job.'),
    404: errorResponse('No such job in this project.'),
    ...errorResponses,
  },
});

/** Registers the `/v1` routes. */
export function registerApiRoutes(app: OpenAPIHono<AppEnv>, context: AppContext): void {
  app.openapi(addRoute, async (c) => {
    const { project } = c.get('identity');
    const input = c.req.valid('json');
    const data = {
      project,
      messages: input.messages,
      options: {
        ...scopeOf(input),
        ...(input.metadata ? { metadata: input.metadata as Record<string, never> } : {}),
        ...(input.infer === undefined ? {} : { infer: input.infer }),
      },
    };
    if (input.async) {
      normalizeScope(data.options, { required: true });
      const jobId = await context.jobs.enqueue(data);
      return c.json({ jobId, status: 'queued' as const, statusUrl: `/v1/jobs/${jobId}` }, 202);
    }
    return c.json(await runAdd(context, data, 'sync'), 200);
  });

  app.openapi(searchRoute, async (c) => {
    const { project } = c.get('identity');
    const input = c.req.valid('json');
    const memory = await context.projects.memory(project);
    const stop = context.metrics.searchLatency.startTimer();
    try {
      const result = await memory.search(input.query, {
        ...scopeOf(input),
        ...(input.filters ? { filters: input.filters as never } : {}),
        ...(input.limit === undefined ? {} : { limit: input.limit }),
        ...(input.threshold === undefined ? {} : { threshold: input.threshold }),
        ...(input.keywordSearch === undefined ? {} : { keywordSearch: input.keywordSearch }),
        ...(input.rerank === undefined ? {} : { rerank: input.rerank }),
      });
      context.metrics.searches.inc();
      return c.json(result, 200);
    } finally {
      stop();
    }
  });

  app.openapi(listRoute, async (c) => {
    const { project } = c.get('identity');
    const input = c.req.valid('query');
    const memory = await context.projects.memory(project);
    const page = await memory.list({
      ...scopeOf(input),
      ...(input.limit === undefined ? {} : { limit: input.limit }),
      ...(input.cursor === undefined ? {} : { cursor: input.cursor }),
    });
    return c.json(page, 200);
  });

  app.openapi(getRoute, async (c) => {
    const { project } = c.get('identity');
    return c.json(await requireMemory(context, project, c.req.valid('param').id), 200);
  });

  app.openapi(updateRoute, async (c) => {
    const { project } = c.get('identity');
    const { id } = c.req.valid('param');
    const input = c.req.valid('json');
    if (input.text === undefined && input.metadata === undefined) {
      throw new ApiError(400, 'invalid_argument', 'Send "text" and/or "metadata" to change.');
    }
    await requireMemory(context, project, id);
    const memory = await context.projects.memory(project);
    const item = await memory.update(id, {
      ...(input.text === undefined ? {} : { text: input.text }),
      ...(input.metadata === undefined
        ? {}
        : { metadata: input.metadata as Record<string, never> }),
    });
    return c.json(item, 200);
  });

  app.openapi(deleteRoute, async (c) => {
    const { project } = c.get('identity');
    const { id } = c.req.valid('param');
    await requireMemory(context, project, id);
    const memory = await context.projects.memory(project);
    return c.json(await memory.delete(id), 200);
  });

  app.openapi(deleteAllRoute, async (c) => {
    const { project } = c.get('identity');
    const memory = await context.projects.memory(project);
    return c.json(await memory.deleteAll(scopeOf(c.req.valid('query'))), 200);
  });

  app.openapi(historyRoute, async (c) => {
    const { project } = c.get('identity');
    const events = await projectHistory(context, project, c.req.valid('param').id);
    return c.json({ results: events }, 200);
  });

  app.openapi(exportRoute, async (c) => {
    const { project } = c.get('identity');
    const input = c.req.valid('query');
    const memory = await context.projects.memory(project);
    const scope = scopeOf(input);
    const first = await memory.list({
      ...scope,
      limit: input.format === 'json' ? (input.limit ?? 100) : 500,
      ...(input.cursor === undefined ? {} : { cursor: input.cursor }),
    });
    if (input.format === 'json') return c.json(first, 200);
    const logger = c.get('logger');
    const encoder = new TextEncoder();
    let page: { results: MemoryItem[]; nextCursor?: string } | undefined = first;
    const stream = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (!page) {
          controller.close();
          return;
        }
        const lines = page.results.map((item) => `${JSON.stringify(item)}\n`).join('');
        if (lines) controller.enqueue(encoder.encode(lines));
        const cursor = page.nextCursor;
        try {
          page = cursor ? await memory.list({ ...scope, limit: 500, cursor }) : undefined;
        } catch (error) {
          logger.error({ err: error }, 'export stopped');
          controller.error(error);
        }
      },
    });
    return new Response(stream, {
      status: 200,
      headers: { 'Content-Type': 'application/x-ndjson; charset=utf-8' },
    }) as never;
  });

  app.openapi(importRoute, async (c) => {
    const { project } = c.get('identity');
    const input = c.req.valid('json');
    const memory = await context.projects.memory(project);
    const result = await memory.import(
      input.items.map((item) => ({
        ...scopeOf(item),
        text: item.text,
        ...(item.metadata ? { metadata: item.metadata as Record<string, never> } : {}),
        ...(item.id === undefined ? {} : { id: item.id }),
        ...(item.createdAt === undefined ? {} : { createdAt: item.createdAt }),
        ...(item.updatedAt === undefined ? {} : { updatedAt: item.updatedAt }),
      })),
    );
    const added = result.results.filter((change) => change.event === 'ADD').length;
    if (added > 0) context.metrics.memoriesAdded.inc(added);
    return c.json(result, 200);
  });

  app.openapi(jobRoute, async (c) => {
    const { project } = c.get('identity');
    const { id } = c.req.valid('param');
    const job = await context.jobs.get(id, project);
    if (!job) throw new ApiError(404, 'not_found', `No job with id "${id}" in this project.`);
    return c.json(job, 200);
  });
}
