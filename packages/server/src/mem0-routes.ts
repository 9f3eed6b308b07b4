import type { HistoryEvent, MemoryItem, Scope } from '@engram/core';
import { createRoute, type OpenAPIHono, type z } from '@hono/zod-openapi';
import { errorResponses, projectHistory, requireMemory, security } from './api-routes.js';
import {
  errorSchema,
  idParamsSchema,
  mem0AddRequestSchema,
  mem0AddResultSchema,
  mem0HistoryResponseSchema,
  mem0ListQuerySchema,
  mem0ListResponseSchema,
  mem0MemorySchema,
  mem0SearchRequestSchema,
  mem0SearchResponseSchema,
  mem0UpdateRequestSchema,
  messageResponseSchema,
  scopeQuerySnakeSchema,
} from './api-schemas.js';
import { type AppContext, type AppEnv, runAdd } from './app-context.js';
import { ApiError } from './http-errors.js';

const json = <T extends z.ZodType>(schema: T, description: string) => ({
  content: { 'application/json': { schema } },
  description,
});

const body = <T extends z.ZodType>(schema: T) => ({
  body: { content: { 'application/json': { schema } }, required: true },
});

const notFound = { 404: json(errorSchema, 'No such memory in this project.') };

function scopeOf(input: {
  user_id?: string | undefined;
  agent_id?: string | undefined;
  run_id?: string | undefined;
}): Scope {
  const scope: Scope = {};
  if (input.user_id !== undefined) scope.userId = input.user_id;
  if (input.agent_id !== undefined) scope.agentId = input.agent_id;
  if (input.run_id !== undefined) scope.runId = input.run_id;
  return scope;
}

/** A memory in mem0's snake_case shape. */
export function toMem0Memory(item: MemoryItem): z.infer<typeof mem0MemorySchema> {
  return {
    id: item.id,
    memory: item.memory,
    ...(item.hash === undefined ? {} : { hash: item.hash }),
    ...(item.userId === undefined ? {} : { user_id: item.userId }),
    ...(item.agentId === undefined ? {} : { agent_id: item.agentId }),
    ...(item.runId === undefined ? {} : { run_id: item.runId }),
    metadata: item.metadata,
    created_at: item.createdAt,
    updated_at: item.updatedAt,
  };
}

function toMem0History(event: HistoryEvent) {
  return {
    id: event.id,
    memory_id: event.memoryId,
    old_memory: event.previousText,
    new_memory: event.newText,
    event: event.event,
    created_at: event.createdAt,
    actor_id: event.actor ?? null,
    is_deleted: event.event === 'DELETE',
  };
}

const tags = ['mem0-compatible'];

const addRoute = createRoute({
  method: 'post',
  path: '/memories',
  tags,
  summary: 'Create memories (mem0 shape)',
  security,
  request: body(mem0AddRequestSchema),
  responses: { 200: json(mem0AddResultSchema, 'What changed.'), ...errorResponses },
});

const listRoute = createRoute({
  method: 'get',
  path: '/memories',
  tags,
  summary: 'Get every memory of a scope (mem0 shape)',
  security,
  request: { query: mem0ListQuerySchema },
  responses: { 200: json(mem0ListResponseSchema, 'The memories.'), ...errorResponses },
});

const getRoute = createRoute({
  method: 'get',
  path: '/memories/{id}',
  tags,
  summary: 'Get a memory (mem0 shape)',
  security,
  request: { params: idParamsSchema },
  responses: { 200: json(mem0MemorySchema, 'The memory.'), ...notFound, ...errorResponses },
});

const searchRoute = createRoute({
  method: 'post',
  path: '/search',
  tags,
  summary: 'Search memories (mem0 shape)',
  security,
  request: body(mem0SearchRequestSchema),
  responses: { 200: json(mem0SearchResponseSchema, 'Best matches first.'), ...errorResponses },
});

const updateRoute = createRoute({
  method: 'put',
  path: '/memories/{id}',
  tags,
  summary: 'Update a memory (mem0 shape)',
  security,
  request: { params: idParamsSchema, ...body(mem0UpdateRequestSchema) },
  responses: { 200: json(messageResponseSchema, 'Updated.'), ...notFound, ...errorResponses },
});

const historyRoute = createRoute({
  method: 'get',
  path: '/memories/{id}/history',
  tags,
  summary: 'Get memory history (mem0 shape)',
  security,
  request: { params: idParamsSchema },
  responses: {
    200: json(mem0HistoryResponseSchema, 'The changes.'),
    ...notFound,
    ...errorResponses,
  },
});

const deleteRoute = createRoute({
  method: 'delete',
  path: '/memories/{id}',
  tags,
  summary: 'Delete a memory (mem0 shape)',
  security,
  request: { params: idParamsSchema },
  responses: { 200: json(messageResponseSchema, 'Deleted.'), ...notFound, ...errorResponses },
});

const deleteAllRoute = createRoute({
  method: 'delete',
  path: '/memories',
  tags,
  summary: 'Delete every memory of a scope (mem0 shape)',
  security,
  request: { query: scopeQuerySnakeSchema },
  responses: { 200: json(messageResponseSchema, 'Deleted.'), ...errorResponses },
});

/**
 * Registers routes with the paths and snake_case shapes of mem0's REST server, so an
 * application written against it can switch by changing its base URL.
 */
export function registerMem0Routes(app: OpenAPIHono<AppEnv>, context: AppContext): void {
  app.openapi(addRoute, async (c) => {
    const { project } = c.get('identity');
    const input = c.req.valid('json');
    const result = await runAdd(
      context,
      {
        project,
        messages: input.messages,
        options: {
          ...scopeOf(input),
          ...(input.metadata ? { metadata: input.metadata as Record<string, never> } : {}),
          ...(input.infer === undefined ? {} : { infer: input.infer }),
        },
      },
      'sync',
    );
    return c.json(
      {
        results: result.results.map((change) => ({
          id: change.id,
          memory: change.memory,
          event: change.event,
          ...(change.previousMemory === undefined
            ? {}
            : { previous_memory: change.previousMemory }),
        })),
      },
      200,
    );
  });

  app.openapi(listRoute, async (c) => {
    const { project } = c.get('identity');
    const memory = await context.projects.memory(project);
    const input = c.req.valid('query');
    const page = await memory.list({ ...scopeOf(input), limit: input.limit ?? 100 });
    return c.json({ results: page.results.map(toMem0Memory) }, 200);
  });

  app.openapi(getRoute, async (c) => {
    const { project } = c.get('identity');
    const item = await requireMemory(context, project, c.req.valid('param').id);
    return c.json(toMem0Memory(item), 200);
  });

  app.openapi(searchRoute, async (c) => {
    const { project } = c.get('identity');
    const input = c.req.valid('json');
    const memory = await context.projects.memory(project);
    const stop = context.metrics.searchLatency.startTimer();
    try {
      const { results } = await memory.search(input.query, {
        ...scopeOf(input),
        ...(input.filters ? { filters: input.filters as never } : {}),
        ...(input.limit === undefined ? {} : { limit: input.limit }),
        ...(input.threshold === undefined ? {} : { threshold: input.threshold }),
      });
      context.metrics.searches.inc();
      return c.json(
        { results: results.map((item) => ({ ...toMem0Memory(item), score: item.score })) },
        200,
      );
    } finally {
      stop();
    }
  });

  app.openapi(updateRoute, async (c) => {
    const { project } = c.get('identity');
    const { id } = c.req.valid('param');
    const input = c.req.valid('json');
    const text = input.text ?? input.data;
    if (text === undefined && input.metadata === undefined) {
      throw new ApiError(
        400,
        'invalid_argument',
        'Send "text" (or "data") and/or "metadata" to change.',
      );
    }
    await requireMemory(context, project, id);
    const memory = await context.projects.memory(project);
    await memory.update(id, {
      ...(text === undefined ? {} : { text }),
      ...(input.metadata === undefined
        ? {}
        : { metadata: input.metadata as Record<string, never> }),
    });
    return c.json({ message: 'Memory updated successfully!' }, 200);
  });

  app.openapi(historyRoute, async (c) => {
    const { project } = c.get('identity');
    const events = await projectHistory(context, project, c.req.valid('param').id);
    return c.json(events.map(toMem0History), 200);
  });

  app.openapi(deleteRoute, async (c) => {
    const { project } = c.get('identity');
    const { id } = c.req.valid('param');
    await requireMemory(context, project, id);
    const memory = await context.projects.memory(project);
    await memory.delete(id);
    return c.json({ message: 'Memory deleted successfully' }, 200);
  });

  app.openapi(deleteAllRoute, async (c) => {
    const { project } = c.get('identity');
    const memory = await context.projects.memory(project);
    await memory.deleteAll(scopeOf(c.req.valid('query')));
    return c.json({ message: 'All relevant memories deleted' }, 200);
  });
}
