import { checkMetadata, type MemoryItem, normalizeMessages, normalizeScope } from '@engram/core';
import { type OpenAPIHono, z } from '@hono/zod-openapi';
import {
  addRequestSchema,
  addResultSchema,
  byIdEraseQuerySchema,
  byIdScopeQuerySchema,
  deleteAllResultSchema,
  deleteResultSchema,
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
  resetRequestSchema,
  scopeEraseQuerySchema,
  searchRequestSchema,
  searchResponseSchema,
  updateRequestSchema,
} from './api-schemas.js';
import { type AppContext, type AppEnv, runAdd } from './app-context.js';
import { ApiError } from './http-errors.js';
import {
  addJobData,
  authenticatedRoute,
  body,
  definedFields,
  deleteProjectMemory,
  errorResponse,
  json,
  notFound,
  parseFilterParameter,
  projectHistory,
  requireMemory,
  scopeOf,
  searchProject,
  updateProjectMemory,
} from './route-kit.js';

export {
  errorResponses,
  projectHistory,
  requireMemory,
  scopeOf,
  security,
} from './route-kit.js';

const addRoute = authenticatedRoute({
  method: 'post',
  path: '/v1/memories',
  tags: ['memories'],
  summary: 'Remember a conversation',
  description:
    "With an LLM configured, extracts facts and reconciles them with the scope's memories; otherwise (or with `infer: false`) stores the messages as they are. With `async: true`, answers 202 with a job id at once.",
  request: body(addRequestSchema),
  responses: {
    200: json(addResultSchema, 'What changed.'),
    202: json(jobAcceptedSchema, 'Queued; poll the job.'),
  },
});

const searchRoute = authenticatedRoute({
  method: 'post',
  path: '/v1/search',
  tags: ['memories'],
  summary: 'Find the memories that matter for a query',
  request: body(searchRequestSchema),
  responses: { 200: json(searchResponseSchema, 'Best matches first.') },
});

const listRoute = authenticatedRoute({
  method: 'get',
  path: '/v1/memories',
  tags: ['memories'],
  summary: "List a scope's memories, a page at a time",
  request: { query: listQuerySchema },
  responses: {
    200: json(listResponseSchema, 'One page; pass `nextCursor` back as `cursor`.'),
  },
});

const getRoute = authenticatedRoute({
  method: 'get',
  path: '/v1/memories/{id}',
  tags: ['memories'],
  summary: 'One memory',
  request: { params: idParamsSchema, query: byIdScopeQuerySchema },
  responses: { 200: json(memoryItemSchema, 'The memory.'), ...notFound },
});

const updateRoute = authenticatedRoute({
  method: 'patch',
  path: '/v1/memories/{id}',
  tags: ['memories'],
  summary: "Change a memory's text and/or merge metadata",
  request: { params: idParamsSchema, query: byIdScopeQuerySchema, ...body(updateRequestSchema) },
  responses: {
    200: json(memoryItemSchema, 'The memory after the change.'),
    ...notFound,
  },
});

const deleteRoute = authenticatedRoute({
  method: 'delete',
  path: '/v1/memories/{id}',
  tags: ['memories'],
  summary: 'Delete one memory',
  description: 'With `erase=true`, the texts of its history events are erased too.',
  request: { params: idParamsSchema, query: byIdEraseQuerySchema },
  responses: { 200: json(deleteResultSchema, 'Deleted.'), ...notFound },
});

const deleteAllRoute = authenticatedRoute({
  method: 'delete',
  path: '/v1/memories',
  tags: ['memories'],
  summary: 'Delete every memory of a scope',
  description:
    'With `erase=true`, every history event of the scope loses its texts too (inputs of failed inferences included).',
  request: { query: scopeEraseQuerySchema },
  responses: { 200: json(deleteAllResultSchema, 'How many were deleted.') },
});

const resetRoute = authenticatedRoute({
  method: 'post',
  path: '/v1/reset',
  tags: ['memories'],
  summary: 'Forget a scope completely (admin keys only)',
  description:
    "Deletes the scope's memories, its whole history and its graph relations in the key's project. Needs an admin key (`engram keys create --project <name> --admin`).",
  request: body(resetRequestSchema),
  responses: {
    200: json(deleteAllResultSchema, 'How many memories were deleted.'),
    403: errorResponse('The key is not an admin key.'),
  },
});

const historyRoute = authenticatedRoute({
  method: 'get',
  path: '/v1/memories/{id}/history',
  tags: ['memories'],
  summary: 'Every change of one memory, oldest first',
  request: { params: idParamsSchema, query: byIdScopeQuerySchema },
  responses: { 200: json(historyResponseSchema, 'The changes.'), ...notFound },
});

const exportRoute = authenticatedRoute({
  method: 'get',
  path: '/v1/export',
  tags: ['memories'],
  summary: 'Export a scope',
  description:
    '`format=jsonl` (default) streams every memory of the scope, one JSON object per line (what `/v1/import` and `engram import` read); `format=json` answers one page with a cursor.',
  request: { query: exportQuerySchema },
  responses: {
    200: {
      content: {
        'application/x-ndjson': { schema: z.string() },
        'application/json': { schema: listResponseSchema },
      },
      description: 'The memories.',
    },
  },
});

const importRoute = authenticatedRoute({
  method: 'post',
  path: '/v1/import',
  tags: ['memories'],
  summary: 'Store memories as they are (no inference), keeping given ids and times',
  request: body(importRequestSchema),
  responses: { 200: json(addResultSchema, 'What was stored.') },
});

const jobRoute = authenticatedRoute({
  method: 'get',
  path: '/v1/jobs/{id}',
  tags: ['jobs'],
  summary: 'State of an asynchronous add',
  request: { params: jobIdParamsSchema },
  responses: {
    200: json(jobSchema, 'The job.'),
    404: errorResponse('No such job in this project.'),
  },
});

/** Registers the `/v1` routes. */
export function registerApiRoutes(app: OpenAPIHono<AppEnv>, context: AppContext): void {
  app.openapi(addRoute, async (c) => {
    const { project } = c.get('identity');
    const input = c.req.valid('json');
    const data = addJobData(project, input, scopeOf(input));
    if (input.async) {
      // Checked now, so that bad input is a 400 rather than a failed job.
      normalizeScope(data.options, { required: true });
      normalizeMessages(data.messages);
      checkMetadata(data.options.metadata);
      const jobId = await context.jobs.enqueue(data);
      return c.json({ jobId, status: 'queued' as const, statusUrl: `/v1/jobs/${jobId}` }, 202);
    }
    return c.json(await runAdd(context, data, 'sync'), 200);
  });

  app.openapi(searchRoute, async (c) => {
    const { project } = c.get('identity');
    const input = c.req.valid('json');
    const result = await searchProject(context, project, input.query, {
      ...scopeOf(input),
      ...definedFields({
        filters: input.filters as never,
        limit: input.limit,
        threshold: input.threshold,
        keywordSearch: input.keywordSearch,
        rerank: input.rerank,
        rewriteQuery: input.rewriteQuery,
        explain: input.explain,
        context: input.context,
      }),
    });
    return c.json(result, 200);
  });

  app.openapi(listRoute, async (c) => {
    const { project } = c.get('identity');
    const input = c.req.valid('query');
    const memory = await context.projects.memory(project);
    const page = await memory.list({
      ...scopeOf(input),
      ...definedFields({
        limit: input.limit,
        cursor: input.cursor,
        filters: parseFilterParameter(input.filters),
      }),
    });
    return c.json(page, 200);
  });

  app.openapi(getRoute, async (c) => {
    const { project } = c.get('identity');
    const { id } = c.req.valid('param');
    return c.json(await requireMemory(context, project, id, scopeOf(c.req.valid('query'))), 200);
  });

  app.openapi(updateRoute, async (c) => {
    const { project } = c.get('identity');
    const change = c.req.valid('json');
    const nothingToChange = 'Send "text", "metadata" and/or "expiresAt" to change.';
    const { id } = c.req.valid('param');
    const scope = scopeOf(c.req.valid('query'));
    return c.json(
      await updateProjectMemory(context, project, id, change, nothingToChange, scope),
      200,
    );
  });

  app.openapi(deleteRoute, async (c) => {
    const { project } = c.get('identity');
    const { id } = c.req.valid('param');
    const { erase, ...scope } = c.req.valid('query');
    return c.json(await deleteProjectMemory(context, project, id, scopeOf(scope), erase), 200);
  });

  app.openapi(deleteAllRoute, async (c) => {
    const { project } = c.get('identity');
    const input = c.req.valid('query');
    const memory = await context.projects.memory(project);
    return c.json(
      await memory.deleteAll({ ...scopeOf(input), erase: input.erase === 'true' }),
      200,
    );
  });

  app.openapi(resetRoute, async (c) => {
    const { project, admin } = c.get('identity');
    if (!admin) {
      throw new ApiError(
        403,
        'forbidden',
        'Resetting a scope needs an admin key of this project: create one with `engram keys create --project <name> --admin`.',
      );
    }
    const memory = await context.projects.memory(project);
    return c.json(await memory.reset(scopeOf(c.req.valid('json'))), 200);
  });

  app.openapi(historyRoute, async (c) => {
    const { project } = c.get('identity');
    const { id } = c.req.valid('param');
    const events = await projectHistory(context, project, id, scopeOf(c.req.valid('query')));
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
      ...definedFields({ cursor: input.cursor }),
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
        ...definedFields({
          id: item.id,
          createdAt: item.createdAt,
          updatedAt: item.updatedAt,
          expiresAt: item.expiresAt,
        }),
      })),
    );
    const added = result.results.filter((change) => change.event === 'ADD').length;
    if (added > 0) context.metrics.memoriesAdded.inc(added);
    context.metrics.projectUsage.recordImport(project, added);
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
