import { type OpenAPIHono, z } from '@hono/zod-openapi';
import { jobIdParamsSchema } from './api-schemas.js';
import type { AppContext, AppEnv } from './app-context.js';
import { ApiError } from './http-errors.js';
import { createMaintenanceRuns, type MaintenanceRuns } from './maintenance-runs.js';
import { authenticatedRoute, body, definedFields, errorResponse, json } from './route-kit.js';

const reembedRequestSchema = z
  .object({
    embedder: z.string().min(1).max(200).optional().openapi({
      description:
        "The new embedder, as `ENGRAM_EMBEDDER` names it (`local`, `local:<model>`, `hash`, `<provider>:<model>`). Default: the server's `ENGRAM_EMBEDDER`.",
      example: 'local',
    }),
    batchSize: z.number().int().min(1).max(10_000).optional().openapi({
      description:
        'Memories per batch (one list page, one embedding call, one write). Default 256.',
    }),
    force: z.boolean().optional().openapi({
      description:
        'Re-embed even when the project is recorded with that embedder already (default: such a project is left alone).',
    }),
  })
  .openapi('ReembedRequest');

const maintenanceRunSchema = z
  .object({
    id: z.string(),
    job: z.string(),
    project: z.string(),
    state: z.enum(['running', 'completed', 'failed', 'interrupted']).openapi({
      description:
        '`interrupted`: the process running it stopped (crash, restart); start the job again to resume from its last batch.',
    }),
    done: z.number().int().openapi({ description: 'Memories done so far (in the current phase).' }),
    total: z.number().int().optional().openapi({ description: 'Memories in all, once known.' }),
    settings: z.record(z.string(), z.string()),
    messages: z.array(z.string()).openapi({
      description: 'What the job said on the way, e.g. that it resumed an interrupted run.',
    }),
    startedAt: z.string(),
    updatedAt: z.string(),
    finishedAt: z.string().optional(),
    error: z.object({ code: z.string(), message: z.string() }).optional(),
    runner: z.string().openapi({ description: 'The process running it: `<host>:<pid>`.' }),
  })
  .openapi('MaintenanceRun');

const adminOnly = errorResponse('The key or token does not have admin access.');

const reembedRoute = authenticatedRoute({
  method: 'post',
  path: '/v1/admin/reembed',
  tags: ['admin'],
  summary: "Re-embed the project's memories with another embedder (admin)",
  description:
    "Starts computing every memory's vector of the key's project again, in batches, in the background; answers 202 with the run to poll at `/v1/admin/jobs/{id}`. Reads keep working meanwhile. A run stopped by a crash or restart shows as `interrupted`: starting the job again goes on from its last batch. When a run is under way already, answers 409 with that run. The same job runs from the command line (`engram maintenance reembed --embedder <name>`) and on the worker's schedule (`ENGRAM_MAINTENANCE_REEMBED`).",
  request: { body: { ...body(reembedRequestSchema).body, required: false } },
  responses: {
    202: json(maintenanceRunSchema, 'Started (or resumed).'),
    403: adminOnly,
    409: json(maintenanceRunSchema, 'A re-embedding of the project is under way: this one.'),
  },
});

const runRoute = authenticatedRoute({
  method: 'get',
  path: '/v1/admin/jobs/{id}',
  tags: ['admin'],
  summary: 'Progress of a maintenance run (admin)',
  request: { params: jobIdParamsSchema },
  responses: {
    200: json(maintenanceRunSchema, 'The run: state, done of total.'),
    403: adminOnly,
    404: errorResponse('No such run in this project.'),
  },
});

/** `POST /v1/admin/reembed` and `GET /v1/admin/jobs/{id}`: maintenance over the API, admin access only. */
export function registerMaintenanceRoutes(
  app: OpenAPIHono<AppEnv>,
  context: AppContext,
  runs: MaintenanceRuns = createMaintenanceRuns(context),
): MaintenanceRuns {
  app.openapi(reembedRoute, async (c) => {
    const { project } = c.get('identity');
    const input: z.infer<typeof reembedRequestSchema> = c.req.valid('json') ?? {};
    if (context.state.shuttingDown) {
      throw new ApiError(503, 'unavailable', 'The server is shutting down; retry on another one.');
    }
    const { run, started } = runs.start(
      'reembed',
      project,
      definedFields({
        embedder: input.embedder,
        'batch-size': input.batchSize === undefined ? undefined : String(input.batchSize),
        force: input.force ? 'true' : undefined,
      }) as Record<string, string>,
    );
    return c.json(run, started ? 202 : 409);
  });

  app.openapi(runRoute, async (c) => {
    const { project } = c.get('identity');
    const run = runs.get(c.req.valid('param').id, project);
    if (!run)
      throw new ApiError(404, 'not_found', 'No maintenance run with that id in this project.');
    return c.json(run, 200);
  });
  return runs;
}
