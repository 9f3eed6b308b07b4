import type { MemoryItem, Scope } from '@engram/core';
import type { OpenAPIHono, z } from '@hono/zod-openapi';
import {
  byIdEraseQuerySnakeSchema,
  byIdScopeQuerySnakeSchema,
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
  scopeEraseQuerySnakeSchema,
} from './api-schemas.js';
import { type AppContext, type AppEnv, runAdd } from './app-context.js';
import {
  addJobData,
  authenticatedRoute,
  body,
  definedFields,
  deleteProjectMemory,
  json,
  notFound,
  type ProjectHistoryEvent,
  projectHistory,
  requireMemory,
  scopeOf,
  searchProject,
  updateProjectMemory,
} from './route-kit.js';

/** The scope named by a request's `user_id`, `agent_id` and `run_id`. */
function scopeOfSnake(input: {
  user_id?: string | undefined;
  agent_id?: string | undefined;
  run_id?: string | undefined;
}): Scope {
  return scopeOf({ userId: input.user_id, agentId: input.agent_id, runId: input.run_id });
}

/** A memory in mem0's snake_case shape. */
export function toMem0Memory(item: MemoryItem): z.infer<typeof mem0MemorySchema> {
  return {
    id: item.id,
    memory: item.memory,
    ...definedFields({
      hash: item.hash,
      user_id: item.userId,
      agent_id: item.agentId,
      run_id: item.runId,
    }),
    metadata: item.metadata,
    created_at: item.createdAt,
    updated_at: item.updatedAt,
  };
}

function toMem0History(event: ProjectHistoryEvent) {
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

const addRoute = authenticatedRoute({
  method: 'post',
  path: '/memories',
  tags,
  summary: 'Create memories (mem0 shape)',
  request: body(mem0AddRequestSchema),
  responses: { 200: json(mem0AddResultSchema, 'What changed.') },
});

const listRoute = authenticatedRoute({
  method: 'get',
  path: '/memories',
  tags,
  summary: 'Get every memory of a scope (mem0 shape)',
  request: { query: mem0ListQuerySchema },
  responses: { 200: json(mem0ListResponseSchema, 'The memories.') },
});

const getRoute = authenticatedRoute({
  method: 'get',
  path: '/memories/{id}',
  tags,
  summary: 'Get a memory (mem0 shape)',
  request: { params: idParamsSchema, query: byIdScopeQuerySnakeSchema },
  responses: { 200: json(mem0MemorySchema, 'The memory.'), ...notFound },
});

const searchRoute = authenticatedRoute({
  method: 'post',
  path: '/search',
  tags,
  summary: 'Search memories (mem0 shape)',
  request: body(mem0SearchRequestSchema),
  responses: { 200: json(mem0SearchResponseSchema, 'Best matches first.') },
});

const updateRoute = authenticatedRoute({
  method: 'put',
  path: '/memories/{id}',
  tags,
  summary: 'Update a memory (mem0 shape)',
  request: {
    params: idParamsSchema,
    query: byIdScopeQuerySnakeSchema,
    ...body(mem0UpdateRequestSchema),
  },
  responses: { 200: json(messageResponseSchema, 'Updated.'), ...notFound },
});

const historyRoute = authenticatedRoute({
  method: 'get',
  path: '/memories/{id}/history',
  tags,
  summary: 'Get memory history (mem0 shape)',
  request: { params: idParamsSchema, query: byIdScopeQuerySnakeSchema },
  responses: {
    200: json(mem0HistoryResponseSchema, 'The changes.'),
    ...notFound,
  },
});

const deleteRoute = authenticatedRoute({
  method: 'delete',
  path: '/memories/{id}',
  tags,
  summary: 'Delete a memory (mem0 shape)',
  description: 'With `erase=true`, the texts of its history events are erased too.',
  request: { params: idParamsSchema, query: byIdEraseQuerySnakeSchema },
  responses: { 200: json(messageResponseSchema, 'Deleted.'), ...notFound },
});

const deleteAllRoute = authenticatedRoute({
  method: 'delete',
  path: '/memories',
  tags,
  summary: 'Delete every memory of a scope (mem0 shape)',
  description: 'With `erase=true`, every history event of the scope loses its texts too.',
  request: { query: scopeEraseQuerySnakeSchema },
  responses: { 200: json(messageResponseSchema, 'Deleted.') },
});

/**
 * Registers routes with the paths and snake_case shapes of mem0's REST server, so an
 * application written against it can switch by changing its base URL.
 */
export function registerMem0Routes(app: OpenAPIHono<AppEnv>, context: AppContext): void {
  app.openapi(addRoute, async (c) => {
    const { project } = c.get('identity');
    const input = c.req.valid('json');
    const result = await runAdd(context, addJobData(project, input, scopeOfSnake(input)), 'sync');
    return c.json(
      {
        results: result.results.map((change) => ({
          id: change.id,
          memory: change.memory,
          event: change.event,
          ...definedFields({ previous_memory: change.previousMemory }),
        })),
      },
      200,
    );
  });

  app.openapi(listRoute, async (c) => {
    const { project } = c.get('identity');
    const memory = await context.projects.memory(project);
    const input = c.req.valid('query');
    const page = await memory.list({ ...scopeOfSnake(input), limit: input.limit ?? 100 });
    return c.json({ results: page.results.map(toMem0Memory) }, 200);
  });

  app.openapi(getRoute, async (c) => {
    const { project } = c.get('identity');
    const { id } = c.req.valid('param');
    const item = await requireMemory(context, project, id, scopeOfSnake(c.req.valid('query')));
    return c.json(toMem0Memory(item), 200);
  });

  app.openapi(searchRoute, async (c) => {
    const { project } = c.get('identity');
    const input = c.req.valid('json');
    const { results } = await searchProject(context, project, input.query, {
      ...scopeOfSnake(input),
      ...definedFields({
        filters: input.filters as never,
        limit: input.limit,
        threshold: input.threshold,
      }),
    });
    return c.json(
      { results: results.map((item) => ({ ...toMem0Memory(item), score: item.score })) },
      200,
    );
  });

  app.openapi(updateRoute, async (c) => {
    const { project } = c.get('identity');
    const { id } = c.req.valid('param');
    const input = c.req.valid('json');
    const change = { text: input.text ?? input.data, metadata: input.metadata };
    const nothingToChange = 'Send "text" (or "data") and/or "metadata" to change.';
    const scope = scopeOfSnake(c.req.valid('query'));
    await updateProjectMemory(context, project, id, change, nothingToChange, scope);
    return c.json({ message: 'Memory updated successfully!' }, 200);
  });

  app.openapi(historyRoute, async (c) => {
    const { project } = c.get('identity');
    const { id } = c.req.valid('param');
    const events = await projectHistory(context, project, id, scopeOfSnake(c.req.valid('query')));
    return c.json(events.map(toMem0History), 200);
  });

  app.openapi(deleteRoute, async (c) => {
    const { project } = c.get('identity');
    const { id } = c.req.valid('param');
    const { erase, ...scope } = c.req.valid('query');
    await deleteProjectMemory(context, project, id, scopeOfSnake(scope), erase);
    return c.json({ message: 'Memory deleted successfully' }, 200);
  });

  app.openapi(deleteAllRoute, async (c) => {
    const { project } = c.get('identity');
    const memory = await context.projects.memory(project);
    const input = c.req.valid('query');
    await memory.deleteAll({ ...scopeOfSnake(input), erase: input.erase === 'true' });
    return c.json({ message: 'All relevant memories deleted' }, 200);
  });
}
