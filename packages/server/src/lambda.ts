import { handle, type LambdaContext, type LambdaEvent } from 'hono/aws-lambda';
import type { Logger } from 'pino';
import { type AppContext, runAdd } from './app-context.js';
import { openServingKeyStore } from './bootstrap-key.js';
import { createRateLimiter } from './rate-limiter.js';
import { createServerApp } from './server-app.js';
import { loadServerConfig, type ServerConfig } from './server-config.js';
import { createLogger, openShared } from './server-runtime.js';

/** Settings of {@link createLambdaHandler}; each defaults to what `engram serve` would use. */
export interface LambdaHandlerOptions {
  /**
   * The server configuration. Default: `loadServerConfig()`, i.e. the environment variables of
   * the function (ENGRAM_HOME, ENGRAM_VECTOR_STORE, ENGRAM_VECTOR_STORE_URL, REDIS_URL, ...).
   */
  config?: ServerConfig;
  /** Logger of the requests. Default: JSON lines on standard output, which Lambda collects. */
  logger?: Logger;
}

/** An AWS Lambda handler for API Gateway (REST and HTTP APIs), function URLs and ALB. */
export type LambdaHandler = (
  event: LambdaEvent,
  context?: LambdaContext,
) => ReturnType<ReturnType<typeof handle>>;

async function openLambdaApp(options: LambdaHandlerOptions) {
  const config = options.config ?? loadServerConfig();
  const logger = options.logger ?? createLogger(config.logLevel);
  const keys = await openServingKeyStore(config);
  if (!config.insecureLocal && keys.activeCount() === 0) {
    keys.close();
    throw new Error(
      `No API keys exist in ${config.dataDir}. Create one with \`engram keys create --project <name>\` on the volume the function mounts as ENGRAM_HOME (e.g. EFS).`,
    );
  }
  const shared = await openShared(config, logger);
  const context: AppContext = {
    config,
    keys,
    projects: shared.projects,
    jobs: shared.jobs,
    metrics: shared.metrics,
    logger,
    limiter: createRateLimiter(config.rateLimit),
    state: { shuttingDown: false },
  };
  // A frozen function runs no background work: with REDIS_URL, `async: true` adds wait for an
  // `engram worker` elsewhere; without it, they run inside the invocation's process.
  await shared.jobs.startWorkers(config.queue.inProcessWorkers, (data, job) =>
    runAdd(context, data, 'async', job),
  );
  return handle(createServerApp(context));
}

/**
 * The HTTP API of `engram serve` as an AWS Lambda handler. The stores, keys and queue open on
 * the first invocation and stay open for the warm ones; a failed start is retried on the next.
 */
export function createLambdaHandler(options: LambdaHandlerOptions = {}): LambdaHandler {
  let opening: ReturnType<typeof openLambdaApp> | undefined;
  return async (event, lambdaContext) => {
    opening ??= openLambdaApp(options).catch((error: unknown) => {
      opening = undefined;
      throw error;
    });
    const run = await opening;
    return run(event, lambdaContext);
  };
}

/** The handler to name in the function's configuration (`handler` of `@engram/server/lambda`). */
export const handler: LambdaHandler = createLambdaHandler();
