import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { describeError } from '@engram/core';
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { type Context, Hono, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import { matchedRoutes } from 'hono/route';
import {
  createTokenVerifier,
  looksLikeJwt,
  neededAccess,
  TokenRefusedError,
} from './access-tokens.js';
import { allows } from './api-keys.js';
import { registerApiRoutes } from './api-routes.js';
import type { AppContext, AppEnv } from './app-context.js';
import { registerBrowseRoutes } from './browse-routes.js';
import { ApiError, answerForError } from './http-errors.js';
import { registerMaintenanceRoutes } from './maintenance-routes.js';
import { registerMcpRoute } from './mcp-endpoint.js';
import {
  isMem0PlatformPath,
  mem0ErrorBody,
  registerMem0PlatformRoutes,
} from './mem0-platform-routes.js';
import { registerMem0Routes } from './mem0-routes.js';
import { withSpan } from './tracing.js';
import { registerUiRoutes } from './ui-routes.js';

const requestIdPattern = /^[A-Za-z0-9._:-]{1,128}$/;

function describeZodError(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => {
      const path = issue.path.length > 0 ? issue.path.join('.') : 'body';
      return `${path}: ${issue.message}`;
    })
    .join('; ');
}

function errorBody(code: string, message: string) {
  return { error: { code, message } };
}

/** The error body of a request: mem0's shape on the mem0 platform routes, else the API's. */
function errorBodyFor(c: Context, code: string, message: string) {
  return isMem0PlatformPath(c.req.path) ? mem0ErrorBody(code, message) : errorBody(code, message);
}

/** The API key sent as `Authorization: Bearer <key>` (or `Token <key>`) or `X-API-Key`. */
function presentedKey(c: Context): string | undefined {
  const header = c.req.header('authorization');
  if (header) {
    const match = /^(?:Bearer|Token)\s+(\S+)\s*$/i.exec(header);
    return match ? match[1] : header.trim();
  }
  const apiKey = c.req.header('x-api-key');
  return apiKey?.trim() || undefined;
}

function sameSecret(given: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/**
 * Answers `/metrics` in the Prometheus format, to a caller with the metrics token when one is
 * configured. Without a token, `open` decides: the metrics port and `--insecure-local` are
 * open, the API port is not (project activity is nobody else's business).
 */
async function answerMetrics(c: Context, context: AppContext, open: boolean): Promise<Response> {
  const { token, port } = context.config.metrics;
  if (token !== undefined) {
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match || !sameSecret(match[1]!, token)) {
      throw new ApiError(
        401,
        'unauthorized',
        'Send the metrics token as "Authorization: Bearer <token>" (ENGRAM_METRICS_TOKEN; in Prometheus, `authorization: { credentials_file: ... }`).',
        { 'WWW-Authenticate': 'Bearer realm="engram-metrics"' },
      );
    }
  } else if (!open) {
    throw new ApiError(
      404,
      'not_found',
      port === undefined
        ? 'Metrics are not served on the API port without a token: set ENGRAM_METRICS_TOKEN (then scrape with "Authorization: Bearer <token>") or ENGRAM_METRICS_PORT (a port of their own).'
        : `Metrics are served on the metrics port (${port}), not on the API port.`,
    );
  }
  const text = await (context.scrapeMetrics?.() ?? context.metrics.registry.metrics());
  return c.body(text, 200, { 'Content-Type': context.metrics.registry.contentType });
}

/**
 * Sets a header of the response a handler returned. Hono's `c.header` after the handler copies
 * the response (asking whether its body was used turns the server's lightweight response into a
 * web `Response` with a stream, several percent of a small request), so the header goes on the
 * response's own headers; only a response with immutable headers is copied.
 */
function setResponseHeader(c: Context, name: string, value: string): void {
  try {
    c.res.headers.set(name, value);
  } catch {
    c.header(name, value);
  }
}

/** Error answers outside the OpenAPI routes, in the API's error shape. */
function answerError(error: unknown, c: Context, context: AppContext): Response {
  const answer = answerForError(error);
  if (answer.serverFault) {
    (c.var.logger ?? context.logger).error({ err: error }, 'request failed');
  }
  for (const [name, value] of Object.entries(answer.headers)) c.header(name, value);
  // The rest of an oversized body is never read, so the connection cannot carry another request.
  if (answer.status === 413) c.header('Connection', 'close');
  return c.json(errorBodyFor(c, answer.code, answer.message), answer.status as 400);
}

/**
 * The application of the metrics port (`ENGRAM_METRICS_PORT`): `/metrics` only, behind the
 * metrics token when one is configured.
 */
export function createMetricsApp(context: AppContext): Hono {
  const app = new Hono();
  app.get('/metrics', (c) => answerMetrics(c, context, true));
  app.notFound((c) => c.json(errorBody('not_found', 'Only /metrics is served on this port.'), 404));
  app.onError((error, c) => answerError(error, c, context));
  return app;
}

/**
 * Refuses bodies over `maxSize` bytes. A request that declares its length is judged by its
 * headers alone: hono's `bodyLimit` first asks for the body stream, which on Node.js builds a
 * full web `Request` per request. Bodies of unknown length still go through `bodyLimit`.
 */
function limitBodySize(maxSize: number): MiddlewareHandler {
  const tooLarge = () => {
    throw new ApiError(
      413,
      'payload_too_large',
      `The request body is larger than ${maxSize} bytes; send less per request (e.g. split an import).`,
    );
  };
  const streamed = bodyLimit({ maxSize, onError: tooLarge });
  return (c, next) => {
    const method = c.req.method;
    if (method === 'GET' || method === 'HEAD') return next();
    const headers = c.req.raw.headers;
    const length = headers.get('content-length');
    if (length !== null && !headers.has('transfer-encoding')) {
      return Number.parseInt(length || '0', 10) > maxSize ? tooLarge() : next();
    }
    return streamed(c, next);
  };
}

function routeLabel(c: Context): string {
  const routes = matchedRoutes(c).filter((route) => route.method !== 'ALL');
  return routes.at(-1)?.path ?? 'unmatched';
}

/**
 * Builds the HTTP application: request ids and logs, metrics, body limit, API key
 * authentication, per-key rate limits, the `/v1` API, mem0-compatible routes, `/mcp`,
 * health, readiness, metrics and the OpenAPI document.
 */
export function createServerApp(context: AppContext): OpenAPIHono<AppEnv> {
  const { config, keys, limiter, metrics, state } = context;
  const app = new OpenAPIHono<AppEnv>({
    defaultHook: (result, c) => {
      if (!result.success) {
        return c.json(errorBodyFor(c, 'invalid_argument', describeZodError(result.error)), 400);
      }
    },
  });

  app.use('*', async (c, next) => {
    const given = c.req.header('x-request-id');
    const requestId = given && requestIdPattern.test(given) ? given : randomUUID();
    const logger = context.logger.child({ requestId });
    c.set('requestId', requestId);
    c.set('logger', logger);
    const started = performance.now();
    await withSpan(
      `${c.req.method} ${c.req.path.slice(0, 100)}`,
      { 'http.request.method': c.req.method, 'engram.request_id': requestId },
      () => next(),
    );
    setResponseHeader(c, 'X-Request-Id', requestId);
    if (state.shuttingDown) setResponseHeader(c, 'Connection', 'close');
    const status = c.res.status;
    const route = routeLabel(c);
    metrics.requests.inc({ method: c.req.method, route, status: String(status) });
    if (route !== '/healthz' && route !== '/readyz' && route !== '/metrics') {
      logger.info(
        {
          method: c.req.method,
          route,
          status,
          durationMs: Math.round((performance.now() - started) * 10) / 10,
          ...(c.var.identity
            ? { project: c.var.identity.project, keyId: c.var.identity.keyId }
            : {}),
        },
        'request',
      );
    }
  });

  app.use('*', limitBodySize(config.bodyLimitBytes));

  const verifyToken = config.oidc ? createTokenVerifier(config.oidc) : undefined;
  const authenticate: MiddlewareHandler<AppEnv> = async (c, next) => {
    const key = presentedKey(c);
    if (key === undefined) {
      if (config.insecureLocal) {
        // Local trial mode has one user, who may also reset scopes.
        c.set('identity', { keyId: 'local', project: 'default', admin: true, access: 'admin' });
      } else {
        throw new ApiError(
          401,
          'unauthorized',
          'Send an API key as "Authorization: Bearer <key>" or "X-API-Key: <key>" (create one with `engram keys create --project <name>`).',
          { 'WWW-Authenticate': 'Bearer realm="engram"' },
        );
      }
    } else if (verifyToken && looksLikeJwt(key)) {
      try {
        c.set('identity', await verifyToken(key));
      } catch (error) {
        if (!(error instanceof TokenRefusedError)) throw error;
        throw new ApiError(
          error.status,
          error.status === 401 ? 'unauthorized' : 'forbidden',
          error.message,
          {
            'WWW-Authenticate': `Bearer realm="engram", error="${error.status === 401 ? 'invalid_token' : 'insufficient_scope'}"`,
          },
        );
      }
    } else {
      const identity = keys.verify(key);
      if (!identity) {
        throw new ApiError(401, 'unauthorized', 'The API key is not valid or was revoked.', {
          'WWW-Authenticate': 'Bearer realm="engram", error="invalid_token"',
        });
      }
      c.set('identity', identity);
    }
    const needed = neededAccess(c.req.method, c.req.path);
    if (!allows(c.var.identity.access, needed)) {
      throw new ApiError(
        403,
        'forbidden',
        `This ${c.var.identity.keyId.startsWith('oidc:') ? 'token' : 'key'} has ${c.var.identity.access} access; ${c.req.method} ${c.req.path} needs ${needed}. ${needed === 'admin' ? 'Use an admin key (`engram keys create --project <name> --admin`)' : `Use a key with ${needed} access (\`engram keys create --project <name> --access ${needed}\`)`} or a token granting engram:${needed}.`,
        { 'WWW-Authenticate': 'Bearer realm="engram", error="insufficient_scope"' },
      );
    }
    const { keyId, project } = c.var.identity;
    const decision = context.takeToken
      ? await context.takeToken(keyId, project)
      : limiter.take(keyId);
    const projectDecision =
      decision.allowed && context.projectLimiter ? context.projectLimiter.take(project) : undefined;
    if (!decision.allowed || projectDecision?.allowed === false) {
      const denied = projectDecision ?? decision;
      const limit =
        projectDecision && config.rateLimit.project
          ? `The project's rate limit of ${config.rateLimit.project.requestsPerSecond} requests per second (burst ${config.rateLimit.project.burst})`
          : `Rate limit of ${config.rateLimit.requestsPerSecond} requests per second (burst ${config.rateLimit.burst})${config.rateLimit.project ? ` per key, or ${config.rateLimit.project.requestsPerSecond} per project,` : ''}`;
      throw new ApiError(
        429,
        'rate_limited',
        `${limit} reached for this key; retry after ${denied.retryAfterSeconds} s.`,
        { 'Retry-After': String(denied.retryAfterSeconds) },
      );
    }
    c.header('X-RateLimit-Remaining', String(decision.remaining));
    await next();
  };
  for (const path of [
    '/v1/*',
    '/v2/*',
    '/v3/*',
    '/api/*',
    '/memories',
    '/memories/*',
    '/search',
    '/mcp',
  ]) {
    app.use(path, authenticate);
  }

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    description: 'An API key from `engram keys create --project <name>`.',
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'apiKeyHeader', {
    type: 'apiKey',
    in: 'header',
    name: 'X-API-Key',
  });

  app.openapi(
    createRoute({
      method: 'get',
      path: '/healthz',
      tags: ['operations'],
      summary: 'The process is up',
      responses: {
        200: {
          content: { 'application/json': { schema: z.object({ status: z.literal('ok') }) } },
          description: 'Up.',
        },
      },
    }),
    (c) => c.json({ status: 'ok' as const }, 200),
  );

  const readiness = z.object({
    status: z.enum(['ready', 'unavailable']),
    checks: z.record(z.string(), z.string()),
    models: z.record(z.string(), z.string()).optional().openapi({
      description:
        'The last result of one tiny call to the embedder and the LLM, refreshed in the background at most once a minute: `ok`, `off`, `checking`, or what failed. Reported, but a model provider outage does not take replicas out of service.',
    }),
  });
  app.openapi(
    createRoute({
      method: 'get',
      path: '/readyz',
      tags: ['operations'],
      summary: 'The stores and the queue can be reached',
      responses: {
        200: { content: { 'application/json': { schema: readiness } }, description: 'Ready.' },
        503: {
          content: { 'application/json': { schema: readiness } },
          description: 'Not ready (or shutting down).',
        },
      },
    }),
    async (c) => {
      const checks: Record<string, string> = {};
      const run = async (name: string, check: () => unknown) => {
        try {
          await check();
          checks[name] = 'ok';
        } catch (error) {
          // Prefixed with the adapter (`[engram/pgvector] ...`): says which store failed.
          checks[name] = describeError(error).slice(0, 300);
        }
      };
      const [models] = await Promise.all([
        context.projects.checkModels?.(),
        run('keys', () => keys.activeCount()),
        run('store', () => context.projects.check()),
        run('queue', () => context.jobs.ping()),
      ]);
      if (state.shuttingDown) checks.server = 'shutting down';
      const ready = Object.values(checks).every((value) => value === 'ok');
      const body = { checks, ...(models ? { models } : {}) };
      return ready
        ? c.json({ status: 'ready' as const, ...body }, 200)
        : c.json({ status: 'unavailable' as const, ...body }, 503);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/metrics',
      tags: ['operations'],
      summary: 'Prometheus metrics',
      description:
        'Needs the metrics token (`ENGRAM_METRICS_TOKEN`) as `Authorization: Bearer <token>`; without one configured, metrics are served only on the metrics port (`ENGRAM_METRICS_PORT`), or here with `--insecure-local`.',
      responses: {
        200: {
          content: { 'text/plain': { schema: z.string() } },
          description: 'Metrics in the Prometheus text format.',
        },
        401: { description: 'The metrics token is missing or wrong.' },
        404: { description: 'Metrics are not served on this port.' },
      },
    }),
    (c) => answerMetrics(c, context, config.insecureLocal) as never,
  );

  registerApiRoutes(app, context);
  registerBrowseRoutes(app, context);
  registerUiRoutes(app);
  registerMaintenanceRoutes(app, context);
  registerMem0Routes(app, context);
  registerMem0PlatformRoutes(app, context);
  registerMcpRoute(app, context);

  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'Engram',
      version: '1',
      description:
        'Long-term memory for AI agents. Every memory belongs to the project of the API key that wrote it.',
    },
  });

  app.notFound((c) =>
    c.json(
      errorBody('not_found', `No route ${c.req.method} ${c.req.path}; see /openapi.json.`),
      404,
    ),
  );

  app.onError((error, c) => {
    if (error instanceof HTTPException && !(error.cause instanceof ApiError)) {
      const status = error.status;
      const code =
        status === 413 ? 'payload_too_large' : status === 401 ? 'unauthorized' : 'invalid_argument';
      return c.json(
        errorBodyFor(c, code, error.message || 'The request is malformed.'),
        status >= 400 && status < 500 ? status : 400,
      );
    }
    return answerError(error, c, context);
  });

  return app;
}
