import {
  checkMetadata,
  type Memory,
  type MemoryChange,
  type MemoryItem,
  normalizeMessages,
  normalizeScope,
} from '@engram/core';
import { createRoute, type OpenAPIHono, type RouteConfig, type z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { type AppContext, type AppEnv, runAdd } from './app-context.js';
import { ApiError } from './http-errors.js';
import type { JobInfo } from './job-queue.js';
import { type Mem0Selection, requireScope, translateMem0Filters } from './mem0-platform-filters.js';
import {
  platformAddRequestSchema,
  platformAddResponseSchema,
  platformBatchDeleteRequestSchema,
  platformBatchUpdateRequestSchema,
  platformDeleteAllQuerySchema,
  platformDeleteQuerySchema,
  platformErrorSchema,
  platformEventIdParamsSchema,
  platformEventSchema,
  platformHistorySchema,
  platformListQuerySchema,
  platformListRequestSchema,
  platformListResponseSchema,
  platformMemoryIdParamsSchema,
  platformMemorySchema,
  platformMessageSchema,
  platformPingSchema,
  platformSearchRequestSchema,
  platformSearchResponseSchema,
  platformUpdateRequestSchema,
} from './mem0-platform-schemas.js';
import {
  addJobData,
  body,
  definedFields,
  deleteProjectMemory,
  json,
  projectHistory,
  requireMemory,
  searchProject,
  security,
  updateProjectMemory,
} from './route-kit.js';

/**
 * Whether a path belongs to the mem0 platform API, whose errors take mem0's shape: everything
 * under `/v2/`, `/v3/` and `/api/`, and paths under `/v1/` that end in a slash (Engram's own
 * `/v1` paths never do).
 */
export function isMem0PlatformPath(path: string): boolean {
  return /^\/(?:v2|v3|api)\//.test(path) || (path.startsWith('/v1/') && path.endsWith('/'));
}

/** An error in mem0's shape: its clients show `detail` (Python) or the whole body. */
export function mem0ErrorBody(code: string, message: string) {
  return { error: message, detail: message, code };
}

const platformError = (description: string) => json(platformErrorSchema, description);

const platformErrorResponses = {
  400: platformError('The request is malformed or asks for what Engram does not support.'),
  401: platformError('No valid API key.'),
  413: platformError('The request body is too large.'),
  431: {
    description:
      "The request line or headers are larger than the server accepts (16 KiB, Node.js's limit; answered before the request reaches Engram, with no body): send long values in a request body.",
  },
  422: platformError('The configured store does not support what was asked.'),
  429: platformError('Rate limit reached; retry after `Retry-After` seconds.'),
  500: platformError('Internal error.'),
  502: platformError('A model or database call failed.'),
  503: platformError('A backend is unavailable or the server is shutting down; retry.'),
};

const notFound = { 404: platformError('No such memory in this project.') };
const tags = ['mem0-platform'];

function platformRoute<const Route extends Omit<RouteConfig, 'security' | 'tags'>>(route: Route) {
  return createRoute({
    ...route,
    tags,
    security: [{ tokenAuth: [] }, ...security],
    responses: { ...route.responses, ...platformErrorResponses },
  });
}

/** Refuses the fields of a request Engram does not implement, naming them. */
function refuseUnsupported(input: Record<string, unknown>, names: readonly string[]): void {
  const given = names.filter((name) => input[name] !== undefined && input[name] !== null);
  if (given.length > 0) {
    throw new ApiError(
      400,
      'invalid_argument',
      `Not supported by Engram: ${given.join(', ')}; leave ${given.length === 1 ? 'it' : 'them'} out.`,
    );
  }
}

function appIdOf(item: MemoryItem): string | null {
  return typeof item.metadata.app_id === 'string' ? item.metadata.app_id : null;
}

/** mem0's `expiration_date` as an ISO time: a date is kept through its last moment (UTC). */
function expiresAtOf(value: string | null | undefined): string | undefined {
  if (value === undefined || value === null) return undefined;
  const dateOnly = /^\d{4}-\d\d-\d\d$/.test(value);
  const time = Date.parse(dateOnly ? `${value}T00:00:00Z` : value);
  if (Number.isNaN(time)) {
    throw new ApiError(
      400,
      'invalid_argument',
      `expiration_date must be a date such as 2030-01-31, got "${value}".`,
    );
  }
  return new Date(dateOnly ? time + 24 * 60 * 60 * 1000 : time).toISOString();
}

/** A memory in the platform's shape. */
function toPlatformMemory(item: MemoryItem): z.infer<typeof platformMemorySchema> {
  return {
    id: item.id,
    memory: item.memory,
    ...definedFields({ hash: item.hash }),
    user_id: item.userId ?? null,
    agent_id: item.agentId ?? null,
    app_id: appIdOf(item),
    run_id: item.runId ?? null,
    metadata: item.metadata,
    categories: [],
    created_at: item.createdAt,
    updated_at: item.updatedAt,
    expiration_date: item.expiresAt ?? null,
  };
}

function toPlatformChange(change: MemoryChange) {
  return {
    id: change.id,
    event: change.event,
    memory: change.memory,
    data: { memory: change.memory },
    ...definedFields({ previous_memory: change.previousMemory }),
  };
}

const eventStatus = {
  queued: 'PENDING',
  running: 'RUNNING',
  completed: 'SUCCEEDED',
  failed: 'FAILED',
} as const;

function toPlatformEvent(job: JobInfo): z.infer<typeof platformEventSchema> {
  return {
    id: job.id,
    event_type: 'ADD',
    status: eventStatus[job.status],
    results: (job.result?.results ?? []).map(toPlatformChange),
    created_at: job.createdAt,
    updated_at: job.finishedAt ?? job.createdAt,
    completed_at: job.finishedAt ?? null,
    error: job.error?.message ?? null,
  };
}

/** Every memory of a selection, page by page (the store pages with cursors, mem0 by number). */
async function* selected(memory: Memory, selection: Mem0Selection) {
  let cursor: string | undefined;
  do {
    const page = await memory.list({
      ...selection.scope,
      limit: 1000,
      ...definedFields({ filters: selection.filter, cursor }),
    });
    yield* page.results;
    cursor = page.nextCursor;
  } while (cursor);
}

const pingRoute = platformRoute({
  method: 'get',
  path: '/v1/ping/',
  summary: 'Check the API key (mem0 platform)',
  responses: { 200: json(platformPingSchema, 'The key is valid; `project_id` is its project.') },
});

const addRoute = platformRoute({
  method: 'post',
  path: '/v3/memories/add/',
  summary: 'Add memories (mem0 platform)',
  description:
    'With `infer: false` (and no `async_mode: true`), stores the messages at once and answers `SUCCEEDED` with the results; otherwise queues the add and answers `PENDING` with an `event_id`.',
  request: body(platformAddRequestSchema),
  responses: { 200: json(platformAddResponseSchema, 'Stored, or queued.') },
});

const eventRoute = platformRoute({
  method: 'get',
  path: '/v1/event/{event_id}/',
  summary: 'State of an asynchronous add (mem0 platform)',
  request: { params: platformEventIdParamsSchema },
  responses: {
    200: json(platformEventSchema, 'The event.'),
    404: platformError('No such event in this project.'),
  },
});

const searchRoute = platformRoute({
  method: 'post',
  path: '/v3/memories/search/',
  summary: 'Search memories (mem0 platform)',
  request: body(platformSearchRequestSchema),
  responses: { 200: json(platformSearchResponseSchema, 'Best matches first.') },
});

const listRoute = platformRoute({
  method: 'post',
  path: '/v3/memories/',
  summary: 'List memories, page by page (mem0 platform)',
  request: { query: platformListQuerySchema, ...body(platformListRequestSchema) },
  responses: { 200: json(platformListResponseSchema, 'One page and the total count.') },
});

const getRoute = platformRoute({
  method: 'get',
  path: '/v1/memories/{memory_id}/',
  summary: 'Get a memory (mem0 platform)',
  request: { params: platformMemoryIdParamsSchema },
  responses: { 200: json(platformMemorySchema, 'The memory.'), ...notFound },
});

const updateRoute = platformRoute({
  method: 'put',
  path: '/v1/memories/{memory_id}/',
  summary: 'Update a memory (mem0 platform)',
  request: { params: platformMemoryIdParamsSchema, ...body(platformUpdateRequestSchema) },
  responses: { 200: json(platformMemorySchema, 'The memory as updated.'), ...notFound },
});

const deleteRoute = platformRoute({
  method: 'delete',
  path: '/v1/memories/{memory_id}/',
  summary: 'Delete a memory (mem0 platform)',
  request: { params: platformMemoryIdParamsSchema, query: platformDeleteQuerySchema },
  responses: { 200: json(platformMessageSchema, 'Deleted.'), ...notFound },
});

const historyRoute = platformRoute({
  method: 'get',
  path: '/v1/memories/{memory_id}/history/',
  summary: 'History of a memory (mem0 platform)',
  request: { params: platformMemoryIdParamsSchema },
  responses: { 200: json(platformHistorySchema, 'The changes, oldest first.'), ...notFound },
});

const deleteAllRoute = platformRoute({
  method: 'delete',
  path: '/v1/memories/',
  summary: 'Delete every memory of a scope (mem0 platform)',
  description:
    'Needs `user_id`, `agent_id` or `run_id`: deleting every memory of a project at once is not offered. `app_id` narrows to that app.',
  request: { query: platformDeleteAllQuerySchema },
  responses: { 200: json(platformMessageSchema, 'Deleted.') },
});

const batchUpdateRoute = platformRoute({
  method: 'put',
  path: '/v1/batch/',
  summary: 'Update up to 1000 memories (mem0 platform)',
  description: 'Every id is checked first: one unknown id is a 404 and nothing changes.',
  request: body(platformBatchUpdateRequestSchema),
  responses: { 200: json(platformMessageSchema, 'Updated.'), ...notFound },
});

const batchDeleteRoute = platformRoute({
  method: 'delete',
  path: '/v1/batch/',
  summary: 'Delete up to 1000 memories (mem0 platform)',
  description: 'Every id is checked first: one unknown id is a 404 and nothing is deleted.',
  request: body(platformBatchDeleteRequestSchema),
  responses: { 200: json(platformMessageSchema, 'Deleted.'), ...notFound },
});

const platformRoutes = [
  pingRoute,
  addRoute,
  eventRoute,
  searchRoute,
  listRoute,
  getRoute,
  updateRoute,
  deleteRoute,
  historyRoute,
  deleteAllRoute,
  batchUpdateRoute,
  batchDeleteRoute,
].map((route) => ({
  method: route.method.toUpperCase(),
  pattern: new RegExp(`^${route.path.replace(/\{[^}]+\}/g, '[^/]+')}$`),
}));

function notImplemented(c: Context<AppEnv>): Response {
  const { method, path } = c.req;
  if (!isMem0PlatformPath(path)) {
    throw new ApiError(404, 'not_found', `No route ${method} ${path}; see /openapi.json.`);
  }
  const allowed = platformRoutes
    .filter((route) => route.pattern.test(path))
    .map((route) => route.method);
  if (allowed.length > 0) {
    throw new ApiError(
      405,
      'method_not_allowed',
      `${path} answers ${allowed.join(', ')}, not ${method}.`,
      { Allow: allowed.join(', ') },
    );
  }
  const message = `${method} ${path} is a mem0 platform route Engram does not implement (Engram serves ping, add, search, list, get, update, delete, delete all, history, batch update and delete, and add events); see /openapi.json.`;
  return c.json(mem0ErrorBody('not_implemented', message), 501);
}

/**
 * Registers the routes of mem0's platform API that its official clients (npm and PyPI `mem0ai`,
 * `MemoryClient`) use for memories, so that an application switches by changing `host` and the
 * key. Other platform routes answer 501 naming the route.
 */
export function registerMem0PlatformRoutes(app: OpenAPIHono<AppEnv>, context: AppContext): void {
  app.openAPIRegistry.registerComponent('securitySchemes', 'tokenAuth', {
    type: 'apiKey',
    in: 'header',
    name: 'Authorization',
    description: 'An Engram API key sent the way mem0 clients send theirs: `Token <key>`.',
  });

  const memoryOf = (c: Context<AppEnv>) => context.projects.memory(c.get('identity').project);

  app.openapi(pingRoute, (c) =>
    c.json({ status: 'ok' as const, org_id: 'engram', project_id: c.get('identity').project }, 200),
  );

  app.openapi(addRoute, async (c) => {
    const { project } = c.get('identity');
    const input = c.req.valid('json');
    refuseUnsupported(input, [
      'timestamp',
      'immutable',
      'structured_data_schema',
      'custom_instructions',
      'agent_custom_instructions',
      'custom_categories',
      'includes',
      'excludes',
    ]);
    const { app_id: filtersAppId, ...entities } = input.filters ?? {};
    const appId = input.app_id ?? (typeof filtersAppId === 'string' ? filtersAppId : undefined);
    const selection = translateMem0Filters(entities, {
      user_id: input.user_id,
      agent_id: input.agent_id,
      run_id: input.run_id,
    });
    if (selection.filter || (filtersAppId !== undefined && typeof filtersAppId !== 'string')) {
      throw new ApiError(
        400,
        'invalid_argument',
        'filters of an add may only hold one user_id, agent_id, run_id and app_id each; send metadata as a field of its own.',
      );
    }
    const metadata = appId === undefined ? input.metadata : { ...input.metadata, app_id: appId };
    const data = addJobData(
      project,
      {
        messages: input.messages,
        metadata,
        infer: input.infer,
        expiresAt: expiresAtOf(input.expiration_date),
      },
      selection.scope,
    );
    if (Object.keys(selection.scope).length === 0) {
      throw new ApiError(
        400,
        'invalid_argument',
        'Name at least one of user_id, agent_id or run_id (as a field or in filters).',
      );
    }
    if (input.async_mode ?? input.infer !== false) {
      normalizeScope(data.options, { required: true });
      normalizeMessages(data.messages);
      checkMetadata(data.options.metadata);
      const eventId = await context.jobs.enqueue(data);
      return c.json(
        {
          message: 'Memory processing has been queued for background execution.',
          status: 'PENDING' as const,
          event_id: eventId,
        },
        200,
      );
    }
    const result = await runAdd(context, data, 'sync');
    return c.json(
      {
        message: 'Memories added.',
        status: 'SUCCEEDED' as const,
        results: result.results.map(toPlatformChange),
      },
      200,
    );
  });

  app.openapi(eventRoute, async (c) => {
    const { project } = c.get('identity');
    const { event_id: id } = c.req.valid('param');
    const job = await context.jobs.get(id, project);
    if (!job) throw new ApiError(404, 'not_found', `No event with id "${id}" in this project.`);
    return c.json(toPlatformEvent(job), 200);
  });

  app.openapi(searchRoute, async (c) => {
    const { project } = c.get('identity');
    const input = c.req.valid('json');
    refuseUnsupported(input, ['categories', 'reference_date']);
    const selection = requireScope(
      translateMem0Filters(
        input.metadata && Object.keys(input.metadata).length > 0
          ? { AND: [input.filters ?? {}, { metadata: input.metadata }] }
          : input.filters,
        {
          user_id: input.user_id,
          agent_id: input.agent_id,
          run_id: input.run_id,
          app_id: input.app_id,
        },
      ),
    );
    const { results } = await searchProject(context, project, input.query, {
      ...selection.scope,
      ...definedFields({
        filters: selection.filter,
        limit: input.top_k ?? input.limit,
        threshold: input.threshold ?? undefined,
        rerank: input.rerank,
        keywordSearch: input.keyword_search,
      }),
    });
    return c.json(
      { results: results.map((item) => ({ ...toPlatformMemory(item), score: item.score })) },
      200,
    );
  });

  app.openapi(listRoute, async (c) => {
    const input = c.req.valid('json');
    const query = c.req.valid('query');
    refuseUnsupported(input, ['start_date', 'end_date', 'categories', 'keywords']);
    const selection = requireScope(translateMem0Filters(input.filters));
    const page = query.page ?? input.page ?? 1;
    const size = query.page_size ?? input.page_size ?? 100;
    const start = (page - 1) * size;
    const memory = await memoryOf(c);
    const results: MemoryItem[] = [];
    let count = 0;
    for await (const item of selected(memory, selection)) {
      if (count >= start && count < start + size) results.push(item);
      count++;
    }
    const pageUrl = (number: number) => {
      const url = new URL(c.req.url);
      url.searchParams.set('page', String(number));
      url.searchParams.set('page_size', String(size));
      return url.toString();
    };
    return c.json(
      {
        count,
        next: start + size < count ? pageUrl(page + 1) : null,
        previous: page > 1 ? pageUrl(Math.min(page - 1, Math.ceil(count / size) || 1)) : null,
        results: results.map((item) => ({
          ...toPlatformMemory(item),
          session_id: item.runId ?? null,
        })),
      },
      200,
    );
  });

  app.openapi(getRoute, async (c) => {
    const { project } = c.get('identity');
    const { memory_id: id } = c.req.valid('param');
    return c.json(toPlatformMemory(await requireMemory(context, project, id)), 200);
  });

  app.openapi(updateRoute, async (c) => {
    const { project } = c.get('identity');
    const { memory_id: id } = c.req.valid('param');
    const input = c.req.valid('json');
    refuseUnsupported(input, ['timestamp']);
    const updated = await updateProjectMemory(
      context,
      project,
      id,
      {
        text: input.text,
        metadata: input.metadata,
        ...(input.expiration_date === undefined
          ? {}
          : { expiresAt: expiresAtOf(input.expiration_date) ?? null }),
      },
      'Send "text", "metadata" and/or "expiration_date" to change.',
    );
    return c.json(toPlatformMemory(updated), 200);
  });

  app.openapi(deleteRoute, async (c) => {
    const { project } = c.get('identity');
    const { memory_id: id } = c.req.valid('param');
    await deleteProjectMemory(context, project, id);
    return c.json({ message: 'Memory deleted successfully!' }, 200);
  });

  app.openapi(historyRoute, async (c) => {
    const { project } = c.get('identity');
    const { memory_id: id } = c.req.valid('param');
    const events = await projectHistory(context, project, id);
    const history: z.infer<typeof platformHistorySchema> = events.map((event) => ({
      id: event.id,
      memory_id: event.memoryId ?? id,
      input: [],
      old_memory: event.previousText,
      new_memory: event.newText,
      user_id: event.userId ?? null,
      agent_id: event.agentId ?? null,
      run_id: event.runId ?? null,
      categories: [],
      event: event.event,
      metadata: null,
      created_at: event.createdAt,
      updated_at: event.createdAt,
    }));
    return c.json(history, 200);
  });

  app.openapi(deleteAllRoute, async (c) => {
    const { org_id: _org, project_id: _project, ...entities } = c.req.valid('query');
    const selection = requireScope(translateMem0Filters(undefined, entities));
    const memory = await memoryOf(c);
    if (!selection.filter) {
      await memory.deleteAll(selection.scope);
    } else {
      const ids: string[] = [];
      for await (const item of selected(memory, selection)) ids.push(item.id);
      for (const id of ids) await memory.delete(id, selection.scope);
    }
    return c.json({ message: 'Memories deleted successfully!' }, 200);
  });

  app.openapi(batchUpdateRoute, async (c) => {
    const { project } = c.get('identity');
    const { memories } = c.req.valid('json');
    for (const change of memories) {
      if (change.text === undefined && change.metadata === undefined) {
        throw new ApiError(
          400,
          'invalid_argument',
          `memories: send "text" and/or "metadata" for ${change.memory_id}.`,
        );
      }
      await requireMemory(context, project, change.memory_id);
    }
    for (const change of memories) {
      await updateProjectMemory(
        context,
        project,
        change.memory_id,
        { text: change.text, metadata: change.metadata },
        'Send "text" and/or "metadata" to change.',
      );
    }
    return c.json({ message: `Successfully updated ${memories.length} memories` }, 200);
  });

  app.openapi(batchDeleteRoute, async (c) => {
    const { project } = c.get('identity');
    const ids = [...new Set(c.req.valid('json').memories.map((entry) => entry.memory_id))];
    for (const id of ids) await requireMemory(context, project, id);
    for (const id of ids) await deleteProjectMemory(context, project, id);
    return c.json({ message: `Successfully deleted ${ids.length} memories` }, 200);
  });

  for (const prefix of ['/v1/*', '/v2/*', '/v3/*', '/api/*']) app.all(prefix, notImplemented);
}
