// The in-process app the route tests drive: the real server app over a hash embedder, no LLM,
// API keys and project databases in a test directory, an in-memory job queue, silent logs.
import { pino } from 'pino';
import { apiKeyStorePath, openApiKeyStore } from './api-keys.js';
import type { AppContext } from './app-context.js';
import { createMemoryJobQueue } from './job-queue.js';
import { createServerMetrics } from './metrics.js';
import { createProjectMemories } from './project-memories.js';
import { createRateLimiter } from './rate-limiter.js';
import { createServerApp } from './server-app.js';
import { loadServerConfig, type ServerConfig } from './server-config.js';

/** How {@link openTestApp} configures the app. */
export interface TestAppOptions {
  /** Where keys and project databases live. */
  dataDir: string;
  /** Environment read by `loadServerConfig`, over `ENGRAM_LLM=none` and `ENGRAM_EMBEDDER=hash`. */
  env?: Record<string, string>;
  /** Fields set over the loaded configuration. */
  overrides?: Partial<ServerConfig>;
  /** The clock of the project memories. */
  now?: () => Date;
  /** Whether the metrics count each project's vectors, as the server's own wiring does. */
  countVectors?: boolean;
}

/** An app, the context it runs on, and how to release both. */
export interface TestApp {
  /** The Hono app: call `app.request(...)`. */
  app: ReturnType<typeof createServerApp>;
  /** What the app runs on; tests may change its configuration, state and hooks. */
  context: AppContext;
  /** Closes the job queue, the project memories and the key store. */
  close: () => Promise<void>;
}

/** Opens the real server app in process over `dataDir`. */
export function openTestApp(options: TestAppOptions): TestApp {
  const config: ServerConfig = {
    ...loadServerConfig(
      { dataDir: options.dataDir },
      { ENGRAM_LLM: 'none', ENGRAM_EMBEDDER: 'hash', ...options.env },
    ),
    ...options.overrides,
  };
  const keys = openApiKeyStore(apiKeyStorePath(options.dataDir));
  const metrics = options.countVectors
    ? createServerMetrics(() => context.projects.counts(), config.metrics)
    : createServerMetrics();
  const context: AppContext = {
    config,
    keys,
    projects: createProjectMemories(config, metrics, options.now ? { now: options.now } : {}),
    jobs: createMemoryJobQueue({ attempts: 1, backoffMs: 1 }),
    metrics,
    logger: pino({ level: 'silent' }),
    limiter: createRateLimiter(config.rateLimit),
    state: { shuttingDown: false },
  };
  return {
    app: createServerApp(context),
    context,
    close: async () => {
      await context.jobs.close(0);
      await context.projects.close();
      context.keys.close();
    },
  };
}

/** What {@link requestApp} sends. */
export interface TestRequest {
  /** Default: `GET`. */
  method?: string;
  /** The `Authorization` header, e.g. `Bearer <key>`. */
  authorization?: string;
  /** Sent as JSON; a string is sent as it is. */
  body?: unknown;
}

/** One request to an in-process app. */
export function requestApp(
  app: TestApp['app'],
  path: string,
  { method = 'GET', authorization, body }: TestRequest = {},
): Promise<Response> {
  return Promise.resolve(
    app.request(path, {
      method,
      headers: {
        ...(authorization === undefined ? {} : { Authorization: authorization }),
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      ...(body === undefined
        ? {}
        : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    }),
  );
}
