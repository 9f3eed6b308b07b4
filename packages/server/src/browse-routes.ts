import type { OpenAPIHono } from '@hono/zod-openapi';
import { z } from '@hono/zod-openapi';
import { scopeQuerySchema, usageSchema } from './api-schemas.js';
import type { AppContext, AppEnv } from './app-context.js';
import { ApiError } from './http-errors.js';
import { authenticatedRoute, definedFields, json, scopeOf } from './route-kit.js';

/** Memories read at most to count a project's scopes: beyond it the answer says it is partial. */
export const maxScopeScan = 200_000;

const scopeCountSchema = z
  .object({
    id: z.string(),
    memories: z
      .number()
      .int()
      .openapi({ description: 'Memories of this id (any other scope ids).' }),
    lastUpdatedAt: z.string().openapi({ description: 'Latest change of one of them.' }),
  })
  .openapi('ScopeCount');

const scopesResponseSchema = z
  .object({
    users: z.array(scopeCountSchema),
    agents: z.array(scopeCountSchema),
    runs: z.array(scopeCountSchema),
    memories: z.number().int().openapi({ description: 'Memories counted.' }),
    complete: z.boolean().openapi({
      description: `False when the project holds more than ${maxScopeScan} memories: the counts cover the first ${maxScopeScan}.`,
    }),
  })
  .openapi('Scopes');

const scopesQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(10_000).optional().openapi({
    description: 'Ids of each kind at most, most memories first. Default 1000.',
  }),
});

const usageResponseSchema = usageSchema
  .extend({
    project: z.string(),
    since: z.string().openapi({ description: 'When this server process started counting.' }),
    adds: z.number().int(),
    memoriesAdded: z.number().int(),
    searches: z.number().int(),
  })
  .openapi('ProjectUsage');

const graphRelationSchema = z
  .object({
    id: z.string(),
    source: z.string(),
    sourceType: z.string(),
    relationship: z.string(),
    destination: z.string(),
    destinationType: z.string(),
    mentions: z.number().int(),
    createdAt: z.string(),
    invalidatedAt: z.string().optional().openapi({
      description: 'When later messages contradicted the relation; absent while it holds.',
    }),
  })
  .openapi('GraphRelation');

const graphResponseSchema = z
  .object({
    enabled: z.boolean().openapi({ description: 'Whether graph memory is on (`ENGRAM_GRAPH`).' }),
    relations: z.array(graphRelationSchema),
  })
  .openapi('Graph');

const graphQuerySchema = scopeQuerySchema.extend({
  limit: z.coerce.number().int().min(1).max(1000).optional(),
  includeInvalidated: z.enum(['true', 'false']).optional().openapi({
    description:
      'Also answer relations that were contradicted (with `invalidatedAt`). Default false.',
  }),
});

const scopesRoute = authenticatedRoute({
  method: 'get',
  path: '/v1/scopes',
  tags: ['browse'],
  summary: "The project's users, agents and runs with their memory counts",
  request: { query: scopesQuerySchema },
  responses: { 200: json(scopesResponseSchema, 'Each kind, most memories first.') },
});

const usageRoute = authenticatedRoute({
  method: 'get',
  path: '/v1/usage',
  tags: ['browse'],
  summary: "The project's adds, searches and model tokens",
  description:
    'Counted by the server process that answers, since it started (`since`); with several processes or replicas, each counts its own share. Prometheus metrics carry the totals of all projects.',
  responses: { 200: json(usageResponseSchema, 'The counts.') },
});

const graphRoute = authenticatedRoute({
  method: 'get',
  path: '/v1/graph',
  tags: ['browse'],
  summary: "A scope's knowledge graph",
  request: { query: graphQuerySchema },
  responses: { 200: json(graphResponseSchema, 'Its relations, with the kinds of their entities.') },
});

interface Tally {
  memories: number;
  lastUpdatedAt: string;
}

function countInto(tallies: Map<string, Tally>, id: string | undefined, updatedAt: string): void {
  if (id === undefined) return;
  const tally = tallies.get(id);
  if (!tally) {
    tallies.set(id, { memories: 1, lastUpdatedAt: updatedAt });
    return;
  }
  tally.memories += 1;
  if (updatedAt > tally.lastUpdatedAt) tally.lastUpdatedAt = updatedAt;
}

function ranked(tallies: Map<string, Tally>, limit: number) {
  return [...tallies]
    .map(([id, tally]) => ({ id, ...tally }))
    .sort((left, right) => right.memories - left.memories || left.id.localeCompare(right.id))
    .slice(0, limit);
}

/** Registers the routes the memory browser reads: scopes with counts, usage, the graph. */
export function registerBrowseRoutes(app: OpenAPIHono<AppEnv>, context: AppContext): void {
  app.openapi(scopesRoute, async (c) => {
    const { project } = c.get('identity');
    const limit = c.req.valid('query').limit ?? 1000;
    const memory = await context.projects.memory(project);
    const users = new Map<string, Tally>();
    const agents = new Map<string, Tally>();
    const runs = new Map<string, Tally>();
    let memories = 0;
    let complete = true;
    for await (const item of memory.exportAll({ abortSignal: c.req.raw.signal })) {
      if (memories === maxScopeScan) {
        complete = false;
        break;
      }
      memories += 1;
      countInto(users, item.userId, item.updatedAt);
      countInto(agents, item.agentId, item.updatedAt);
      countInto(runs, item.runId, item.updatedAt);
    }
    return c.json(
      {
        users: ranked(users, limit),
        agents: ranked(agents, limit),
        runs: ranked(runs, limit),
        memories,
        complete,
      },
      200,
    );
  });

  app.openapi(usageRoute, (c) => {
    const { project } = c.get('identity');
    const usage = context.metrics.projectUsage;
    return c.json({ project, since: usage.since, ...usage.get(project) }, 200);
  });

  app.openapi(graphRoute, async (c) => {
    const { project } = c.get('identity');
    const input = c.req.valid('query');
    const scope = scopeOf(input);
    if (Object.keys(scope).length === 0) {
      throw new ApiError(400, 'invalid_argument', 'Name a scope: userId, agentId and/or runId.');
    }
    const memory = await context.projects.memory(project);
    const relations = await memory.graph({
      ...scope,
      ...definedFields({ limit: input.limit }),
      includeInvalidated: input.includeInvalidated === 'true',
    });
    return c.json({ enabled: relations !== null, relations: relations ?? [] }, 200);
  });
}
