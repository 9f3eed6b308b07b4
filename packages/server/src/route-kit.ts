import {
  type HistoryEvent,
  type MemoryItem,
  NotFoundError,
  type Scope,
  type SearchOptions,
  type SearchResult,
} from '@engram/core';
import { createRoute, type RouteConfig, type z } from '@hono/zod-openapi';
import { errorSchema } from './api-schemas.js';
import type { AppContext } from './app-context.js';
import { ApiError } from './http-errors.js';
import type { AddJobData } from './job-queue.js';
import { countRerankUsage } from './metrics.js';
import { withSpan } from './tracing.js';

/** An `application/json` response of the OpenAPI document. */
export const json = <T extends z.ZodType>(schema: T, description: string) => ({
  content: { 'application/json': { schema } },
  description,
});

/** A required `application/json` request body. */
export const body = <T extends z.ZodType>(schema: T) => ({
  body: { content: { 'application/json': { schema } }, required: true },
});

/** An error answer of the OpenAPI document. */
export const errorResponse = (description: string) => json(errorSchema, description);

/** Error answers every authenticated route may give. */
export const errorResponses = {
  400: errorResponse('The request is malformed; the message says which field to fix.'),
  401: errorResponse('No valid API key.'),
  413: errorResponse('The request body is too large.'),
  431: {
    description:
      "The request line or headers are larger than the server accepts (16 KiB, Node.js's limit; answered before the request reaches Engram, with no body): send long values in a request body.",
  },
  422: errorResponse(
    'The configured store does not support what was asked (e.g. a filter operator).',
  ),
  429: errorResponse('Rate limit reached; retry after `Retry-After` seconds.'),
  500: errorResponse('Internal error.'),
  502: errorResponse('A model or database call failed.'),
  503: errorResponse('A backend is unavailable or the server is shutting down; retry.'),
};

/** The answer of a route about one memory when the project has no memory with that id. */
export const notFound = { 404: errorResponse('No such memory in this project.') };

/** Security requirement of every `/v1` and mem0 route. */
export const security: Array<Record<string, string[]>> = [{ bearerAuth: [] }, { apiKeyHeader: [] }];

/**
 * A route behind the API key: adds the security requirement and, after the route's own
 * responses, the error answers every authenticated route may give.
 */
export function authenticatedRoute<const Route extends Omit<RouteConfig, 'security'>>(
  route: Route,
) {
  return createRoute({
    ...route,
    security,
    responses: { ...route.responses, ...errorResponses },
  });
}

/** The fields whose value is defined: an option left out keeps its default downstream. */
export function definedFields<Fields extends object>(
  fields: Fields,
): { [Key in keyof Fields]?: Exclude<Fields[Key], undefined> } {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as {
    [Key in keyof Fields]?: Exclude<Fields[Key], undefined>;
  };
}

/** The scope named by a request's `userId`, `agentId` and `runId`. */
export function scopeOf(input: {
  userId?: string | undefined;
  agentId?: string | undefined;
  runId?: string | undefined;
}): Scope {
  return definedFields({ userId: input.userId, agentId: input.agentId, runId: input.runId });
}

/** The add of a conversation to a scope, as run at once or queued as a job. */
export function addJobData(
  project: string,
  input: {
    messages: AddJobData['messages'];
    metadata?: Record<string, unknown> | undefined;
    infer?: boolean | undefined;
    expiresAt?: string | undefined;
  },
  scope: Scope,
): AddJobData {
  return {
    project,
    messages: input.messages,
    options: {
      ...scope,
      ...(input.metadata ? { metadata: input.metadata as Record<string, never> } : {}),
      ...(input.infer === undefined ? {} : { infer: input.infer }),
      ...(input.expiresAt === undefined ? {} : { expiresAt: input.expiresAt }),
    },
  };
}

/** A metadata filter sent as a JSON query parameter; a 400 when it is not a JSON object. */
export function parseFilterParameter(text: string | undefined): Record<string, never> | undefined {
  if (text === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ApiError(
      400,
      'invalid_argument',
      'filters: send a JSON object, e.g. filters={"topic":"food"} (URL-encoded).',
    );
  }
  return parsed as Record<string, never>;
}

const noMemory = (id: string) =>
  new ApiError(404, 'not_found', `No memory with id "${id}" in this project.`);

/**
 * The memory of a project by id, or a 404 (also for ids that belong to other projects and, when
 * a scope is given, to other scopes: the same answer, so ids cannot be probed).
 */
export async function requireMemory(
  context: AppContext,
  project: string,
  id: string,
  scope: Scope = {},
): Promise<MemoryItem> {
  const memory = await context.projects.memory(project);
  const item = await memory.get(id, scope);
  if (!item) throw noMemory(id);
  return item;
}

/** A history event as the API answers it: the namespace is the project's own, left out. */
export type ProjectHistoryEvent = Omit<HistoryEvent, 'namespace'>;

/** History of a memory of the project (and of the scope, when given); a 404 when unknown. */
export async function projectHistory(
  context: AppContext,
  project: string,
  id: string,
  scope: Scope = {},
): Promise<ProjectHistoryEvent[]> {
  const memory = await context.projects.memory(project);
  try {
    const events = await memory.history(id, scope);
    return events.map(({ namespace: _namespace, ...event }) => event);
  } catch (error) {
    if (NotFoundError.isInstance(error)) throw noMemory(id);
    throw error;
  }
}

/** Searches the project's memories, counted and timed by the server's metrics. */
export async function searchProject(
  context: AppContext,
  project: string,
  query: string,
  options: SearchOptions,
): Promise<SearchResult> {
  const memory = await context.projects.memory(project);
  return withSpan('memory.search', { 'engram.project': project }, async () => {
    const stop = context.metrics.searchLatency.startTimer();
    try {
      const result = await memory.search(query, options);
      context.metrics.searches.inc();
      countRerankUsage(context.metrics, result.usage);
      context.metrics.projectUsage.recordSearch(project, result.usage);
      return result;
    } finally {
      stop();
    }
  });
}

/**
 * Changes the text and/or merges the metadata of a memory of the project (a 404 when it has no
 * such memory); `nothingToChange` is the 400 message when the request names neither.
 */
export async function updateProjectMemory(
  context: AppContext,
  project: string,
  id: string,
  change: {
    text?: string | undefined;
    metadata?: Record<string, unknown> | undefined;
    expiresAt?: string | null | undefined;
  },
  nothingToChange: string,
  scope: Scope = {},
): Promise<MemoryItem> {
  if (
    change.text === undefined &&
    change.metadata === undefined &&
    change.expiresAt === undefined
  ) {
    throw new ApiError(400, 'invalid_argument', nothingToChange);
  }
  await requireMemory(context, project, id, scope);
  const memory = await context.projects.memory(project);
  return memory.update(id, {
    ...scope,
    ...(change.text === undefined ? {} : { text: change.text }),
    ...(change.expiresAt === undefined ? {} : { expiresAt: change.expiresAt }),
    ...(change.metadata === undefined
      ? {}
      : { metadata: change.metadata as Record<string, never> }),
  });
}

/**
 * Deletes a memory of the project (and of the scope, when given; with `erase`, also the texts
 * of its history); a 404 when there is none.
 */
export async function deleteProjectMemory(
  context: AppContext,
  project: string,
  id: string,
  scope: Scope = {},
  erase: 'true' | 'false' | undefined = undefined,
) {
  await requireMemory(context, project, id, scope);
  const memory = await context.projects.memory(project);
  return memory.delete(id, { ...scope, erase: erase === 'true' });
}
